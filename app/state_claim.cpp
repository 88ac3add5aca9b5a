#include "app/state_claim.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

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
  // For the message a second serve prints; the lock, not this text, is
  // what keeps it out.
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0)
    (void)::pwrite(fd_, pid.data(), pid.size(), 0);
}

state_claim::~state_claim() {
  if (fd_ >= 0)
    ::close(fd_);  // drops the flock
}

}  // namespace batchcast::app
