#include "common/log_throttle.hpp"

namespace batchcast {

std::optional<std::uint64_t> log_throttle::admit(clock::time_point now) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (written_in_window_ == 0 || now - window_start_ >= window_) {
    window_start_ = now;
    written_in_window_ = 0;
  }
  if (written_in_window_ >= burst_) {
    ++held_back_;
    return std::nullopt;
  }
  ++written_in_window_;
  auto held_back = held_back_;
  held_back_ = 0;
  return held_back;
}

std::string log_throttle::held_back_note(std::uint64_t held_back) {
  if (held_back == 0)
    return "";
  return " (" + std::to_string(held_back) + " more like it held back)";
}

}  // namespace batchcast
