#include "common/process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace batchcast {

namespace {

void read_memory(process_stats& stats) {
  std::ifstream statm{"/proc/self/statm"};
  std::uint64_t size_pages = 0;
  std::uint64_t resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages))
    return;
  auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  stats.virtual_memory_bytes = size_pages * page;
  stats.resident_memory_bytes = resident_pages * page;
}

// Entries of /proc/self/fd, less the one this listing opens.
void read_open_fds(process_stats& stats) {
  DIR* listing = ::opendir("/proc/self/fd");
  if (listing == nullptr)
    return;
  std::uint64_t count = 0;
  int own = ::dirfd(listing);
  while (auto* entry = ::readdir(listing)) {
    if (entry->d_name[0] == '.')
      continue;
    if (std::atoi(entry->d_name) != own)
      ++count;
  }
  ::closedir(listing);
  stats.open_fds = count;
}

void read_fd_limit(process_stats& stats) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur != RLIM_INFINITY)
    stats.max_fds = static_cast<std::uint64_t>(limit.rlim_cur);
}

// The system boot time (unix seconds), from the btime line of /proc/stat.
std::optional<std::uint64_t> boot_time() {
  std::ifstream stat{"/proc/stat"};
  std::string line;
  while (std::getline(stat, line))
    if (line.rfind("btime ", 0) == 0)
      return std::strtoull(line.c_str() + 6, nullptr, 10);
  return std::nullopt;
}

// /proc/self/stat: fields 14 and 15 are user and system CPU time, 22 the
// start time since boot, all in clock ticks. The second field (the
// command name, in parentheses) may hold spaces, so counting starts after
// its closing parenthesis.
void read_cpu_and_start(process_stats& stats) {
  std::ifstream file{"/proc/self/stat"};
  std::string text{std::istreambuf_iterator<char>{file}, {}};
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return;
  std::istringstream fields{text.substr(close + 1)};
  std::string field;
  double ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double user = 0;
  double system = 0;
  for (int number = 3; fields >> field; ++number) {
    if (number == 14)
      user = std::strtod(field.c_str(), nullptr);
    else if (number == 15)
      system = std::strtod(field.c_str(), nullptr);
    else if (number == 22) {
      stats.cpu_seconds = (user + system) / ticks_per_second;
      if (auto booted = boot_time())
        stats.start_time_seconds =
            static_cast<double>(*booted) +
            std::strtod(field.c_str(), nullptr) / ticks_per_second;
      return;
    }
  }
}

}  // namespace

process_stats read_process_stats() {
  process_stats stats;
  read_memory(stats);
  read_open_fds(stats);
  read_fd_limit(stats);
  read_cpu_and_start(stats);
  return stats;
}

}  // namespace batchcast
