#include "net/frame_budget.hpp"

#include <algorithm>

namespace batchcast::net {

bool frame_budget::charge(clock::time_point now) {
  if (now > refilled_at_) {
    std::chrono::duration<float> elapsed = now - refilled_at_;
    tokens_ = std::min<float>(burst, tokens_ + elapsed.count() * per_second);
    refilled_at_ = now;
  }
  if (tokens_ < 1)
    return false;
  tokens_ -= 1;
  return true;
}

}  // namespace batchcast::net
