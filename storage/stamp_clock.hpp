// The timestamps a node puts on the statuses it publishes: Unix
// milliseconds that come after every stamp the node has stored or seen.
//
// A record replaces the stored one only when its (updated_at, origin) is
// greater, so a publish stamped by the wall clock alone loses to a stored
// status stamped ahead of that clock, and is dropped. Stored stamps run
// ahead in ordinary ways: a burst of more than one publish a millisecond
// (each gets its own millisecond), the clock stepped back across a
// restart, a peer whose clock is ahead. Stamping after the newest stamp
// seen makes every publish supersede what its node held.
//
// Catch-up between nodes leans on the same rule: a node answers a page of
// its records from the same store that stamps its publishes, so every
// status it publishes afterwards is stamped after that whole page, and a
// peer that resumes from the newest stamp of the page misses none of them.
//
// This is a hybrid logical clock (wall time, bumped past anything seen)
// with the bump kept inside the millisecond field. Its cost: a peer whose
// clock runs far ahead pulls this node's stamps ahead with it.
//
// Not thread-safe; the state store owns one.
#pragma once

#include <cstdint>

namespace batchcast::storage {

class stamp_clock {
 public:
  // `newest_seen_ms`: the newest stamp already stored (0 for none).
  explicit stamp_clock(std::int64_t newest_seen_ms = 0)
      : newest_ms_(newest_seen_ms) {}

  // The stamp for a new publish: the wall clock, or one past the newest
  // stamp seen or given, whichever is later.
  std::int64_t next();

  // Takes note of a stamp made elsewhere (a peer's record), so that every
  // later next() comes after it.
  void observe(std::int64_t stamp_ms) {
    if (stamp_ms > newest_ms_)
      newest_ms_ = stamp_ms;
  }

  // The newest stamp seen or given so far.
  std::int64_t newest() const { return newest_ms_; }

 private:
  std::int64_t newest_ms_;
};

}  // namespace batchcast::storage
