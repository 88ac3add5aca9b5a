#include "storage/sqlite_db.hpp"

#include <dirent.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

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

// "/proc/PID/fd/N" for a descriptor of this process open on the file with
// this device and inode, so that an operator can copy a deleted file back
// from it; "" when none is found (or /proc is not mounted).
std::string find_open_descriptor(std::uint64_t device, std::uint64_t inode) {
  DIR* fds = ::opendir("/proc/self/fd");
  if (fds == nullptr)
    return {};
  std::string found;
  while (const auto* entry = ::readdir(fds)) {
    if (entry->d_name[0] == '.')
      continue;
    auto link = std::string{"/proc/self/fd/"} + entry->d_name;
    struct stat target {};
    // stat follows the link to the open file, deleted or not.
    if (::stat(link.c_str(), &target) == 0 && S_ISREG(target.st_mode) &&
        static_cast<std::uint64_t>(target.st_dev) == device &&
        static_cast<std::uint64_t>(target.st_ino) == inode) {
      found = "/proc/" + std::to_string(::getpid()) + "/fd/" + entry->d_name;
      break;
    }
  }
  ::closedir(fds);
  return found;
}

// find_open_descriptor once per file: every refused commit checks again,
// and a server with many sockets open has many descriptors to look at.
std::string open_descriptor_path(std::uint64_t device, std::uint64_t inode) {
  using key = std::pair<std::uint64_t, std::uint64_t>;
  // Never destroyed: a connection may close during static destruction.
  static auto* mutex = new std::mutex;
  static auto* found = new std::map<key, std::string>;
  std::lock_guard<std::mutex> lock{*mutex};
  auto [entry, fresh] = found->try_emplace(key{device, inode});
  if (fresh)
    entry->second = find_open_descriptor(device, inode);
  return entry->second;
}

// A WAL file starts with a header of this size; frames follow it.
constexpr off_t wal_header_bytes = 32;

// The flags every connection of this process to one database file
// shares, found by the file's device and inode: one set per `kind`. An
// entry lives while a connection holds it: an inode freed by the last
// close may come back for another file, which must start unflagged.
enum class shared_flag { abandoned, corrupt, written };

std::shared_ptr<std::atomic<bool>> file_flag(shared_flag kind,
                                             std::uint64_t device,
                                             std::uint64_t inode) {
  using key = std::tuple<shared_flag, std::uint64_t, std::uint64_t>;
  // Never destroyed: a connection may close during static destruction.
  static auto* mutex = new std::mutex;
  static auto* flags = new std::map<key, std::weak_ptr<std::atomic<bool>>>;
  std::lock_guard<std::mutex> lock{*mutex};
  for (auto it = flags->begin(); it != flags->end();)
    it = it->second.expired() ? flags->erase(it) : std::next(it);
  auto& slot = (*flags)[key{kind, device, inode}];
  auto flag = slot.lock();
  if (!flag) {
    flag = std::make_shared<std::atomic<bool>>(false);
    slot = flag;
  }
  return flag;
}

}  // namespace

std::string sqlite_path_problem(const std::string& path) {
  if (path.empty() || path == ":memory:")
    return "SQLite takes it for a database in memory, gone at exit: name a "
           "file";
  if (path.rfind("file:", 0) == 0)
    return "SQLite takes it for a URI: name the file by its path (./" + path +
           " for a file of that name)";
  struct stat found {};
  if (::stat(path.c_str(), &found) == 0 && !S_ISREG(found.st_mode))
    return S_ISDIR(found.st_mode) ? "it is a folder; name a file inside it"
                                  : "not a regular file";
  return {};
}

// --- sqlite_connection ------------------------------------------------------

sqlite_connection::sqlite_connection(const std::string& path, open_mode mode,
                                     std::chrono::milliseconds busy_timeout)
    : path_(path) {
  if (auto problem = sqlite_path_problem(path); !problem.empty())
    throw storage_error("sqlite: " + path + ": " + problem);
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
  if (!held_in_place_.empty()) {
    const auto& file = held_in_place_.front();
    abandoned_ = file_flag(shared_flag::abandoned, file.device, file.inode);
    corrupt_ = file_flag(shared_flag::corrupt, file.device, file.inode);
    written_ = file_flag(shared_flag::written, file.device, file.inode);
    if (mode != open_mode::read_only)
      written_->store(true);
    // Opened after another connection found the side files gone: the
    // paths may already be another process's.
    apply_abandonment();
  }
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
  // The last close checkpoints and deletes PATH-wal and PATH-shm by name.
  // A shutdown soon after someone deleted them may come before any check
  // noticed, so the close looks once more itself.
  int error = 0;
  if (moved_file(error, /*side_files_only=*/true) != nullptr)
    abandon_side_files();
  else
    apply_abandonment();
  sqlite3_close_v2(db_);
}

bool sqlite_connection::side_files_abandoned() const {
  return abandoned_ && abandoned_->load();
}

void sqlite_connection::abandon_side_files() {
  if (abandoned_)
    abandoned_->store(true);
  apply_abandonment();
}

