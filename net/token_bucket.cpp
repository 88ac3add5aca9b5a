#include "net/token_bucket.hpp"

#include <algorithm>

namespace batchcast::net {

bool token_bucket::take(clock::time_point now, float cost, rate limits) {
  if (now > refilled_at_) {
    std::chrono::duration<float> elapsed = now - refilled_at_;
    spent_ = std::max(0.0F, spent_ - elapsed.count() * limits.per_second);
    refilled_at_ = now;
  }
  if (spent_ + cost > limits.capacity)
    return false;
  spent_ += cost;
  return true;
}

}  // namespace batchcast::net
