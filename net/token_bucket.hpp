// A token bucket whose size and refill rate are given with each take, so
// one bucket costs a socket twelve bytes, not twenty: the rates are the
// same for every socket and live with the caller. A new bucket is full.
//
// Not thread-safe; owned by one session and used on its strand.
#pragma once

#include <chrono>

namespace batchcast::net {

class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  struct rate {
    float capacity;    // the most it holds: the burst allowed
    float per_second;  // how fast it refills: the sustained rate
  };

  // Takes `cost` tokens at `now` if the bucket holds that many; false
  // (and nothing taken) when it does not.
  bool take(clock::time_point now, float cost, rate limits);

 private:
  // Kept as what is missing from a full bucket, so that a new bucket is
  // full whatever the capacity the caller has in mind.
  float spent_ = 0;
  clock::time_point refilled_at_{};  // the epoch until the first take
};

}  // namespace batchcast::net
