// The one exception type the storage layer throws.
//
// Storage code is synchronous and throws on real failures (the database
// cannot be opened, a statement fails, the disk is full). "Not found" is
// never an exception: lookups return an empty optional. The actors that own
// storage objects catch storage_error and turn it into a caf::error, so
// nothing throws across an actor or an Asio handler.
#pragma once

#include <stdexcept>
#include <string>

#include <sqlite3.h>

namespace batchcast::storage {

class storage_error : public std::runtime_error {
 public:
  // `sqlite_code` is the SQLite result code when the failure came from
  // SQLite (SQLITE_FULL, SQLITE_BUSY, ...), otherwise 0.
  storage_error(const std::string& what, int sqlite_code = 0)
      : std::runtime_error(what), sqlite_code_(sqlite_code) {}

  int sqlite_code() const noexcept { return sqlite_code_; }

  // True when another connection held a lock this one needed for the
  // whole busy timeout: the same call may well succeed later.
  bool lock_timed_out() const noexcept { return sqlite_code_ == SQLITE_BUSY; }

 private:
  int sqlite_code_;
};

}  // namespace batchcast::storage
