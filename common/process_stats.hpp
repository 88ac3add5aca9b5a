// What the kernel says about this process, read from /proc at each scrape
// for the standard process_* metrics. Each figure is missing when /proc
// could not be read (another platform, or a sandbox without it).
#pragma once

#include <cstdint>
#include <optional>

namespace batchcast {

struct process_stats {
  std::optional<std::uint64_t> resident_memory_bytes;  // /proc/self/statm
  std::optional<std::uint64_t> virtual_memory_bytes;   // /proc/self/statm
  std::optional<std::uint64_t> open_fds;               // /proc/self/fd
  std::optional<std::uint64_t> max_fds;                // RLIMIT_NOFILE soft
  std::optional<double> cpu_seconds;                   // user + system
  std::optional<double> start_time_seconds;            // unix time
};

process_stats read_process_stats();

}  // namespace batchcast
