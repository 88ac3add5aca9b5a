// What a connection actor may do to its client's socket. Declared here, by
// the actors that use it, and implemented by net::ws_session, so actors
// never see Beast or Asio (dependency rule: net -> actors, not back).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace batchcast::actors {

// Every call is thread-safe and returns at once: the implementation queues
// the work on the socket's own strand, in call order. Calls after the
// socket has gone away are ignored.
class client_socket {
 public:
  virtual ~client_socket() = default;

  // Completes the WebSocket upgrade. Call at most once, before send_final.
  virtual void accept() = 0;

  // Refuses the upgrade with this HTTP status (403, 503) and an empty-ish
  // body that does not say which check failed, then closes the socket.
  virtual void reject(unsigned http_status) = 0;

  // Writes `message` as the one text frame, then closes with 1000.
  virtual void send_final(std::string message) = 0;

  // Closes an accepted socket with `code` (1001 going away, 1008 policy
  // violation) without sending a status.
  virtual void close(std::uint16_t code) = 0;
};

using client_socket_ptr = std::shared_ptr<client_socket>;

}  // namespace batchcast::actors
