// One `serve` per state database. Two processes serving one file would
// both acknowledge publishes, but each delivers only to its own watchers,
// so watchers of the other never hear of them. A serve claims the file
// with an exclusive flock() on "<database>.lock" beside it, held while it
// runs and dropped by the kernel however the process ends (kill -9
// included), so a stale claim cannot block a restart. The admin command
// and other readers take no claim and keep working alongside a serve.
//
// A separate file, not the database itself: closing any descriptor of the
// database would drop the POSIX locks SQLite holds on it in this process.
#pragma once

#include <string>

namespace batchcast::app {

class state_claim {
 public:
  // Claims `database_path`; throws std::runtime_error naming the file, and
  // the PID of the serve holding it when it can be read, if another
  // process (or another claim in this one) holds it.
  explicit state_claim(const std::string& database_path);
  ~state_claim();

  state_claim(const state_claim&) = delete;
  state_claim& operator=(const state_claim&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace batchcast::app
