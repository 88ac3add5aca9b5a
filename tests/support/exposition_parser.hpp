// A strict reader of Prometheus's text exposition format 0.0.4, for tests:
// it refuses what a lenient scraper would let pass, so a test that reads
// the node's /metrics through it checks the format as well as the values.
//
// Refused (std::runtime_error naming the line): a line without its
// newline, a blank line, HELP or TYPE out of order or repeated, a sample
// of no declared family or of a family declared earlier, a malformed
// name, label set or value, a counter not named *_total, the same series
// twice, and a histogram whose buckets are not ascending and cumulative,
// do not end with le="+Inf", or disagree with its _count.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace batchcast::testing {

struct exposition {
  // "name" or "name{label=\"value\"}" (labels as written, unescaped) ->
  // value.
  std::map<std::string, double> samples;
  // family name -> "counter", "gauge" or "histogram".
  std::map<std::string, std::string> types;

  // The value of one series; throws std::out_of_range when absent.
  double at(const std::string& series) const { return samples.at(series); }
  bool has(const std::string& series) const {
    return samples.count(series) > 0;
  }
};

exposition parse_exposition(std::string_view text);

}  // namespace batchcast::testing
