// One connection between this node's middleman and another node, relayed
// through a gate that checks what the other node sends: a connection a
// node made to this node's port (node_gate.hpp), relayed to CAF's
// middleman on loopback, or one this node's middleman made to a peer
// through the peer's dial gate (dial_gate.hpp), relayed to the peer's
// address.
//
// Before any byte passes, the two gates prove to each other that their
// nodes hold the same cluster secret (cluster_handshake.hpp); the node
// gate connects to its middleman only after that, and a dial gate reads
// nothing of its middleman's until then.
//
// From the other node to the middleman, bytes pass only once
// basp_framing has checked the header in front of them, and payloads
// stream through in chunks of at most `chunk_bytes`: a refused header
// never reaches the middleman, and no payload is held whole here. From
// the middleman to the other node, bytes are relayed as they come. At
// most one read and one write are pending in each direction, so each
// direction holds one chunk at most.
//
// Messages from the other node pass at the rate gate_session_limits::
// messages allows; a faster node is read more slowly.
//
// Closed (both sockets) when either side closes, when the other node
// fails the greeting or a header is refused, when the other node does not
// complete the greeting and its first message within
// `first_message_timeout` of the start, when it sends nothing for
// `idle_timeout`, or when it reads nothing of what the middleman sends it
// for `idle_timeout`. The last one matters because CAF's middleman queues
// what it sends without bound: a node that sends requests and never reads
// the answers would otherwise pile them up in this process. A batchcast
// node reads all the time (heartbeats come every interval).
//
// Owned by its pending handlers; everything runs on the accepted
// socket's strand.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "common/gate_refusals.hpp"
#include "common/log_throttle.hpp"
#include "common/metrics.hpp"
#include "net/asio.hpp"
#include "net/basp_framing.hpp"
#include "net/cluster_handshake.hpp"
#include "net/connection_limits.hpp"
#include "net/greeting_room.hpp"
#include "net/token_bucket.hpp"

namespace batchcast::net {

struct gate_session_limits {
  std::uint32_t max_payload = 0;  // bytes; see node_gate.hpp
  std::chrono::milliseconds first_message_timeout{5000};
  std::chrono::milliseconds idle_timeout{6000};
  // The id of this node's cluster actor, the one actor other nodes may
  // send direct messages to; 0: any (basp_framing.hpp).
  std::uint64_t cluster_actor = 0;
  // Messages a node may send, sustained and in a burst. Beyond it the
  // gate reads no more from that node until the rate allows, which holds
  // the node back through TCP's flow control: nothing is refused. A
  // batchcast node sends a heartbeat a second and pages of statuses
  // within its credit of a few unanswered pages, each taking a commit
  // here; the burst must hold the messages of one chunk_bytes read (at
  // most chunk_bytes / basp_header_size of them).
  token_bucket::rate messages{1024, 1024};
};

class node_gate_session;

// What a gate's sessions share: which end the accepted socket is, where
// the other end is reached, their limits, the metrics they count into,
// the cap their slots count against (kept alive by every session, since a
// slot points into it) and the budget of warning lines.
struct gate_shared {
  // Who connects to the gate: another node (node gate; the session then
  // connects to the middleman) or this node's middleman (dial gate; the
  // session then connects to the peer).
  basp_end accepted = basp_end::dialing;
  // Where the session connects: the middleman on 127.0.0.1, or the peer.
  std::string target_host;
  std::uint16_t target_port = 0;
  // For the log: "node gate", "dial gate to peer 10.0.0.2:4000".
  std::string name;
  // What the nodes of the cluster share; never empty.
  std::string cluster_secret;
  // The node gate's connections still greeting (greeting_room.hpp); null
  // on a dial gate, whose one client is this node's middleman.
  std::shared_ptr<greeting_room<node_gate_session>> greetings;
  // A dial gate's notes of why it closed connections to its peer, for the
  // cluster's view of the peer (gate_refusals.hpp); null on the node gate.
  std::shared_ptr<gate_refusals> refusals;
  std::size_t peer_index = 0;
  gate_session_limits limits;
  std::shared_ptr<metrics> counters;
  std::shared_ptr<connection_limits> cap;
  // Anything that reaches the node port, or answers at a peer's address,
  // can cause a refusal at will, so their warnings are throttled, each
  // kind of refusal on its own (a line's held-back count counts lines of
  // its kind); the held-back ones go to debug. Safe from any thread.
  log_throttle& refusals_logged(const std::string& kind);

