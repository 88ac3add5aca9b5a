#include "benchmarks/loadgen/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace batchcast::bench {

namespace {

double nearest_rank(const std::vector<double>& sorted, double fraction) {
  auto rank = static_cast<std::size_t>(
      std::ceil(fraction * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

latency_summary summarize(std::vector<double>& samples) {
  latency_summary summary;
  if (samples.empty())
    return summary;
  std::sort(samples.begin(), samples.end());
  summary.count = samples.size();
  summary.p50 = nearest_rank(samples, 0.50);
  summary.p90 = nearest_rank(samples, 0.90);
  summary.p99 = nearest_rank(samples, 0.99);
  summary.max = samples.back();
  return summary;
}

void print_figure(const std::string& server, const std::string& figure,
                  double value, const std::string& unit,
                  const std::string& extra) {
  std::printf("figure=%s value=%.6g unit=%s server=%s%s%s\n", figure.c_str(),
              value, unit.c_str(), server.c_str(), extra.empty() ? "" : " ",
              extra.c_str());
  std::fflush(stdout);
}

void print_latency(const std::string& server, const std::string& prefix,
                   const latency_summary& summary, const std::string& extra) {
  if (summary.count == 0)
    return;
  print_figure(server, prefix + "_p50", summary.p50, "ms", extra);
  print_figure(server, prefix + "_p99", summary.p99, "ms", extra);
  print_figure(server, prefix + "_max", summary.max, "ms", extra);
}

}  // namespace batchcast::bench