void sqlite_connection::apply_abandonment() {
  if (abandonment_applied_ || !side_files_abandoned())
    return;
  // Each connection sets these on its own thread (at its next check, at
  // the latest when it closes): its handle is not safe to touch from the
  // thread that found the files gone. The WAL kept open still holds what
  // this process wrote; another process's WAL at the path holds what it
  // wrote, and is left for the next open to recover.
  int keep = 1;
  sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &keep);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  abandonment_applied_ = true;
}

bool sqlite_connection::new_wal_has_frames() const {
  auto wal = path_ + "-wal";
  auto held = std::find_if(held_in_place_.begin(), held_in_place_.end(),
                           [&](const auto& each) { return each.path == wal; });
  if (held == held_in_place_.end())
    return false;
  struct stat now {};
  if (::stat(wal.c_str(), &now) != 0)
    return false;
  if (static_cast<std::uint64_t>(now.st_dev) == held->device &&
      static_cast<std::uint64_t>(now.st_ino) == held->inode)
    return false;
  return now.st_size > wal_header_bytes;
}

void sqlite_connection::fail(int code, std::string_view doing) const {
  auto message = describe(path_, doing, code, sqlite3_errmsg(db_));
  if (storage_error::is_corruption(code))
    throw corruption(message, code);
  throw storage_error(message, code & 0xff);
}

std::string sqlite_connection::corruption_advice() const {
  return "; the database file " + path_ +
         " is corrupt: stop batchcast, restore the file from a backup "
         "(or run `sqlite3 " +
         path_ +
         " .recover` into a new database and put that in its place), then "
         "start batchcast again";
}

storage_error sqlite_connection::corruption(const std::string& message,
                                            int code) const {
  if (!written_ || !written_->load())
    return storage_error(message, code & 0xff);
  storage_error error(message + corruption_advice(), code & 0xff,
                      storage_error::lasting::until_restart);
  // Marked for every connection of this process to the file, which from
  // then on refuses to read or write it: the pages it has not read yet
  // may be as damaged, and a write could spread the damage.
  if (!corrupt_ || !corrupt_->exchange(true))
    error.set_first_notice();
  return error;
}

void sqlite_connection::exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int code = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (code != SQLITE_OK) {
    std::string detail = error != nullptr ? error : sqlite3_errstr(code);
    sqlite3_free(error);
    auto message = describe(path_, text, code, detail.c_str());
    if (storage_error::is_corruption(code))
      throw corruption(message, code);
    throw storage_error(message, code & 0xff);
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

const sqlite_connection::file_identity* sqlite_connection::moved_file(
    int& error, bool side_files_only) const {
  // A file moved back to its path (a rename aside and back) is the same
  // file and used again; any other file there is not, until a restart
  // opens it.
  for (const auto& held : held_in_place_) {
    if (side_files_only && held.path == path_)
      continue;
    struct stat now {};
    error = ::stat(held.path.c_str(), &now) != 0 ? errno : 0;
    if (error == 0 && static_cast<std::uint64_t>(now.st_dev) == held.device &&
        static_cast<std::uint64_t>(now.st_ino) == held.inode)
      continue;
    return &held;
  }
  error = 0;
  return nullptr;
}

void sqlite_connection::refuse_if_corrupt() const {
  if (corrupt_ && corrupt_->load())
    throw storage_error("sqlite: " + path_ +
                            ": found corrupt earlier, no longer used" +
                            corruption_advice(),
                        SQLITE_CORRUPT, storage_error::lasting::until_restart);
}

void sqlite_connection::check_file_in_place() {
  apply_abandonment();
  refuse_if_corrupt();
  int error = 0;
  if (const auto* found = moved_file(error)) {
    // Only for the side files: with the database file alone replaced,
    // the -wal at the path is still this process's own, which the close
    // may checkpoint and delete as usual. Stays set after a side file
    // moved aside comes back: closing without a checkpoint then only
    // leaves the WAL for the next open to recover.
    int side_error = 0;
    if (moved_file(side_error, /*side_files_only=*/true) != nullptr)
      abandon_side_files();
    const auto& held = *found;
    // Another connection may already have made a new side file where
    // the deleted one was, so for those, gone and replaced read alike.
    if (held.path != path_)
      throw storage_error("sqlite: " + held.path +
                              ": this file of the database was deleted or "
                              "replaced while in use; restart to go on",
                          0, storage_error::lasting::until_restart);
    // The statuses (and an embedded directory) live on only in the file
    // this process still has open: a restart first would start from an
    // empty or another database. Say where to copy it from.
    auto open_as = open_descriptor_path(held.device, held.inode);
    auto source = open_as.empty() ? "/proc/" + std::to_string(::getpid()) +
                                        "/fd/ (the descriptor whose link "
                                        "names " +
                                        held.path + ")"
                                  : open_as;
    if (error != 0)
      throw storage_error(
          "sqlite: " + held.path + ": the database file is gone (" +
              std::strerror(error) +
              ") but this process still has it open as " + source +
              ": copy it back first (cp " + source + " " + held.path +
              "), then restart; a restart before that starts from an empty "
              "database, without the statuses (or directory) it held",
          0,
          error == ENOENT ? storage_error::lasting::until_restart
                          : storage_error::lasting::until_fixed);
    throw storage_error(
        "sqlite: " + held.path +
            ": the file was replaced since it was opened; the one "
            "this process used is still open as " +
            source +
            ": copy it from there before restarting if what it holds is "
            "wanted, as a restart opens the new one",
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
