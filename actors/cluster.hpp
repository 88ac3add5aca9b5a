// cluster: makes a static set of nodes act as one service, over CAF's
// middleman. Each node publishes its cluster actor on the node port and
// connects to every configured peer's; a status published on one node is
// stored and delivered on all of them.
//
// Messages and replies (from the local registry, from peers, to itself):
//
//   (replicate_atom, storage::batch_record)  from the registry, after the
//       local commit of a local publish: sent to every connected peer as
//       apply_atom.
//   (apply_atom, storage::batch_record)  from a peer: handed to the local
//       registry's apply path (stored newest-wins, delivered to local
//       watchers if terminal) and never forwarded again, so nothing loops.
//   (hello_atom, std::string node_name) -> std::string
//       A peer introducing itself after connecting, before it catches up
//       from here; the answer is this node's name. From then on, live
//       statuses go to it as well.
//   (changes_atom, std::int64_t since_ms, std::uint64_t limit)
//       -> std::vector<storage::batch_record>
//       One page of this node's records changed since `since_ms` (a peer
//       catching up).
//   (connect_peer_atom, std::size_t peer)  to itself: (re)connect.
//
// Catch-up: on every (re)connect a node pulls from the peer, page by page,
// the records changed since the newest one it has taken from that peer
// (everything, on first contact since this process started), and asks for
// the next page only once the previous one is committed, so memory stays
// bounded by one page. Duplicates and reordering are harmless: the store
// keeps the newest (updated_at_ms, origin).
//
// A peer counts as down when its proxy goes down: the connection closed,
// or CAF's heartbeat timeout declared it dead. Reconnects back off
// exponentially from 250 ms to 5 s and go on while the node runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/services.hpp"

namespace batchcast::actors {

struct peer_address {
  std::string host;
  std::uint16_t port = 0;
};

struct cluster_settings {
  std::uint16_t node_port = 0;  // 0: a single node, no middleman
  std::string node_host = "127.0.0.1";
  std::vector<peer_address> peers;
  // Heartbeats between nodes, and the silence after which CAF drops a
  // peer's connection: a lost peer is noticed within `silence_limit` plus
  // one interval.
  std::chrono::milliseconds heartbeat{std::chrono::seconds{1}};
  std::chrono::milliseconds silence_limit{std::chrono::seconds{5}};
  std::size_t catch_up_page = 1000;  // records per catch-up message
};

struct cluster_state {
  struct peer {
    peer_address address;
    std::string name;   // from its hello; empty until the first one
    caf::actor remote;  // its cluster actor; null while down
    bool connecting = false;
    std::chrono::milliseconds backoff{250};
    // updated_at_ms of the newest record taken from it; catch-up resumes
    // here (minus a margin for clock skew between nodes).
    std::int64_t heard_up_to_ms = 0;
    bool catching_up = false;
    // Bumped on every down, so answers from an earlier connection are
    // told apart and dropped.
    std::uint64_t generation = 0;
  };

  std::string node_name;
  caf::actor registry;
  caf::actor store;
  std::size_t catch_up_page = 1000;
  std::vector<peer> peers;
  // Peers' cluster actors that said hello to this node, whether or not
  // this node's own connection to them is up yet: live statuses go to
  // them too, so a status published here right after a peer caught up
  // from here is never missed.
  std::unordered_map<caf::actor_addr, caf::actor> listeners;

  const char* name = "batchcast.cluster";
};

caf::behavior cluster(caf::stateful_actor<cluster_state>* self,
                      services running, cluster_settings settings);

// Loads the middleman and sets its heartbeat; call on the config before
// the actor_system is made from it, and only for a clustered node.
void configure_cluster(caf::actor_system_config& config,
                       const cluster_settings& settings);

// Spawns the cluster actor, publishes it on the node port and attaches it
// to the registry. Fails with a message naming the port when publishing
// fails. Blocks the calling thread briefly (not an actor's).
caf::expected<caf::actor> start_cluster(caf::actor_system& system,
                                        const services& running,
                                        const cluster_settings& settings);

// Stops the cluster actor and waits for it; before stop_services, so no
// peer's status arrives while the registry is stopping.
void stop_cluster(caf::actor_system& system, const caf::actor& cluster);

}  // namespace batchcast::actors
