// Prometheus's text exposition format, version 0.0.4: each metric family
// is a `# HELP` line, a `# TYPE` line, then its samples, one per line
// (`name{label="value"} number`). Counters end in `_total`; a histogram is
// its cumulative `_bucket{le="..."}` samples, ending with le="+Inf", then
// `_sum` and `_count`.
//
// The writer only formats; which families exist, and what they mean, is
// decided by write_node_metrics below. Not thread-safe: one writer per
// scrape.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/metrics.hpp"

namespace batchcast {

// The Content-Type of a scrape answer.
inline constexpr std::string_view prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

class prometheus_text {
 public:
  enum class kind { counter, gauge, histogram };

  // Starts a family: its HELP and TYPE lines. Samples written next belong
  // to it. A counter's name must end in `_total`.
  void family(std::string_view name, kind type, std::string_view help);

  void sample(std::string_view name, double value);
  void sample(std::string_view name, std::string_view label,
              std::string_view label_value, double value);

  // A whole histogram family: cumulative buckets, sum and count. The
  // count is the sum of the buckets as read, so the +Inf bucket and
  // `_count` always agree even while observations go on.
  void histogram(std::string_view name, std::string_view help,
                 const duration_histogram& observed);

  const std::string& text() const { return text_; }

 private:
  void value(double number);

  std::string text_;
};

// Label values and HELP text escaped as the format requires.
std::string escape_label_value(std::string_view text);
std::string escape_help(std::string_view text);

// Everything a node exposes: the build, its counters, the cluster peers
// (when a source is registered) and the process. `open_websockets` is read
// by the caller from the network layer at scrape time.
struct node_snapshot {
  std::int64_t open_websockets = 0;
  // Every connection the public listener holds, whatever it is doing:
  // what --max-connections caps.
  std::int64_t open_public_connections = 0;
};

std::string write_node_metrics(const metrics& counted,
                               const node_snapshot& snapshot);

}  // namespace batchcast
