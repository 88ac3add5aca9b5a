// Accepts TCP connections on one address and hands each socket, on its
// own strand, to a session factory. Running out of descriptors (EMFILE)
// or buffers does not stop it: it logs, waits a little, and tries again,
// so the loop neither spins nor dies while the process is saturated. A
// listener told to may meanwhile answer waiting connections with a fixed
// refusal, on a spare descriptor kept for that (spare_descriptor.hpp).
// A listener told to counts its connections against a cap and refuses
// those over it at accept, the same way.
//
// Owned by the server and by its pending handlers. stop() may be called
// from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "net/asio.hpp"
#include "net/connection_limits.hpp"
#include "net/spare_descriptor.hpp"

namespace batchcast::net {

class listener : public std::enable_shared_from_this<listener> {
 public:
  // Receives each accepted socket with a fresh connection id, the peer's
  // "address:port" and the slot that counts it in the cap_connections
  // limits (empty without them). Runs on the new socket's strand.
  using session_factory = std::function<void(
      tcp::socket, std::uint64_t, std::string, connection_limits::slot)>;

  // Binds and listens at once. Throws std::runtime_error naming
  // `host:port` when that fails. `name` is for logs ("public").
  listener(asio::io_context& context, const std::string& host,
           std::uint16_t port, std::string name, session_factory factory);

  void start();
  void stop();

  // While the process is out of descriptors, each connection waiting to
  // be accepted gets `refusal` (raw bytes, such as an HTTP 503; may be
  // empty) and is closed, instead of waiting in the backlog; `on_refused`
  // runs for each (for metrics; may be empty). Call before start().
  void refuse_when_out_of_descriptors(std::string refusal,
                                      std::function<void()> on_refused);

  // Counts each accepted connection in `limits`. One over a cap is
  // refused on the listener's strand, before it reaches a session and
  // without reading its request: it is reported to `limits`, `on_refused`
  // runs (for metrics; may be empty), and it gets `refusal` (raw bytes;
  // may be empty) as far as its send buffer takes them without waiting
  // and is closed. Each refusal is over before the next accept, so caps
  // with max_refusing 1 never close one unanswered. `limits` must outlive
  // every slot it hands out, in the sessions and in the io_context's
  // pending handlers alike. Call before start().
  void cap_connections(connection_limits& limits, std::string refusal,
                       std::function<void()> on_refused);

  // The bound port (the real one when 0 was asked for).
  std::uint16_t port() const { return port_; }

 private:
  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);
  void on_backoff(error_code ec);
  // The slot that counts `socket` in the cap (empty without one), or
  // nothing when the cap refused it: it is answered and closed then.
  std::optional<connection_limits::slot> admit(tcp::socket& socket,
                                               const tcp::endpoint& peer,
                                               std::uint64_t id,
                                               const std::string& described);

  asio::io_context& context_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_;
  std::string name_;
  session_factory factory_;
  std::uint16_t port_ = 0;
  unsigned failures_in_a_row_ = 0;
  std::unique_ptr<spare_descriptor> spare_;  // null unless asked for
  unsigned refused_in_a_row_ = 0;            // on the spare descriptor
  connection_limits* limits_ = nullptr;      // null unless asked for
  std::string cap_refusal_;
  std::function<void()> on_cap_refusal_;
  std::function<void()> on_descriptor_refusal_;
};

// Connection ids are unique in the process, across both listeners and
// server restarts, so one id follows one connection through every log.
std::uint64_t next_connection_id();

// "address:port", with brackets around an IPv6 address; an IPv4-mapped
// one is written as the IPv4 address.
std::string describe(const tcp::endpoint& endpoint);

}  // namespace batchcast::net
