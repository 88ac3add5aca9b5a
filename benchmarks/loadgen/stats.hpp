// Summaries and the output format. Every figure is one line of
// `key=value` pairs, so scripts can collect results with a split:
//
//   figure=fanout_p99 value=12.3 unit=ms server=batchcast n=10000
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace batchcast::bench {

struct latency_summary {
  std::size_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;  // same unit as the samples
};

// Nearest-rank percentiles of `samples` (sorted in place). An empty input
// gives a summary with count 0 and zeros.
latency_summary summarize(std::vector<double>& samples);

// Prints one figure line to stdout and flushes, so a run cut short by its
// deadline still leaves the figures it reached. `extra` is appended as
// is ("n=100 sessions=cold"); it may be empty.
void print_figure(const std::string& server, const std::string& figure,
                  double value, const std::string& unit,
                  const std::string& extra = {});

// Prints p50, p99 and max of `summary` as `<prefix>_p50` and so on.
void print_latency(const std::string& server, const std::string& prefix,
                   const latency_summary& summary, const std::string& extra);

}  // namespace batchcast::bench
