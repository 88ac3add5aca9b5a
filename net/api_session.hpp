// One connection to the internal listener: HTTP/1.1 with keep-alive, one
// request at a time, each answered by publish_api. On a TLS listener the
// TLS handshake comes first, within the request timeout. `Stream` is
// plain_stream or tls_stream (see transport.hpp).
//
// Owned by its pending handlers, and by the reply_gate while the actor
// side works on a request. Runs on the socket's strand. Holds the slot
// that counts its connection in the internal listener's cap until it is
// destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/metrics.hpp"
#include "net/asio.hpp"
#include "net/connection_limits.hpp"
#include "net/publish_api.hpp"
#include "net/transport.hpp"

namespace batchcast::net {

// What the reply gate needs of a session, whatever its transport.
class api_exchange {
 public:
  virtual ~api_exchange() = default;

  // On the strand, from the gate.
  virtual void write(publish_api::response answer) = 0;

  virtual const asio::any_io_executor& executor() const = 0;
};

// Hands answers that arrive on CAF threads back to their sessions. While a
// request is with the actor side, the gate holds its session; the answer
// is posted to the session's strand only while the gate is open, and the
// server closes it (dropping the sessions) before the io_context goes, so
// a late answer never touches a dead io_context.
class reply_gate {
 public:
  void hold(std::shared_ptr<api_exchange> session);
  void deliver(api_exchange* session, publish_api::response answer);
  void close();

 private:
  std::mutex mutex_;
  bool closed_ = false;
  std::unordered_map<api_exchange*, std::shared_ptr<api_exchange>> waiting_;
};

struct api_limits {
  std::size_t max_body_bytes = 16 * 1024;
  std::chrono::milliseconds request_timeout{std::chrono::seconds{30}};
};

template <class Stream>
class api_session : public api_exchange,
                    public std::enable_shared_from_this<api_session<Stream>> {
 public:
  // `tls` is the listener's TLS context (null for plain_stream). `slot`
  // counts this connection (empty when the listener has no cap); what it
  // counts in must outlive the session.
  api_session(tcp::socket socket, asio::ssl::context* tls,
              std::shared_ptr<const publish_api> api,
              std::shared_ptr<reply_gate> gate, api_limits limits,
              std::shared_ptr<metrics> counters, std::uint64_t connection_id,
              std::string peer, connection_limits::slot slot);

  void start();

  void write(publish_api::response answer) override;

  const asio::any_io_executor& executor() const override { return executor_; }

 private:
  using std::enable_shared_from_this<api_session>::shared_from_this;

  void on_tls_handshake(error_code ec);
  void do_read();
  void on_header(error_code ec, std::size_t bytes);
  void do_read_body();
  void on_body(error_code ec, std::size_t bytes);
  void on_continue(error_code ec, std::size_t bytes);
  void on_write(error_code ec, std::size_t bytes);
  void answer_error(error_code ec);

  const asio::any_io_executor executor_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<publish_api::response> response_;
  std::shared_ptr<const publish_api> api_;
  std::shared_ptr<reply_gate> gate_;
  api_limits limits_;
  std::shared_ptr<metrics> counters_;  // responses by status code
  std::uint64_t connection_id_;
  std::string peer_;
  connection_limits::slot slot_;
};

extern template class api_session<plain_stream>;
extern template class api_session<tls_stream>;

}  // namespace batchcast::net
