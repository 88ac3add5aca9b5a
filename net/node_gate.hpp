// The node gate: what listens on a clustered node's public node port
// (--node-host:--node-port) in front of CAF's middleman, which itself
// listens on 127.0.0.1 only, on a port of the kernel's choosing. Every
// connection a node makes to this node's port is accepted here and relayed
// to the middleman (node_gate_session.hpp), with what CAF 0.17 lacks:
//
// - the greeting (cluster_handshake.hpp): a node proves it holds the
//   cluster secret before any of its bytes reach the middleman;
// - each BASP header a node sends is checked before the middleman reads
//   it: an unknown operation, or a payload above max_payload (which CAF
//   would allocate whole before reading it), closes the connection;
// - a cap on open connections, refused at accept beyond it, and a
//   smaller one on connections still greeting, which pushes the oldest
//   out (greeting_room.hpp);
// - a deadline for the first complete message and one for silence, so
//   connections that say nothing do not hold descriptors for ever;
// - an accept loop that backs off when the process is out of descriptors
//   (listener.hpp) instead of spinning as CAF's does.
//
// The connections this node dials pass gates of their own (dial_gate.hpp).
//
// Owned by the server; runs on the server's io_context.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/metrics.hpp"
#include "net/asio.hpp"
#include "net/node_gate_session.hpp"

namespace batchcast::net {

class listener;

// The largest BASP payload the gate lets through. The largest message
// between batchcast nodes is a page of statuses: a catch-up page of up to
// 1000 records (cluster_settings::catch_up_page) or a relayed page of 256,
// each record about 50 bytes plus its origin node's name (a catch-up
// answer measured through the gate: 27.5 KB for a few hundred records; a
// full page with 255-byte host names stays under 320 KB). 4 MiB leaves
// room for node names of about 4000 bytes, while a hostile header costs
// the middleman's buffer no more than this per connection (max_connections
// of them at most).
inline constexpr std::uint32_t default_max_basp_payload = 4u << 20;

struct node_gate_settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;            // 0: any free port (tests)
  std::uint16_t middleman_port = 0;  // on 127.0.0.1
  // Open connections at once; more are closed at accept.
  std::size_t max_connections = 64;
  // Connections still greeting at once; a newer one pushes the oldest
  // out (greeting_room.hpp). Below max_connections, so that connections
  // that never greet leave the rest of the slots to nodes.
  std::size_t max_greeting = 8;
  gate_session_limits session;
  // What the other node's gate must prove it holds too; not empty.
  std::string cluster_secret;
};

class node_gate {
 public:
  // Binds and listens at once. Throws std::runtime_error naming
  // host:port when that fails.
  node_gate(asio::io_context& context, node_gate_settings settings,
            std::shared_ptr<metrics> counters);
  ~node_gate();
  node_gate(const node_gate&) = delete;
  node_gate& operator=(const node_gate&) = delete;

  void start();
  // Stops accepting; connections already relayed stay until they end or
  // the io_context stops. Any thread.
  void stop();

  std::uint16_t port() const;
  // Connections relayed (or being set up) right now.
  std::size_t open() const;

 private:
  std::string host_;
  std::shared_ptr<gate_shared> shared_;
  std::shared_ptr<listener> listener_;
};

}  // namespace batchcast::net
