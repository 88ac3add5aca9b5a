// A small RAII layer over the SQLite C API: a connection, prepared
// statements (with a per-connection cache), and a transaction guard.
//
// Every failure throws storage_error carrying the primary SQLite result
// code (SQLITE_BUSY, SQLITE_FULL, ...) and a message that names the file.
// A connection and its statements are used by one thread at a time (they
// are opened in SQLite's multi-thread mode, without per-call mutexes).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace batchcast::storage {

enum class open_mode {
  read_only,          // never writes; the file must exist
  read_write,         // the file must exist
  read_write_create,  // creates the file when missing
};

// How long a statement waits on another connection's lock before failing
// with SQLITE_BUSY.
inline constexpr std::chrono::milliseconds default_busy_timeout{5000};

class sqlite_connection;
class storage_error;

// Why `path` cannot hold a database as the file it names, in words that
// follow "PATH: ", or "" (also when nothing is there yet): an empty path
// or ":memory:" is a database in memory to SQLite, gone at exit, and one
// that starts with "file:" a URI (Debian's SQLite reads URIs by default),
// so that two names of one file would escape the one-serve-per-file
// claim; a folder, a device or a FIFO holds no database, and SQLite would
// put its journal beside it (/dev/null-journal) or block on the FIFO.
std::string sqlite_path_problem(const std::string& path);

// One prepared statement. Parameters are 1-based, columns 0-based, as in
// SQLite. Text is bound by copy, so the caller's buffers may go away.
class sqlite_statement {
 public:
  sqlite_statement(sqlite_connection& db, std::string_view sql);
  ~sqlite_statement();
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  sqlite_statement& bind(int index, std::int64_t value);
  sqlite_statement& bind(int index, std::string_view text);
  sqlite_statement& bind_null(int index);

  // True when a row is ready to read; false when the statement is done
  // (and has been reset, so it may be bound and run again).
  bool step();

  // Runs a statement that returns no rows.
  void run();

  bool column_is_null(int column) const;
  std::int64_t column_int64(int column) const;
  // NULL reads as the empty string.
  std::string column_text(int column) const;

  // Ends the current run and forgets the bindings. A statement that is not
  // reset keeps its read snapshot (and in WAL mode, stale data) alive.
  void reset() noexcept;

 private:
  [[noreturn]] void fail(int code, std::string_view doing) const;

  sqlite_connection& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// A cached statement on loan: resets it when the scope ends, so that an
// early return or an exception never leaves it mid-run.
class statement_use {
 public:
  explicit statement_use(sqlite_statement& statement) : statement_(statement) {}
  ~statement_use() { statement_.reset(); }
  statement_use(const statement_use&) = delete;
  statement_use& operator=(const statement_use&) = delete;

  sqlite_statement* operator->() const { return &statement_; }
  sqlite_statement& operator*() const { return statement_; }

 private:
  sqlite_statement& statement_;
};

class sqlite_connection {
 public:
  // Opens `path`. Throws storage_error when it cannot be opened.
  sqlite_connection(
      const std::string& path, open_mode mode,
      std::chrono::milliseconds busy_timeout = default_busy_timeout);
  ~sqlite_connection();
  sqlite_connection(const sqlite_connection&) = delete;
  sqlite_connection& operator=(const sqlite_connection&) = delete;

  // Runs one or more statements that return no rows (DDL, pragmas).
  void exec(std::string_view sql);

  // Runs a single-row pragma or query and returns its first column as text
  // ("" when there is no row), e.g. "PRAGMA journal_mode=WAL" -> "wal".
  std::string query_text(std::string_view sql);

  // A statement prepared once per connection and kept for reuse.
  // The reference stays valid as long as the connection lives.
  statement_use use(const std::string& sql);

  // Throws storage_error when the file this connection opened is no
  // longer at its path: deleted, or replaced by another file (a restore
  // done with `mv`); or when a connection of this process found the file
  // corrupt (see fail). The connection would go on reading and writing the
  // old file, which nobody else sees any more. Nothing is checked for an
  // in-memory or temporary database.
  //
  // Once any connection of this process finds PATH-wal or PATH-shm
  // gone or replaced, every connection of this process to that file
  // leaves the files at the path alone when it closes (see
  // side_files_abandoned): they may now belong to another process.
  void check_file_in_place();

  // Throws storage_error, lasting until a restart, once a connection of
  // this process found the file corrupt (see fail). For writes that do
  // not otherwise call check_file_in_place.
  void refuse_if_corrupt() const;

