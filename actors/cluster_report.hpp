// A node's view of its cluster peers, as the cluster actor reports it on
// request: what an operator reads at GET /cluster and what metrics can be
// drawn from. Plain values, copied out of the actor's state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace batchcast::actors {

struct peer_report {
  std::string address;  // host:port as configured (--peer)
  std::string name;     // from its hello; empty before the first contact
  // "up": connected and heard from within the silence limit;
  // "connecting": an attempt is out; "down": waiting to try again.
  std::string state = "down";
  std::int64_t state_since_ms = 0;  // unix ms of the last change of state
  // Why it is not up: the last attempt's error or what took it down;
  // empty while up and before the first attempt ended.
  std::string reason;
  std::int64_t last_heard_ms = 0;  // unix ms of its last message; 0: never
  // It said hello to this node, so this node's statuses go to it (even
  // while this node's own connection to it is not up).
  bool subscribed = false;
  bool catching_up = false;  // pulling its changes after a (re)connect
  // The relay of this node's statuses to it (see peer_relay.hpp).
  std::uint64_t relay_queued = 0;
  std::uint64_t relay_pages_in_flight = 0;
  bool relay_from_store = false;        // fell behind; sending from the store
  std::uint64_t relay_fell_behind = 0;  // times, since the link came up
};

struct cluster_report {
  std::string node;                // this node's name
  bool clustered = false;          // false: a single node (no --node-port)
  std::vector<peer_report> peers;  // in the order of --peer
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_report& x) {
  return f(caf::meta::type_name("peer_report"), x.address, x.name, x.state,
           x.state_since_ms, x.reason, x.last_heard_ms, x.subscribed,
           x.catching_up, x.relay_queued, x.relay_pages_in_flight,
           x.relay_from_store, x.relay_fell_behind);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_report& x) {
  return f(caf::meta::type_name("cluster_report"), x.node, x.clustered,
           x.peers);
}

}  // namespace batchcast::actors
