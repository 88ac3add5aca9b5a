// peer_relay: what this node still owes one peer of the statuses it
// published, held within a fixed bound whatever the peer's speed.
//
// Live statuses queue here and leave in pages of at most `page_size`
// records. A page is a request the peer answers once every record in it
// is committed there, and at most `pages_in_flight` pages are unanswered
// at a time: that is the peer's credit. A peer that commits more slowly
// than this node publishes lets the queue fill up; the next status then
// empties the queue and the relay falls back to the state database: it
// reads this node's own records back, page by page, from the oldest one
// it let go, and returns to live pages once a read comes back short (the
// store has nothing newer) and nothing was let go while it was out.
//
// Why nothing is lost: a status reaches the relay only after its commit,
// so any read sent after a status was let go finds that status in the
// store; reads run in updated_at order from the oldest status let go, and
// statuses arriving while the relay reads from the store still queue (or,
// should the queue fill again, move the read position back to them).
//
// Memory per peer: at most `queued_records` records waiting and
// `pages_in_flight` pages of `page_size` records sent but unanswered.
//
// Pure bookkeeping, no CAF: the cluster actor sends what this class hands
// out and reports back what happened. Not thread-safe; owned by the
// cluster actor's state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "storage/batch_status.hpp"

namespace batchcast::actors {

struct relay_limits {
  std::size_t page_size = 256;        // records per page, live or from store
  std::size_t pages_in_flight = 4;    // unanswered pages per peer
  std::size_t queued_records = 1024;  // waiting for credit
};

class peer_relay {
 public:
  using records = std::vector<storage::batch_record>;

  // `own_origin` is this node's name: reads from the store send only the
  // records this node published, as live pages do.
  peer_relay(relay_limits limits, std::string own_origin);

  // A status committed on this node, for the peer. Queued, or, when the
  // queue is full, let go and left for a read from the store.
  void push(const storage::batch_record& record);

  // The next live page, taken off the queue and counted in flight; nothing
  // while credit is spent, nothing is queued, or the relay is reading from
  // the store.
  std::optional<records> next_live_page();

  // Where the next read from the store should start (records with
  // updated_at_ms >= the answer, at most page_size of them), when one is
  // due now: the relay fell behind, no read is out, and credit is left.
  // The caller must answer with store_read_done or store_read_failed.
  std::optional<std::int64_t> next_store_read();

  // The store's answer to that read (records of every origin, oldest
  // first). Returns this node's own records among them, to send as one
  // page; when not empty, that page counts as in flight.
  records store_read_done(const records& read);
  void store_read_failed();  // the read is retried on the next call

  // The peer answered a page sent earlier: committed, or failed (its
  // records are then read again from the store, from `oldest_ms`).
  void page_committed();
  void page_failed(std::int64_t oldest_ms);
  // Reads this node's records from `from_ms` on from the store again and
  // sends them, as when the peer falls behind: what an earlier link to
  // the same peer left unanswered.
  void resend_from(std::int64_t from_ms) { fall_behind(from_ms); }

  // For reports and logs.
  std::size_t queued() const { return queue_.size(); }
  std::size_t pages_in_flight() const { return in_flight_; }
  bool reading_store() const { return from_store_; }
  // Where the store is read from next, while the relay reads from it.
  std::optional<std::int64_t> store_cursor() const {
    if (!from_store_)
      return std::nullopt;
    return cursor_ms_;
  }
  // How often the queue filled (a page the peer refused is read from
  // the store again too, but is not counted here).
  std::uint64_t times_fell_behind() const { return fell_behind_; }
  // True once after each return from the store to live pages (for a log
  // line); cleared by reading it.
  bool take_caught_up();

 private:
  void fall_behind(std::int64_t from_ms);

  relay_limits limits_;
  std::string own_origin_;
  std::deque<storage::batch_record> queue_;
  std::size_t in_flight_ = 0;

  bool from_store_ = false;  // behind: pages come from the store
  std::int64_t cursor_ms_ = std::numeric_limits<std::int64_t>::max();
  bool reading_ = false;     // a read from the store is out
  bool moved_back_ = false;  // the cursor moved back during that read
  std::uint64_t fell_behind_ = 0;
  bool caught_up_ = false;
};

}  // namespace batchcast::actors
