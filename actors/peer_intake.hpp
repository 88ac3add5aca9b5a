// peer_intake: how much work this node has taken in from peers and not
// finished, held within fixed bounds whatever the peers send.
//
// Anything that reaches the node port can speak as a node (cluster.hpp),
// and a node that sends requests without waiting for their answers would
// otherwise have every one of them queued here: the pages of statuses it
// sends grow the registry's and the store's mailboxes without bound, the
// local publishes wait behind them, and memory goes with them. A
// batchcast node never needs that much: it keeps at most a few pages of
// statuses unanswered per peer (its credit, peer_relay.hpp) and asks for
// one catch-up page at a time. So this node takes in, per sending node
// and in total, a bounded number of records being applied and of reads
// of its changes being served; a request beyond that is answered at once
// with errc::node_busy and nothing is done for it. A batchcast node that
// gets that answer sends its page again later from its own store, and
// asks for a catch-up page again on its next liveness round, so nothing
// is lost; a node that floods gets busy answers instead of memory.
//
// Known shortcoming: the total is shared, so a flooding sender can keep
// honest peers' pages waiting (each retried until it is taken) for as
// long as it floods. The node port belongs on a private network.
//
// Pure bookkeeping, no CAF: senders are named by their node id's text.
// Not thread-safe; owned by the cluster actor's state.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>

namespace batchcast::actors {

struct intake_limits {
  // Records of peers' pages being applied. A batchcast peer keeps at most
  // relay_limits{}.pages_in_flight * page_size (4 * 256) unanswered.
  std::size_t records_per_node = 1024;
  std::size_t records_total = 4096;
  // Reads of this node's changes being served (catch-up pages of up to
  // cluster_settings::catch_up_page records each). A batchcast peer asks
  // for one at a time.
  std::size_t reads_per_node = 2;
  std::size_t reads_total = 8;
};

class peer_intake {
 public:
  explicit peer_intake(intake_limits limits = {}) : limits_{limits} {}

  // Whether a page of `records` records from `node` may be applied now;
  // when it may, it counts until records_done(node, records).
  bool admit_records(const std::string& node, std::size_t records);
  void records_done(const std::string& node, std::size_t records);

  // The same for one read of this node's changes.
  bool admit_read(const std::string& node);
  void read_done(const std::string& node);

  std::size_t records_in_flight() const { return records_total_; }
  std::size_t reads_in_flight() const { return reads_total_; }
  // Requests answered with node_busy so far.
  std::size_t refused() const { return refused_; }

 private:
  struct taken {
    std::size_t records = 0;
    std::size_t reads = 0;
  };

  void forget_if_idle(std::unordered_map<std::string, taken>::iterator found);

  intake_limits limits_;
  std::unordered_map<std::string, taken> by_node_;
  std::size_t records_total_ = 0;
  std::size_t reads_total_ = 0;
  std::size_t refused_ = 0;
};

}  // namespace batchcast::actors
