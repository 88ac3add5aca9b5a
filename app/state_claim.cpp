#include "app/state_claim.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "storage/sqlite_db.hpp"

namespace batchcast::app {

namespace {

// The PID the holder wrote into the lock file, or "" if unreadable.
std::string holder_of(int fd) {
  char text[32] = {};
  auto got = ::pread(fd, text, sizeof text - 1, 0);
  if (got <= 0)
    return "";
  std::string pid{text, static_cast<std::size_t>(got)};
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == '\0'))
    pid.pop_back();
  return pid;
}

}  // namespace

state_claim::state_claim(const std::string& database_path) {
  // The lock file, and SQLite's -wal, -shm and journal files, go next to
  // the database: for /dev/null or a FIFO given by mistake that would be
  // /dev, and such a file holds no database anyway.
  if (auto problem = storage::sqlite_path_problem(database_path);
      !problem.empty())
    throw std::runtime_error("cannot open state database " + database_path +
                             ": " + problem);
  auto path = database_path + ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw std::runtime_error("cannot open " + path +
                             " to claim the state "
                             "database: " +
                             std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    auto error = errno;
    auto holder = holder_of(fd_);
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK)
      throw std::runtime_error(
          "state database " + database_path +
          " is already served by another batchcast serve" +
          (holder.empty() ? std::string{} : " (pid " + holder + ")") +
          "; each node needs a state database of its own");
    throw std::runtime_error("cannot lock " + path + ": " +
                             std::strerror(error));
  }
  // The same file under another name has its own lock file, but not its
  // own inode.
  database_fd_ =
      ::open(database_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (database_fd_ < 0) {
    auto error = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("cannot open state database " + database_path +
                             ": " + std::strerror(error));
  }
  if (::flock(database_fd_, LOCK_EX | LOCK_NB) != 0) {
    auto error = errno;
    ::close(database_fd_);
    ::close(fd_);
    database_fd_ = fd_ = -1;
    if (error == EWOULDBLOCK)
      throw std::runtime_error(
          "state database " + database_path +
          " is already served by another batchcast serve, which holds "
          "the file itself: under another name (a symbolic or hard link "
          "to the same file), or its " +
          path + " was deleted; each node needs a state database of its own");
    throw std::runtime_error("cannot lock " + database_path + ": " +
                             std::strerror(error));
  }
  // Written once both claims hold, for the message a second serve prints
  // (the lock, not this text, is what keeps it out).
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0)
    (void)::pwrite(fd_, pid.data(), pid.size(), 0);
}

state_claim::~state_claim() {
  // Each close drops its flock.
  if (database_fd_ >= 0)
    ::close(database_fd_);
  if (fd_ >= 0)
    ::close(fd_);
}

}  // namespace batchcast::app
