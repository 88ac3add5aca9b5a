#include "app/secret_hygiene.hpp"

#include <cstddef>

#include <sys/stat.h>

#include "common/log.hpp"

namespace batchcast::app {

namespace {

// Sixteen random characters are well beyond guessing over a network
// (`openssl rand -hex 32` gives 64).
constexpr std::size_t shortest_token = 16;

}  // namespace

void warn_if_anyone_can_read(const std::string& path, const std::string& what) {
  // Only a regular file keeps what it holds for any later reader; for a
  // device (/dev/null is mode 666), a FIFO a deployment tool hands over
  // or a folder the warning would be about nothing, and would teach
  // operators to ignore it.
  struct stat file {};
  if (path.empty() || ::stat(path.c_str(), &file) != 0 ||
      !S_ISREG(file.st_mode) || (file.st_mode & S_IROTH) == 0)
    return;
  logger("app")->warn(
      "{} {} can be read by every user of this machine (mode {:o}); chmod "
      "o-r it",
      what, path, file.st_mode & 07777);
}

void warn_if_short(const std::string& token, const std::string& what) {
  if (token.empty() || token.size() >= shortest_token)
    return;
  logger("app")->warn(
      "{} is {} characters long; use {} random characters or more "
      "(openssl rand -hex 32)",
      what, token.size(), shortest_token);
}

}  // namespace batchcast::app
