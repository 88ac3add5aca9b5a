#include "benchmarks/loadgen/system_probe.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace batchcast::bench {

std::uint64_t raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
      limit = raised;
  }
  return limit.rlim_cur;
}

namespace {

std::optional<std::uint64_t> read_rss_bytes(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) != 0)
      continue;
    std::istringstream fields{line.substr(6)};
    std::uint64_t kib = 0;
    if (fields >> kib)
      return kib * 1024;
  }
  return std::nullopt;
}

std::optional<double> read_cpu_seconds(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text;
  std::getline(in, text);
  // The command name may hold spaces and parentheses; fields resume after
  // the last ')'. utime and stime are fields 14 and 15 of the whole line,
  // so the 12th and 13th after the name.
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return std::nullopt;
  std::istringstream fields{text.substr(close + 1)};
  std::string skipped;
  for (int i = 0; i < 11; ++i)
    fields >> skipped;
  unsigned long long user = 0, system = 0;
  if (!(fields >> user >> system))
    return std::nullopt;
  return static_cast<double>(user + system) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

std::optional<process_sample> sample_process(int pid) {
  auto rss = read_rss_bytes(pid);
  auto cpu = read_cpu_seconds(pid);
  if (!rss || !cpu)
    return std::nullopt;
  return process_sample{*rss, *cpu};
}

double own_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::optional<process_sample> sample_processes(const std::vector<int>& pids) {
  process_sample total;
  for (int pid : pids) {
    auto one = sample_process(pid);
    if (!one)
      return std::nullopt;
    total.rss_bytes += one->rss_bytes;
    total.cpu_seconds += one->cpu_seconds;
  }
  return total;
}

}  // namespace batchcast::bench
