// What the load generator reads from the operating system: its own file
// descriptor limit, and the memory and CPU time of the server under test
// (from /proc, so the server needs no cooperation).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace batchcast::bench {

// Raises the soft RLIMIT_NOFILE to the hard limit, since every client
// connection is a descriptor. Returns the soft limit now in force.
std::uint64_t raise_descriptor_limit();

struct process_sample {
  std::uint64_t rss_bytes = 0;  // VmRSS
  double cpu_seconds = 0;       // user + system time so far
};

// One sample of `pid`, or nothing when the process is gone or /proc is
// unreadable.
std::optional<process_sample> sample_process(int pid);

// This process's own user + system CPU time, in seconds, at microsecond
// resolution (/proc counts in clock ticks of 10 ms).
double own_cpu_seconds();

// The sum over `pids`; nothing if any of them could not be read, because a
// partial sum would look like a smaller footprint.
std::optional<process_sample> sample_processes(const std::vector<int>& pids);

}  // namespace batchcast::bench
