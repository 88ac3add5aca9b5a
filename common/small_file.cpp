#include "common/small_file.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace batchcast {

namespace {

class file_descriptor {
 public:
  explicit file_descriptor(int fd) : fd_{fd} {}
  ~file_descriptor() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;

  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::string read_small_file(const std::string& path, std::size_t max_bytes,
                            const std::string& what) {
  auto cannot_read = [&](const std::string& reason) {
    return std::runtime_error("cannot read " + what + " " + path + ": " +
                              reason);
  };
  file_descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.get() < 0)
    throw cannot_read(std::strerror(errno));
  // A folder opens, and reading it fails with EISDIR, whose text ("Is a
  // directory") does not say what to do about it.
  struct stat status {};
  if (::fstat(file.get(), &status) == 0 && S_ISDIR(status.st_mode))
    throw cannot_read("it is a folder; name the file inside it");
  std::string contents;
  char chunk[4096];
  for (;;) {
    auto got = ::read(file.get(), chunk, sizeof chunk);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      throw cannot_read(std::strerror(errno));
    if (got == 0)
      return contents;
    // One byte past the limit is enough to know: stop reading there.
    if (contents.size() + static_cast<std::size_t>(got) > max_bytes)
      throw cannot_read("larger than " + std::to_string(max_bytes) + " bytes");
    contents.append(chunk, static_cast<std::size_t>(got));
  }
}

}  // namespace batchcast
