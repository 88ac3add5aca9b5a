// One `serve` per state database. Two processes serving one file would
// both acknowledge publishes, but each delivers only to its own watchers,
// so watchers of the other never hear of them. A serve claims the file
// with an exclusive flock() on "<database>.lock" beside it, held while it
// runs and dropped by the kernel however the process ends (kill -9
// included), so a stale claim cannot block a restart. The admin command
// and other readers take no claim and keep working alongside a serve.
//
// The lock file is named after the path, so a second serve given another
// name for the same file (a symbolic or hard link) would get a lock file
// of its own. The claim therefore also takes a flock() on the database
// file itself, which every name of the file shares. That descriptor is
// opened before SQLite opens the file and closed only after SQLite has
// closed it, because closing any descriptor of the database while SQLite
// has it open would drop the POSIX locks SQLite holds on it in this
// process. (flock and POSIX locks do not meet on Linux's local
// filesystems; on NFS, where flock is built on POSIX locks, keep one
// serve per file by other means.)
#pragma once

#include <string>

namespace batchcast::app {

class state_claim {
 public:
  // Claims `database_path`, creating an empty file if there is none
  // (SQLite takes an empty file for a new database); throws
  // std::runtime_error naming the file, and the PID of the serve holding
  // it when it can be read, if another process (or another claim in this
  // one) holds it. Call before SQLite opens the file; destroy after
  // SQLite has closed it.
  explicit state_claim(const std::string& database_path);
  ~state_claim();

  state_claim(const state_claim&) = delete;
  state_claim& operator=(const state_claim&) = delete;

 private:
  int fd_ = -1;           // "<database>.lock"
  int database_fd_ = -1;  // the database file, by whatever name
};

}  // namespace batchcast::app
