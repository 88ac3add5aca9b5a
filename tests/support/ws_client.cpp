#include "tests/support/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace batchcast::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// Reads are asynchronous so a time limit can end the wait without
// cancelling the read (which would break the stream): a read still pending
// when its limit passes simply stays pending for the next call.
struct ws_client::impl {
  asio::io_context io;
  websocket::stream<tcp::socket> ws{io};
  beast::flat_buffer buffer;
  bool reading = false;
  bool read_done = false;
  beast::error_code read_error;
  bool closed = false;
  std::uint16_t close_code = 0;
  std::string outgoing;  // kept alive while an asynchronous write runs
  websocket::response_type response;
};

ws_client::ws_client() : impl_(std::make_unique<impl>()) {}

ws_client::~ws_client() {
  beast::error_code ignored;
  impl_->ws.next_layer().close(ignored);
}

int ws_client::connect(const ws_client_options& options) {
  tcp::resolver resolver{impl_->io};
  auto& socket = impl_->ws.next_layer();
  auto endpoints = resolver.resolve(options.host, std::to_string(options.port));
  if (options.local_address.empty()) {
    asio::connect(socket, endpoints);
  } else {
    auto target = endpoints.begin()->endpoint();
    socket.open(target.protocol());
    socket.bind({asio::ip::make_address(options.local_address), 0});
    socket.connect(target);
  }
  if (options.offer_deflate) {
    websocket::permessage_deflate deflate;
    deflate.client_enable = true;
    impl_->ws.set_option(deflate);
  }
  impl_->ws.set_option(websocket::stream_base::decorator(
      [options](websocket::request_type& request) {
        if (!options.origin.empty())
          request.set(http::field::origin, options.origin);
        if (!options.cookie.empty())
          request.set(http::field::cookie, options.cookie);
      }));
  auto& response = impl_->response;
  beast::error_code ec;
  impl_->ws.handshake(response,
                      options.host + ":" + std::to_string(options.port),
                      options.path, ec);
  return response.result_int();
}

std::string ws_client::response_header(const std::string& name) const {
  return std::string{impl_->response[name]};
}

std::optional<std::string> ws_client::read_message(
    std::chrono::milliseconds limit) {
  auto& state = *impl_;
  if (state.closed || (state.read_done && state.read_error))
    return std::nullopt;
  if (!state.reading) {
    state.reading = true;
    state.read_done = false;
    state.buffer.clear();
    state.ws.async_read(state.buffer,
                        [&state](beast::error_code ec, std::size_t) {
                          state.read_done = true;
                          state.read_error = ec;
                        });
  }
  state.io.restart();
  state.io.run_for(limit);
  if (!state.read_done)
    return std::nullopt;  // still pending; the next call keeps waiting
  state.reading = false;
  // A close frame may arrive just before the TCP teardown fails (the
  // server may drop the connection right after it), so the close code the
  // server sent counts even when the read ends with a transport error.
  if (state.read_error == websocket::error::closed ||
      (state.read_error && state.ws.reason().code != 0)) {
    state.closed = true;
    state.close_code = state.ws.reason().code;
  }
  if (state.read_error)
    return std::nullopt;
  return beast::buffers_to_string(state.buffer.data());
}

std::uint16_t ws_client::close_code() const {
  return impl_->close_code;
}

bool ws_client::closed() const {
  return impl_->closed;
}

bool ws_client::send_text(std::size_t size) {
  beast::error_code ec;
  impl_->ws.text(true);
  impl_->ws.write(asio::buffer(std::string(size, 'x')), ec);
  return !ec;
}

bool ws_client::send_text_bytes(const std::string& payload) {
  beast::error_code ec;
  impl_->ws.text(true);
  impl_->ws.write(asio::buffer(payload), ec);
  return !ec;
}

bool ws_client::send_binary(std::size_t size) {
  beast::error_code ec;
  impl_->ws.binary(true);
  impl_->ws.write(asio::buffer(std::string(size, '\x01')), ec);
  impl_->ws.text(true);
  return !ec;
}

bool ws_client::send_empty_fragment() {
  beast::error_code ec;
  impl_->ws.text(true);
  impl_->ws.write_some(false, asio::const_buffer{}, ec);
  return !ec;
}

bool ws_client::send_ping() {
  beast::error_code ec;
  impl_->ws.ping({}, ec);
  return !ec;
}

void ws_client::start_sending_text(std::size_t size) {
  impl_->outgoing.assign(size, 'x');
  impl_->ws.text(true);
  impl_->ws.async_write(asio::buffer(impl_->outgoing),
                        [](beast::error_code, std::size_t) {});
}

http_result http_request(const std::string& host, std::uint16_t port,
                         const std::string& method, const std::string& target,
                         const std::string& body,
                         const std::string& authorization,
                         const std::string& extra_header_name,
                         const std::string& extra_header_value) {
  asio::io_context io;
  tcp::socket socket{io};
  tcp::resolver resolver{io};
  asio::connect(socket, resolver.resolve(host, std::to_string(port)));

  http::request<http::string_body> request{http::string_to_verb(method), target,
                                           11};
  request.set(http::field::host, host + ":" + std::to_string(port));
  if (!authorization.empty())
    request.set(http::field::authorization, authorization);
  if (!extra_header_name.empty())
    request.set(extra_header_name, extra_header_value);
  if (!body.empty() || method == "POST") {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
  }
  beast::error_code ec;
  http::write(socket, request, ec);

  http_result result;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  http::read(socket, buffer, parser, ec);
  if (!ec || parser.is_header_done()) {
    result.status = parser.get().result_int();
    result.body = parser.get().body();
  }
  return result;
}

}  // namespace batchcast::testing
