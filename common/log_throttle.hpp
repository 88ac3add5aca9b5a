// Keeps a log line that any client can cause at will (a wrong token, say)
// from flooding the log: the first `burst` lines of each window are
// written, later ones are only counted, and the next line written after
// the window ends says how many were held back. A flood that stops
// mid-window leaves its last count unsaid until the next such line; the
// metrics count every occurrence regardless.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace batchcast {

class log_throttle {
 public:
  using clock = std::chrono::steady_clock;

  log_throttle(std::size_t burst, clock::duration window)
      : burst_{burst}, window_{window} {}

  // What every throttled line in batchcast uses, and the README promises:
  // five lines per ten seconds.
  log_throttle() : log_throttle(5, std::chrono::seconds{10}) {}

  // Whether to write this line: the number of lines held back since the
  // last one written, or nothing when this one is held back too. Safe to
  // call from any thread.
  std::optional<std::uint64_t> admit(clock::time_point now = clock::now());

  // " (N more like it held back)" for a count above zero, else "".
  static std::string held_back_note(std::uint64_t held_back);

 private:
  const std::size_t burst_;
  const clock::duration window_;
  std::mutex mutex_;
  clock::time_point window_start_{};
  std::size_t written_in_window_ = 0;
  std::uint64_t held_back_ = 0;
};

}  // namespace batchcast
