// How many frames a WebSocket client may send: a token bucket holding up
// to `burst` frames, refilled at `per_second`. Every frame the server has
// to handle costs one: pings, pongs and whole messages alike (a message
// in fragments costs one; metered_stream.hpp bounds their bytes).
//
// batchcast's clients have nothing to say (browsers never send pings, and
// the protocol has no client messages), so the budget only needs room for
// the odd pong, ping or stray message of a scripted client. What it stops
// is a client that makes the server work for every frame it sends:
// thousands of pings a second, or a stream of tiny messages each well
// under the size limit.
//
// Not thread-safe; owned by one session and used on its strand.
#pragma once

#include "net/token_bucket.hpp"

namespace batchcast::net {

class frame_budget {
 public:
  using clock = token_bucket::clock;

  static constexpr int burst = 20;
  static constexpr int per_second = 10;

  // Takes one frame received at `now` out of the budget. False when the
  // budget was already spent: the client sends faster than allowed.
  bool charge(clock::time_point now) {
    return frames_.take(now, 1, {burst, per_second});
  }

 private:
  token_bucket frames_;
};

}  // namespace batchcast::net
