// cluster: makes a static set of nodes act as one service, over CAF's
// middleman. Each node publishes its cluster actor with the middleman,
// behind the node gate on the node port (net/node_gate.hpp), and connects
// to every configured peer's node port; a status published on one node is
// stored and delivered on all of them.
//
// Messages and replies (from the local registry, from peers, to itself):
//
//   (replicate_atom, storage::batch_record)  from the registry, after the
//       local commit of a local publish: relayed to every linked peer.
//   (hello_atom, std::string node_name, std::uint32_t protocol)
//       -> std::tuple<std::string, std::uint32_t>
//       A peer introducing itself after connecting, before it catches up
//       from here; the answer is this node's name and protocol. Its link
//       is then "subscribed": it lists this node as a peer (every link
//       gets this node's statuses, subscribed or not). Nodes only
//       link up when their protocol numbers match and their names differ:
//       a node refuses a peer named as itself (see refuse_namesake) and
//       keeps trying it with backoff, as it may come back renamed.
//   (apply_page_atom, std::vector<storage::batch_record>) -> std::uint64_t
//       A page of a peer's statuses, relayed live or read back from its
//       store: handed to the local registry's apply path (stored
//       newest-wins, delivered to local watchers if terminal), never
//       forwarded again, so nothing loops. Answered with the number of
//       records once all are committed, or errc::storage_failed.
//   (commits_atom, std::uint64_t after_seq, std::uint64_t limit)
//       -> storage::commit_page
//       One page of what this node's store wrote after commit number
//       `after_seq`, whichever node published it (a peer pulling).
//   (heartbeat_atom)  from a peer, every heartbeat interval.
//   (report_atom) -> cluster_report  this node's view of its peers.
//   (dial_gate_atom)  from the service once the dial gates listen and
//       cluster_settings::gate_ports is set: dial the peers through them.
//   (connect_peer_atom, std::size_t peer), (liveness_atom)  to itself.
//
// Connecting: each attempt dials the peer (through its dial gate on
// loopback, net/dial_gate.hpp, when the service set those up) from a
// short-lived detached actor (the TCP connect blocks) and hands the
// connection to CAF's BASP broker for the handshake, bounded by a 5 s timeout.
// CAF's middleman actor is not used for this: in CAF 0.17.6 it keeps one
// pending connect per host:port and queues every later connect to that endpoint
// behind it, and a connection the other end closes right after accepting
// it (a proxy whose backend is down, a node starting or stopping) can
// leave that pending connect unanswered for good, so that no later attempt
// to that peer ever ran (seen in the cluster tests, through a TCP relay).
// Here every attempt stands alone; one per peer at a time.
//
// Links: a link is one peer's cluster actor this node talks to, opened
// when this node's hello to a configured peer is answered or when a peer's
// hello arrives. Every link gets this node's statuses (see peer_relay.hpp:
// pages with a credit of a few pages in flight, and a fall back to the
// store when the peer is slower than this node publishes) and a heartbeat
// every interval. A link closes when CAF reports the peer's actor gone
// (connection closed, or CAF's own connection timeout), when the peer has
// been silent longer than the silence limit, or when a page stays
// unanswered for 30 s. A configured peer whose link closes is down: it is
// reconnected with backoff from 250 ms to 5 s, for as long as the node
// runs, and immediately when some node says hello (it may have restarted).
//
// Liveness does not rest on CAF's heartbeats alone: a peer is judged by
// what this actor hears from it, so a peer whose process is frozen, or
// whose messages stop for any other reason, is let go within the silence
// limit plus one interval. Should this node itself run late (frozen, or
// starved of CPU) by more than an interval, it judges no one that round.
//
// Catch-up: a node pulls from each configured peer, page by page, what
// the peer's store wrote after the last of its writes this node applied
// (counted in the peer's own order of writes, so whichever node published
// a status, and however it is stamped), and asks for the next page only
// once the previous one is committed, so memory stays bounded by one
// page. It does so after every (re)connect (the catch-up GET /cluster
// shows) and again every pull interval while the peer is up: a status
// that reached only some nodes (its origin cut off from the others, or a
// relayed page lost on the way) reaches every node that can reach one of
// them within that. The count starts again from zero whenever the peer
// restarts (its store has a new id each open). Duplicates and reordering
// are harmless: the store keeps the newest (updated_at_ms, origin).
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/cluster_report.hpp"
#include "actors/peer_intake.hpp"
#include "actors/peer_relay.hpp"
#include "actors/services.hpp"
#include "common/gate_refusals.hpp"

namespace batchcast::actors {

struct peer_address {
  std::string host;
  std::uint16_t port = 0;
};

struct cluster_settings {
  std::uint16_t node_port = 0;  // 0: a single node, no middleman
  std::string node_host = "127.0.0.1";
  std::vector<peer_address> peers;
  // Heartbeats between nodes (CAF's and this actor's), and the silence
  // after which a peer is let go: a lost peer is noticed within
  // `silence_limit` plus one interval.
  std::chrono::milliseconds heartbeat{std::chrono::seconds{1}};
  std::chrono::milliseconds silence_limit{std::chrono::seconds{5}};
  std::size_t catch_up_page = 1000;  // records per catch-up message
  // How often each configured peer is asked for what it wrote since the
  // last pull, besides after every (re)connect.
  std::chrono::milliseconds pull_interval{std::chrono::seconds{5}};
  relay_limits relay;  // per linked peer
  // When valid, peers are dialed through a dial gate each
  // (net/dial_gate.hpp), on 127.0.0.1 at these ports, in the order of
  // `peers`: none is dialed before the ports are set and
  // (dial_gate_atom) arrives. The ports do not travel in the message,
  // which anything on the node port could send.
  std::shared_future<std::vector<std::uint16_t>> gate_ports;
  // What the dial gates last refused of each peer (in the order of
  // `peers`): a failed connect reports it rather than CAF's error. Null
  // without dial gates.
  std::shared_ptr<gate_refusals> refused_by_gate;
};

struct cluster_state {
  using clock = std::chrono::steady_clock;

