// A dial gate: what this node's middleman dials instead of a configured
// peer's node port. It listens on 127.0.0.1 only, on a port of the
// kernel's choosing, and relays each connection to the peer's address
// (node_gate_session.hpp) once the peer's node gate proved it holds the
// cluster secret (cluster_handshake.hpp), checking what comes back as the
// node gate checks what a dialing node sends, mirrored: every header
// before the middleman reads it, a server handshake first, never a client
// handshake, payloads within the cap, a message rate, and deadlines for
// the first message, for silence and for a peer that stops reading.
//
// Why: CAF 0.17 reads what a peer's address answers as it is, and a
// malformed handshake from it (a server handshake header without payload)
// ends the dialing process. Whatever answers at a peer's address (a
// stopped peer's port taken by another program, a host on the path) is
// no more trusted than what reaches the node port.
//
// Only this process's connections are relayed (own_connection.hpp),
// each looked up as it is accepted, while it holds one of the gate's few
// slots. A local process connecting faster than the lookups go queues
// this node's own connections behind its own; the lookup asks the kernel
// for the one socket, so that takes hundreds of connections a second.
//
// One per configured peer. Owned by the server; runs on its io_context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/gate_refusals.hpp"
#include "common/metrics.hpp"
#include "net/asio.hpp"
#include "net/node_gate_session.hpp"

namespace batchcast::net {

class listener;

struct dial_gate_settings {
  std::string peer_host;
  std::uint16_t peer_port = 0;
  // The middleman dials once per attempt; an attempt's connection may
  // linger while the next one starts.
  std::size_t max_connections = 4;
  gate_session_limits session;
  // What the other node's gate must prove it holds too; not empty.
  std::string cluster_secret;
  // Where the gate notes why it closed a connection to the peer, under
  // `peer_index`; may be null.
  std::shared_ptr<gate_refusals> refusals;
  std::size_t peer_index = 0;
};

class dial_gate {
 public:
  // Binds 127.0.0.1:0 and listens at once. Throws std::runtime_error
  // when that fails.
  dial_gate(asio::io_context& context, dial_gate_settings settings,
            std::shared_ptr<metrics> counters);
  ~dial_gate();
  dial_gate(const dial_gate&) = delete;
  dial_gate& operator=(const dial_gate&) = delete;

  void start();
  // Stops accepting; connections already relayed stay until they end or
  // the io_context stops. Any thread.
  void stop();

  // Where the middleman dials, on 127.0.0.1.
  std::uint16_t port() const;

 private:
  std::shared_ptr<gate_shared> shared_;
  std::shared_ptr<listener> listener_;
};

}  // namespace batchcast::net