  // From now on check_file_in_place also holds the WAL's side files,
  // PATH-wal and PATH-shm, to where they were: a connection writing into
  // a deleted WAL acknowledges commits that a crash then loses, and one
  // mapping a deleted -shm no longer shares its index with other
  // processes. Call once the connection is in WAL mode and has read the
  // database, which creates both; a side file missing then is not held.
  void hold_wal_files_in_place();

  // True once a connection of this process to the same database file
  // found one of its side files gone or replaced. From then on each of them
  // closes without a checkpoint and without deleting PATH-wal and
  // PATH-shm (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE and
  // SQLITE_FCNTL_PERSIST_WAL): those paths may now hold another
  // process's WAL, whose commits the delete would throw away, and the
  // checkpoint would copy pages of the old WAL into the database file
  // under that WAL's newer ones, which can leave it malformed.
  bool side_files_abandoned() const;

  // True when PATH-wal is not the WAL this connection holds (see
  // hold_wal_files_in_place) and has frames beyond its header: another
  // process opened the database after the held WAL was deleted and has
  // written since. False when nothing is held.
  bool new_wal_has_frames() const;

  // How long statements wait on another connection's lock from now on.
  void set_busy_timeout(std::chrono::milliseconds timeout);

  std::int64_t last_insert_rowid() const;
  // Rows changed by the most recent INSERT, UPDATE or DELETE.
  int changes() const;

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // Throws storage_error for `code`, with this connection's error message.
  // SQLITE_CORRUPT and SQLITE_NOTADB last until a restart (after a
  // restore): they mark the file corrupt for every connection of this
  // process, whose check_file_in_place fails from then on, and the
  // message says what to do.
  [[noreturn]] void fail(int code, std::string_view doing) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  // The files check_file_in_place holds to their device and inode at
  // open: the database itself (none for an in-memory one), then any side
  // files.
  struct file_identity {
    std::string path;
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
  };
  void hold_in_place(const std::string& path);
  // The first held file that is no longer at its path, with the errno of
  // its stat (0 when something else is there); nullptr when all are.
  const file_identity* moved_file(int& error,
                                  bool side_files_only = false) const;
  // What an operator does about a corrupt file, appended to its errors.
  std::string corruption_advice() const;
  // The error for a corruption SQLite reported; marks the file corrupt
  // when this process may write it (see written_).
  storage_error corruption(const std::string& message, int code) const;
  // Marks the database file abandoned for every connection of this
  // process, then applies that to this one.
  void abandon_side_files();
  // Sets the close-time settings on this connection once the file is
  // abandoned. Only this connection's own thread touches its handle.
  void apply_abandonment();
  std::vector<file_identity> held_in_place_;
  // Shared by every connection of this process to the same database file
  // (by device and inode); null for an in-memory or temporary database.
  std::shared_ptr<std::atomic<bool>> abandoned_;
  // Set once any connection of this process found the file corrupt.
  std::shared_ptr<std::atomic<bool>> corrupt_;
  // Set while a connection of this process may write the file. Only then
  // is the file marked corrupt for good: a write could spread the
  // damage. A file this process only reads (another application's
  // database, such as Django's) fails that read, and reads well again
  // once restored in place.
  std::shared_ptr<std::atomic<bool>> written_;
  bool abandonment_applied_ = false;
  // Emptied before the close: SQLite cannot close a connection that still
  // has prepared statements.
  std::unordered_map<std::string, std::unique_ptr<sqlite_statement>> cache_;
};

// BEGIN ... COMMIT, rolled back when the guard goes away uncommitted.
class sqlite_transaction {
 public:
  enum class kind {
    deferred,   // takes locks as statements need them (readers)
    immediate,  // takes the write lock now, so busy_timeout applies to it
  };

  explicit sqlite_transaction(sqlite_connection& db,
                              kind how = kind::immediate);
  ~sqlite_transaction();
  sqlite_transaction(const sqlite_transaction&) = delete;
  sqlite_transaction& operator=(const sqlite_transaction&) = delete;

  // Makes the changes durable (as durable as the connection's
  // synchronous setting). Throws storage_error; the guard then rolls back.
  void commit();

 private:
  sqlite_connection& db_;
  bool open_ = true;
};

// `name` as an SQL identifier in double quotes, for table names that come
// from configuration.
std::string quote_identifier(std::string_view name);

}  // namespace batchcast::storage
