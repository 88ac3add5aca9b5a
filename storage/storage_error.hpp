// The one exception type the storage layer throws.
//
// Storage code is synchronous and throws on real failures (the database
// cannot be opened, a statement fails, the disk is full). "Not found" is
// never an exception: lookups return an empty optional. The actors that own
// storage objects catch storage_error and turn it into a caf::error, so
// nothing throws across an actor or an Asio handler.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <sqlite3.h>

namespace batchcast::storage {

class storage_error : public std::runtime_error {
 public:
  // How long the failure can last.
  enum class lasting : std::uint8_t {
    until_fixed,    // until its cause goes away (a lock, a server, a schema)
    until_restart,  // the file opened was deleted or replaced at its
                    // path, or SQLite found it corrupt: only a restart
                    // (after a restore) opens a good file there
  };

  // `sqlite_code` is the SQLite result code when the failure came from
  // SQLite (SQLITE_FULL, SQLITE_BUSY, ...), otherwise 0.
  storage_error(const std::string& what, int sqlite_code = 0,
                lasting lasts = lasting::until_fixed)
      : std::runtime_error(what), sqlite_code_(sqlite_code), lasts_(lasts) {}

  int sqlite_code() const noexcept { return sqlite_code_; }

  // True when another connection held a lock this one needed for the
  // whole busy timeout: the same call may well succeed later.
  bool lock_timed_out() const noexcept { return sqlite_code_ == SQLITE_BUSY; }

  // True when nothing but a restart ends the failure (or, for a file
  // moved away, moving that same file back).
  bool needs_restart() const noexcept {
    return lasts_ == lasting::until_restart;
  }

  // True when SQLite found the database file malformed or not a database.
  // Pages it has not read yet may be as damaged, so the file is not used
  // again by this process (see sqlite_connection::check_file_in_place).
  bool corrupt() const noexcept { return is_corruption(sqlite_code_); }

  // True on the one error, in this process, that first found the file
  // corrupt: the caller that catches it tells the operator, the others
  // stay quiet.
  bool first_notice() const noexcept { return first_notice_; }
  void set_first_notice() noexcept { first_notice_ = true; }

  static bool is_corruption(int sqlite_code) noexcept {
    auto primary = sqlite_code & 0xff;
    return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
  }

 private:
  int sqlite_code_;
  lasting lasts_;
  bool first_notice_ = false;
};

}  // namespace batchcast::storage