 private:
  std::mutex throttles_mutex_;
  // A few kinds, all named in node_gate_session.cpp; never shrinks.
  std::map<std::string, log_throttle> throttles_;
};

class listener;

// What both gates do to listen: bind host:port (port 0: any free one),
// cap open connections at `max_connections` with log lines in `words`,
// close refused ones at accept (counted as connection_cap), and relay
// every admitted one through a node_gate_session. Sets `shared->cap`.
// Throws std::runtime_error naming host:port when binding fails.
std::shared_ptr<listener> listen_for_gate(
    asio::io_context& context, const std::string& host, std::uint16_t port,
    std::size_t max_connections, connection_limits::wording words,
    const std::shared_ptr<gate_shared>& shared);

class node_gate_session
    : public std::enable_shared_from_this<node_gate_session> {
 public:
  static constexpr std::size_t chunk_bytes = 16 * 1024;

  // `accepted` must be bound to a strand (the listener does that); it is
  // the other node or this node's middleman, as `shared->accepted` says.
  node_gate_session(tcp::socket accepted, std::uint64_t id, std::string peer,
                    connection_limits::slot slot,
                    std::shared_ptr<gate_shared> shared);

  void start();

 private:
  using clock = std::chrono::steady_clock;

  tcp::socket& connecting_socket();
  // On a dial gate: whether this node's middleman made the connection
  // (own_connection.hpp); closes it, counted and logged, if not.
  bool from_this_process();
  // The greeting, from the end this gate plays (cluster_handshake.hpp).
  void read_hello();
  void on_hello(error_code ec);
  void on_proof(error_code ec);
  void send_hello();
  void on_answer(error_code ec);
  void refuse_greeting(cluster_handshake_verdict verdict);
  // Closes this connection, still greeting, to make room for a newer one.
  void push_out(std::size_t room);
  void connect();
  void on_resolve(error_code ec, tcp::resolver::results_type endpoints);
  void on_connect(error_code ec);
  void relay();
  void do_read_node();
  void on_read_node(error_code ec, std::size_t size);
  // Writes to_middleman_, which completed `messages` messages, once the
  // rate allows them.
  void forward_when_allowed(std::uint64_t messages);
  void on_write_middleman(error_code ec);
  void do_read_middleman();
  void on_read_middleman(error_code ec, std::size_t size);
  void on_write_node(error_code ec);
  void arm_deadline();
  void on_deadline(error_code ec);
  clock::time_point deadline() const;
  void refuse(basp_verdict verdict);
  // At warning within the gate's throttle. With a `kind` (what went
  // wrong, in a few words), a dial gate says it at debug when its last
  // refusal of the peer was of the same kind (refusal_is_news).
  void warn_or_debug(const std::string& line, const std::string& kind = {});
  // On a dial gate, what the cluster's view of the peer should say about
  // this connection's end (gate_refusals.hpp); empty once it relays.
  void note_for_peer(std::string why);
  // Whether refusing for `why` is news to the log: on a dial gate, not
  // when the last refusal of its peer said the same (gate_refusals.hpp);
  // on the node gate, always (its own throttle applies).
  bool refusal_is_news(const std::string& why);
  // Closes both sockets and the timers; `why` goes to the debug log.
  void close(const std::string& why);

  std::shared_ptr<gate_shared> shared_;  // before slot_: the slot points in
  connection_limits::slot slot_;
  tcp::socket node_;       // the other node, whose bytes are checked
  tcp::socket middleman_;  // this node's middleman
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  asio::steady_timer pace_timer_;  // holds reads back over the rate
  std::uint64_t id_;
  std::string peer_;  // the other node's address, for the log
  std::optional<cluster_handshake> greeting_;
  cluster_handshake::hello hello_{};
  cluster_handshake::answer answer_{};
  cluster_handshake::proof proof_{};
  bool greeted_ = false;  // both proofs held
  basp_framing framing_;
  std::uint64_t messages_charged_ = 0;  // to the rate, so far
  token_bucket message_rate_;
  clock::time_point started_;
  clock::time_point last_heard_;  // the other node's last bytes
  // When the pending write to the other node began; nothing while none is.
  std::optional<clock::time_point> writing_since_;
  std::array<std::uint8_t, chunk_bytes> from_node_;
  std::vector<std::uint8_t> to_middleman_;
  std::array<std::uint8_t, chunk_bytes> from_middleman_;
  bool closed_ = false;
};

}  // namespace batchcast::net
