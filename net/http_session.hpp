// The first and only HTTP request on a public connection. It is either a
// WebSocket upgrade to /ws/radius/batch/<uuid>/ that passes the Origin
// check, and becomes a ws_session, or a GET of the status page
// /batches/<uuid>/ (see status_page_handler.hpp), or it gets a plain answer
// (404, 426, 403, ...) and the connection closes. There is no keep-alive here:
// browsers open one connection per WebSocket. A connection over the caps
// (see connection_limits.hpp) has an empty slot: its upgrade or status page
// request is answered 503.
//
// On a TLS listener the TLS handshake comes first, under the same upgrade
// deadline: a client that connects and never says hello is dropped when
// it runs out, and one that speaks plain HTTP is closed after a debug
// line. `Stream` is plain_stream or tls_stream (see transport.hpp).
//
// Owned by its pending handlers (shared_from_this); runs on the socket's
// strand.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/asio.hpp"
#include "net/connection_limits.hpp"
#include "net/transport.hpp"

namespace batchcast::net {

struct server_context;

template <class Stream>
class http_session : public std::enable_shared_from_this<http_session<Stream>> {
 public:
  // `slot` counts this connection, or is empty when a cap refused it.
  // `tls` is the listener's TLS context (null for plain_stream).
  http_session(tcp::socket socket, asio::ssl::context* tls,
               std::shared_ptr<server_context> context,
               std::uint64_t connection_id, std::string peer,
               connection_limits::slot slot);

  // Reads the request, bounded by 8 KiB of headers and the upgrade
  // deadline (settings.upgrade_timeout), which also bounds the TLS
  // handshake.
  void start();

 private:
  using std::enable_shared_from_this<http_session>::shared_from_this;

  void on_tls_handshake(error_code ec);
  void do_read();
  void on_read(error_code ec, std::size_t bytes);
  void route();
  void upgrade(std::string batch_id);
  void show_status_page(std::string batch_id);
  void answer_readiness();
  // Parks this session with the server until an answer computed by the
  // actors is delivered under the key `this`; false once the server is
  // stopping (nothing will be delivered).
  bool hold_for_answer();
  std::string session_cookie() const;
  // Answers a malformed upgrade on the WebSocket route with `status`;
  // `why` goes to the log only.
  void refuse_upgrade(const std::string& batch_id, http::status status,
                      const char* why);
  void refuse_over_capacity();
  void respond(http::status status, std::string body);
  // True for a request HEAD may be used for: the probes.
  bool answers_head() const;
  void send(std::unique_ptr<http::response<http::string_body>> response);
  void on_write(error_code ec, std::size_t bytes);

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::unique_ptr<http::response<http::string_body>> response_;
  std::shared_ptr<server_context> context_;
  std::uint64_t connection_id_;
  std::string peer_;
  std::chrono::steady_clock::time_point deadline_;
  // Answers to anything but probes and status pages count as handshakes.
  bool counts_as_handshake_ = true;
  // Declared after context_, which owns the limits it counts in.
  connection_limits::slot slot_;
};

extern template class http_session<plain_stream>;
extern template class http_session<tls_stream>;

}  // namespace batchcast::net
