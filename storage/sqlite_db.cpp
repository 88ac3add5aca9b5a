#include "storage/sqlite_db.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "storage/storage_error.hpp"

namespace batchcast::storage {

namespace {

int open_flags(open_mode mode) {
  // NOMUTEX: each connection is confined to one thread at a time, so
  // SQLite's per-call locking would only cost time.
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (mode) {
    case open_mode::read_only:
      return flags | SQLITE_OPEN_READONLY;
    case open_mode::read_write:
      return flags | SQLITE_OPEN_READWRITE;
    case open_mode::read_write_create:
      return flags | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  }
  return flags | SQLITE_OPEN_READONLY;
}

std::string describe(const std::string& path, std::string_view doing, int code,
                     const char* detail) {
  std::string message = "sqlite: ";
  message += path;
  message += ": ";
  message += doing;
  message += ": ";
  message += detail != nullptr ? detail : sqlite3_errstr(code);
  return message;
}

}  // namespace

// --- sqlite_connection ------------------------------------------------------

sqlite_connection::sqlite_connection(const std::string& path, open_mode mode,
                                     std::chrono::milliseconds busy_timeout)
    : path_(path) {
  int code = sqlite3_open_v2(path.c_str(), &db_, open_flags(mode), nullptr);
  if (code != SQLITE_OK) {
    // sqlite3_open_v2 hands back a handle even on failure, so the message
    // can be read before it is released.
    std::string message =
        describe(path_, "cannot open", code,
                 db_ != nullptr ? sqlite3_errmsg(db_) : nullptr);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw storage_error(message, code & 0xff);
  }
  sqlite3_extended_result_codes(db_, 1);
  if (!path_.empty() && path_ != ":memory:")
    hold_in_place(path_);
  set_busy_timeout(busy_timeout);
}

void sqlite_connection::hold_in_place(const std::string& path) {
  struct stat opened {};
  if (::stat(path.c_str(), &opened) == 0)
    held_in_place_.push_back({path, static_cast<std::uint64_t>(opened.st_dev),
                              static_cast<std::uint64_t>(opened.st_ino)});
}

void sqlite_connection::hold_wal_files_in_place() {
  if (held_in_place_.empty())
    return;  // in memory or temporary: no files to hold
  hold_in_place(path_ + "-wal");
  hold_in_place(path_ + "-shm");
}

void sqlite_connection::set_busy_timeout(std::chrono::milliseconds timeout) {
  auto millis = std::max<std::int64_t>(timeout.count(), 0);
  if (millis > std::numeric_limits<int>::max())
    millis = std::numeric_limits<int>::max();
  sqlite3_busy_timeout(db_, static_cast<int>(millis));
}

sqlite_connection::~sqlite_connection() {
  cache_.clear();
  sqlite3_close_v2(db_);
}

void sqlite_connection::fail(int code, std::string_view doing) const {
  throw storage_error(describe(path_, doing, code, sqlite3_errmsg(db_)),
                      code & 0xff);
}

void sqlite_connection::exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int code = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (code != SQLITE_OK) {
    std::string detail = error != nullptr ? error : sqlite3_errstr(code);
    sqlite3_free(error);
    throw storage_error(describe(path_, text, code, detail.c_str()),
                        code & 0xff);
  }
}

std::string sqlite_connection::query_text(std::string_view sql) {
  sqlite_statement statement(*this, sql);
  std::string result;
  if (statement.step()) {
    result = statement.column_text(0);
    statement.reset();
  }
  return result;
}

statement_use sqlite_connection::use(const std::string& sql) {
  auto found = cache_.find(sql);
  if (found == cache_.end())
    found = cache_.emplace(sql, std::make_unique<sqlite_statement>(*this, sql))
                .first;
  return statement_use(*found->second);
}