  // One peer's cluster actor this node exchanges messages with.
  struct link {
    link(caf::actor actor, std::string peer_name, std::uint64_t link_serial,
         relay_limits limits, std::string own_name)
        : remote{std::move(actor)},
          name{std::move(peer_name)},
          serial{link_serial},
          relay{limits, std::move(own_name)} {}

    caf::actor remote;
    std::string name;
    std::uint64_t serial;     // tells this link from a later one
    bool subscribed = false;  // it said hello, or pulled our changes
    clock::time_point heard;  // its last message
    peer_relay relay;         // this node's statuses on their way to it
    std::uint64_t fell_behind_seen = 0;
    clock::time_point fell_behind_logged_at{};  // at most one line a minute
    // The oldest stamp of each page sent on this link and not answered.
    std::multiset<std::int64_t> unanswered_pages;
  };

  // A configured peer (--peer): this node's own connection to it.
  struct peer {
    enum class phase { down, connecting, up };

    peer_address address;
    std::string name;  // from its hello; empty until the first one
    phase state = phase::down;
    caf::actor remote;  // its cluster actor; null unless up
    std::int64_t state_since_ms = 0;
    std::string reason;  // why it is not up (see peer_report)
    // It was refused (it answered with this node's own name or an unusable
    // one, or as a node linked already) and the log said so; cleared once
    // it links.
    bool refusal_logged = false;
    // Why connecting to it failed, as the log last said; cleared once it
    // links. The log speaks again only when the reason changes.
    std::string failure_logged;
    std::int64_t last_heard_ms = 0;
    std::chrono::milliseconds backoff{250};
    // Its state store's id, and the commit number in that store up to
    // which this node has applied everything it wrote (see Catch-up).
    std::string pulled_store_id;
    std::uint64_t pulled_up_to_seq = 0;
    bool catching_up = false;  // the pull after a (re)connect is not done
    bool pulling = false;      // a page of a pull is on its way
    // Bumped by every pull started: a page of an earlier one (its answer
    // lost with a connection the peer dropped, say) is not waited for.
    std::uint64_t pull_round = 0;
    clock::time_point next_pull{};
    // Its last catch-up page was refused as busy (peer_intake.hpp): asked
    // for again on the next liveness round.
    bool catch_up_due = false;
    // Bumped on every down, so answers from an earlier connection are
    // told apart and dropped.
    std::uint64_t generation = 0;
    // The actor dialing it; alive while its TCP connect blocks, which may
    // outlast the attempt's timeout. No new attempt starts meanwhile.
    caf::actor_addr dialer;
    // Its dial gate's port on 127.0.0.1, dialed instead of its address;
    // 0 until known, or without gates.
    std::uint16_t gate_port = 0;
  };

  std::string node_name;
  std::string node_address;  // host:port of the node port, for the log
  caf::actor registry;
  caf::actor store;
  caf::actor basp;  // CAF's BASP broker: runs each connection's handshake
  std::shared_ptr<metrics> counters;  // gets the peers' states
  std::size_t catch_up_page = 1000;
  std::chrono::milliseconds pull_interval{5000};
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds silence_limit{5000};
  relay_limits relay;
  std::shared_future<std::vector<std::uint16_t>> gate_ports;
  std::shared_ptr<gate_refusals> refused_by_gate;  // may be null
  // What peers' requests may keep busy here at once.
  peer_intake intake;

  std::vector<peer> peers;
  std::unordered_map<caf::actor_addr, link> links;
  std::uint64_t next_link_serial = 1;
  // By peer name: the oldest stamp of the pages a closed link left
  // unanswered. The peer may not have them (a page lost on the way, with
  // newer ones after it that its catch-up starts from), so the next link
  // to it sends this node's statuses from there again, from the store.
  // Kept in memory only: should this node restart first, the peer's
  // catch-up from it reaches back that far (see Catch-up).
  std::map<std::string, std::int64_t> resend_from_ms;
  // Node ids of namesakes whose hello was refused and logged.
  std::set<std::string> namesakes_logged;
  clock::time_point next_liveness_check;

  const char* name = "batchcast.cluster";
};

caf::behavior cluster(caf::stateful_actor<cluster_state>* self,
                      services running, cluster_settings settings,
                      caf::actor basp);

// Loads the middleman and sets its heartbeat; call on the config before
// the actor_system is made from it, and only for a clustered node.
void configure_cluster(caf::actor_system_config& config,
                       const cluster_settings& settings);

struct started_cluster {
  caf::actor actor;
  // Where the middleman listens: 127.0.0.1 only, on a port the kernel
  // chose. Nodes reach it through the node gate (net/node_gate.hpp) on
  // the node port, which the caller opens.
  std::uint16_t middleman_port = 0;
};

// Spawns the cluster actor, publishes it with the middleman on loopback
// and attaches it to the registry. Fails with a message when publishing
// fails. Blocks the calling thread briefly (not an actor's).
caf::expected<started_cluster> start_cluster(caf::actor_system& system,
                                             const services& running,
                                             const cluster_settings& settings);

// Stops the cluster actor and waits for it; before stop_services, so no
// peer's status arrives while the registry is stopping.
// Tells the cluster actor that cluster_settings::gate_ports is set: it
// dials its peers through the gates from then on.
void dial_through_gates(const caf::actor& cluster);

void stop_cluster(caf::actor_system& system, const caf::actor& cluster);

}  // namespace batchcast::actors
