// One connection to the internal listener: HTTP/1.1 with keep-alive, one
// request at a time, each answered by publish_api. On a TLS listener the
// TLS handshake comes first, within the request timeout. `Stream` is
// plain_stream or tls_stream (see transport.hpp).
//
// Owned by its pending handlers, and by the answer gate while the actor
// side works on a request. Runs on the socket's strand. Holds the slot
// that counts its connection in the internal listener's cap until it is
// destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/metrics.hpp"
#include "net/answer_gate.hpp"
#include "net/asio.hpp"
#include "net/connection_limits.hpp"
#include "net/publish_api.hpp"
#include "net/request_tally.hpp"
#include "net/transport.hpp"

namespace batchcast::net {

// The internal listener's sessions wait for the actor side's answers here.
using api_gate = answer_gate<publish_api::response>;

struct api_limits {
  std::size_t max_body_bytes = 16 * 1024;
  std::chrono::milliseconds request_timeout{std::chrono::seconds{30}};
};

template <class Stream>
class api_session : public std::enable_shared_from_this<api_session<Stream>> {
 public:
  // `tls` is the listener's TLS context (null for plain_stream). `slot`
  // counts this connection (empty when the listener has no cap); what it
  // counts in must outlive the session.
  // `requests` counts each request from when it is handed on to its
  // answer's last byte, and refuses new ones once the server stops.
  api_session(tcp::socket socket, asio::ssl::context* tls,
              std::shared_ptr<const publish_api> api,
              std::shared_ptr<api_gate> gate, api_limits limits,
              std::shared_ptr<metrics> counters,
              std::shared_ptr<request_tally> requests,
              std::uint64_t connection_id, std::string peer,
              connection_limits::slot slot);

  void start();

 private:
  using std::enable_shared_from_this<api_session>::shared_from_this;

  void on_tls_handshake(error_code ec);
  void do_read();
  void on_header(error_code ec, std::size_t bytes);
  void do_read_body();
  void on_body(error_code ec, std::size_t bytes);
  void hold_for_answer();
  void on_continue(error_code ec, std::size_t bytes);
  void write(publish_api::response answer);
  void on_write(error_code ec, std::size_t bytes);
  void answer_error(error_code ec);

  const asio::any_io_executor executor_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<publish_api::response> response_;
  std::shared_ptr<const publish_api> api_;
  std::shared_ptr<api_gate> gate_;
  api_limits limits_;
  std::shared_ptr<metrics> counters_;  // responses by status code
  std::shared_ptr<request_tally> requests_;
  request_tally::ticket answering_;  // the request being answered, if any
  std::uint64_t connection_id_;
  std::string peer_;
  connection_limits::slot slot_;
};

extern template class api_session<plain_stream>;
extern template class api_session<tls_stream>;

}  // namespace batchcast::net
