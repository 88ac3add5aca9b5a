// The network side of batchcast: the public WebSocket listener and the
// internal publish API listener, served by a few threads running one
// io_context.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/services.hpp"
#include "net/dial_gate.hpp"
#include "net/node_gate.hpp"
#include "net/tls_context.hpp"

namespace batchcast::net {

// Connections the internal listener keeps open at once; over it, one is
// answered 503 at accept and closed. The listener serves a few
// producers (a keep-alive connection or two per worker process), one
// Prometheus scraper and a load balancer's probes: 128 is ample for them,
// and bounds what a flood of idle connections there holds (each is only
// dropped after the 30 s request timeout). Together with the 64 public
// refusals it fits in the 256 descriptors `serve` keeps back from
// --max-connections (app/connection_caps.hpp), leaving 64 for the
// databases, the cluster's links and the runtime's own.
inline constexpr std::size_t internal_connection_cap = 128;

struct server_settings {
  std::string public_host = "127.0.0.1";
  std::uint16_t public_port = 8000;  // 0: any free port
  std::string internal_host = "127.0.0.1";
  std::uint16_t internal_port = 8001;  // 0: any free port
  // A certificate and key make that listener speak only TLS (https://,
  // wss://); without them it speaks plain TCP.
  tls_files public_tls;
  tls_files internal_tls;

  std::vector<std::string> allowed_hosts = {"localhost", "127.0.0.1"};
  std::string session_cookie_name = "sessionid";
  std::string publish_token;  // required; compared in constant time
  // When set, GET /metrics needs "Authorization: Bearer <metrics_token>";
  // empty (the default) lets anyone who reaches the internal listener
  // scrape it.
  std::string metrics_token;

  std::size_t max_client_message_bytes = 4096;     // larger closes with 1009
  std::size_t max_publish_body_bytes = 16 * 1024;  // larger is 413
  std::chrono::milliseconds upgrade_timeout{std::chrono::seconds{10}};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds{60}};
  std::chrono::milliseconds close_timeout{std::chrono::seconds{5}};
  // Internal listener: the time a producer has to send one request, and
  // how long a keep-alive connection may sit idle between requests.
  std::chrono::milliseconds api_request_timeout{std::chrono::seconds{30}};
  int io_threads = 2;

  // Caps on open public connections (from accept until the socket is
  // closed), in all and from one client address; 0: no cap. Over either,
  // an upgrade is answered 503 (see connection_limits.hpp).
  std::size_t max_connections = 50000;
  std::size_t max_connections_per_address = 1000;

  // On a clustered node: the node gate in front of CAF's middleman,
  // started with the listeners and stopped with the internal one.
  std::optional<node_gate_settings> node_gate;
  // On a clustered node: one dial gate per configured peer, in the order
  // of the peers, for the middleman to dial instead of the peer.
  std::vector<dial_gate_settings> dial_gates;
};

class server {
 public:
  server(caf::actor_system& system, actors::services running,
         server_settings settings);
  ~server();  // stops if still running

  // Loads the TLS files, binds both listeners and starts the I/O threads.
  // Throws std::runtime_error naming the file or the address at fault;
  // nothing listens then.
  void start();

  // The bound ports (useful with port 0). Valid after start().
  std::uint16_t public_port() const;
  std::uint16_t internal_port() const;
  // The node gate's port; 0 without one.
  std::uint16_t node_port() const;
  // The dial gates' ports on 127.0.0.1, in the order of
  // server_settings::dial_gates.
  std::vector<std::uint16_t> dial_gate_ports() const;

  // Stops accepting on the public listener, closes every open WebSocket
  // with 1001 (going away), waits up to `grace` for them to finish, then
  // stops the internal listener and the I/O threads. During the wait the
  // internal listener still serves: /readyz answers 503 shutting_down and
  // publishes are still committed.
  // Sessions that a connection actor still holds afterwards are inert.
  // Call from a thread that is not one of the server's I/O threads.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds{5});

  // Open WebSocket sessions right now (accepted or still upgrading).
  std::size_t open_sessions() const;

  // Public connections the caps count right now, in all and from one
  // client address (such as "127.0.0.2").
  std::size_t open_public_connections() const;
  std::size_t open_public_connections_from(const std::string& address) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace batchcast::net