void sqlite_connection::check_file_in_place() const {
  // A file moved back to its path (a rename aside and back) is the same
  // file and used again; any other file there is not, until a restart
  // opens it.
  for (const auto& held : held_in_place_) {
    struct stat now {};
    int error = ::stat(held.path.c_str(), &now) != 0 ? errno : 0;
    if (error == 0 && static_cast<std::uint64_t>(now.st_dev) == held.device &&
        static_cast<std::uint64_t>(now.st_ino) == held.inode)
      continue;
    // Another connection may already have made a new side file where
    // the deleted one was, so for those, gone and replaced read alike.
    if (held.path != path_)
      throw storage_error("sqlite: " + held.path +
                              ": this file of the database was deleted or "
                              "replaced while in use; restart to go on",
                          0, storage_error::lasting::until_restart);
    if (error != 0)
      throw storage_error(
          "sqlite: " + held.path + ": the file is gone (" +
              std::strerror(error) + "); restart to open it again",
          0,
          error == ENOENT ? storage_error::lasting::until_restart
                          : storage_error::lasting::until_fixed);
    throw storage_error("sqlite: " + held.path +
                            ": the file was replaced since it was opened; "
                            "restart to open the new one",
                        0, storage_error::lasting::until_restart);
  }
}

std::int64_t sqlite_connection::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

int sqlite_connection::changes() const {
  return sqlite3_changes(db_);
}

// --- sqlite_statement -------------------------------------------------------

sqlite_statement::sqlite_statement(sqlite_connection& db, std::string_view sql)
    : db_(db) {
  if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw storage_error("sqlite: " + db_.path() + ": statement too long");
  int code = sqlite3_prepare_v2(db_.handle(), sql.data(),
                                static_cast<int>(sql.size()), &stmt_, nullptr);
  if (code != SQLITE_OK)
    db_.fail(code, "cannot prepare \"" + std::string(sql) + "\"");
}

sqlite_statement::~sqlite_statement() {
  sqlite3_finalize(stmt_);
}

void sqlite_statement::fail(int code, std::string_view doing) const {
  std::string what(doing);
  what += " \"";
  what += sqlite3_sql(stmt_);
  what += "\"";
  db_.fail(code, what);
}

sqlite_statement& sqlite_statement::bind(int index, std::int64_t value) {
  int code = sqlite3_bind_int64(stmt_, index, value);
  if (code != SQLITE_OK)
    fail(code, "cannot bind");
  return *this;
}

sqlite_statement& sqlite_statement::bind(int index, std::string_view text) {
  int code = sqlite3_bind_text64(stmt_, index, text.data(), text.size(),
                                 SQLITE_TRANSIENT, SQLITE_UTF8);
  if (code != SQLITE_OK)
    fail(code, "cannot bind");
  return *this;
}

sqlite_statement& sqlite_statement::bind_null(int index) {
  int code = sqlite3_bind_null(stmt_, index);
  if (code != SQLITE_OK)
    fail(code, "cannot bind");
  return *this;
}

bool sqlite_statement::step() {
  int code = sqlite3_step(stmt_);
  if (code == SQLITE_ROW)
    return true;
  if (code == SQLITE_DONE) {
    sqlite3_reset(stmt_);
    return false;
  }
  // Read the message before the reset, which keeps the code but may
  // replace the text.
  try {
    fail(code, "cannot run");
  } catch (...) {
    reset();
    throw;
  }
}

void sqlite_statement::run() {
  while (step()) {
  }
}

bool sqlite_statement::column_is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t sqlite_statement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string sqlite_statement::column_text(int column) const {
  auto text = sqlite3_column_text(stmt_, column);
  auto size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr)
    return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(size));
}

void sqlite_statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

// --- sqlite_transaction -----------------------------------------------------

sqlite_transaction::sqlite_transaction(sqlite_connection& db, kind how)
    : db_(db) {
  db_.exec(how == kind::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

sqlite_transaction::~sqlite_transaction() {
  if (!open_)
    return;
  // A failed COMMIT or a statement error may already have ended the
  // transaction; rolling back then would only report an error nobody can
  // act on.
  if (sqlite3_get_autocommit(db_.handle()) == 0)
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void sqlite_transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

std::string quote_identifier(std::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"')
      quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

}  // namespace batchcast::storage
