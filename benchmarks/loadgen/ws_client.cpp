#include "benchmarks/loadgen/ws_client.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace batchcast::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// Upgrades that take longer than this count as failed; the run's own
// deadline bounds everything else.
constexpr auto upgrade_limit = std::chrono::seconds{30};

// Linux picks the source port at connect() rather than bind() with this
// option, so each source address gets the whole ephemeral range per
// destination instead of all sources sharing one range.
void defer_port_choice(tcp::socket& socket) {
#ifdef IP_BIND_ADDRESS_NO_PORT
  int on = 1;
  ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on,
               sizeof on);
#else
  (void)socket;
#endif
}

}  // namespace

ws_client::ws_client(asio::io_context& io, shared_profile profile,
                     std::string path, std::string session,
                     asio::ip::address source, after_upgrade then,
                     handler on_upgraded, handler on_finished)
    : ws_{asio::make_strand(io)},
      profile_{std::move(profile)},
      path_{std::move(path)},
      session_{std::move(session)},
      source_{source},
      then_{then},
      on_upgraded_{std::move(on_upgraded)},
      on_finished_{std::move(on_finished)} {}

void ws_client::start() {
  asio::dispatch(ws_.get_executor(),
                 [self = shared_from_this()] { self->do_connect(); });
}

void ws_client::close() {
  asio::dispatch(ws_.get_executor(), [self = shared_from_this()] {
    if (self->upgraded() && !self->finished_)
      self->do_close();
  });
}

void ws_client::drop() {
  asio::dispatch(ws_.get_executor(), [self = shared_from_this()] {
    beast::get_lowest_layer(self->ws_).close();
  });
}

void ws_client::do_connect() {
  record_.started = clock_type::now();
  auto& layer = beast::get_lowest_layer(ws_);
  auto& socket = layer.socket();
  beast::error_code ec;
  socket.open(profile_->server.address.is_v4() ? tcp::v4() : tcp::v6(), ec);
  if (!ec && !source_.is_unspecified()) {
    defer_port_choice(socket);
    socket.bind(tcp::endpoint{source_, 0}, ec);
  }
  if (ec)
    return fail_upgrade(ec);
  layer.expires_after(upgrade_limit);
  layer.async_connect(
      tcp::endpoint{profile_->server.address, profile_->server.port},
      beast::bind_front_handler(&ws_client::on_connect, shared_from_this()));
}

void ws_client::on_connect(beast::error_code ec) {
  if (ec)
    return fail_upgrade(ec);
  // From here the websocket stream's own timers apply; the TCP-level one
  // would otherwise cut idle connections.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = upgrade_limit;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [this](websocket::request_type& request) {
        request.set(beast::http::field::cookie,
                    profile_->cookie_name + "=" + session_);
        if (!profile_->origin.empty())
          request.set(beast::http::field::origin, profile_->origin);
        request.set(beast::http::field::user_agent, "batchcast-loadgen");
      }));
  ws_.read_message_max(64 * 1024);

  response_ = std::make_unique<websocket::response_type>();
  ws_.async_handshake(
      *response_, profile_->server.host_header, path_,
      beast::bind_front_handler(&ws_client::on_handshake, shared_from_this()));
}

void ws_client::on_handshake(beast::error_code ec) {
  record_.http_status = response_->result_int();
  response_.reset();
  if (ec)
    record_.http_status = record_.http_status == 101 ? 0 : record_.http_status;
  if (record_.http_status == 101)
    record_.upgraded = clock_type::now();
  // The session key is no longer needed; an idle client keeps less.
  std::string{}.swap(session_);
  if (!upgraded())
    return fail_upgrade(ec);
  upgrade_attempt_ended();
  if (then_ == after_upgrade::close)
    return do_close();
  do_read();
}

void ws_client::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&ws_client::on_read,
                                                    shared_from_this()));
}

void ws_client::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    if (ec == websocket::error::closed)
      record_.closed_cleanly = true;
    return finish(ec == websocket::error::closed ? beast::error_code{} : ec);
  }
  if (!record_.got_message) {
    record_.message = clock_type::now();
    record_.got_message = true;
    record_.message_text = beast::buffers_to_string(buffer_.data());
  }
  buffer_.consume(buffer_.size());
  do_read();
}

void ws_client::do_close() {
  if (closing_)
    return;
  closing_ = true;
  ws_.async_close(
      websocket::close_code::normal,
      beast::bind_front_handler(&ws_client::on_close, shared_from_this()));
}

void ws_client::on_close(beast::error_code ec) {
  if (!ec)
    record_.closed_cleanly = true;
  finish(ec);
}

void ws_client::fail_upgrade(beast::error_code ec) {
  if (ec)
    record_.error = ec.message();
  upgrade_attempt_ended();
  finish(ec);
}

void ws_client::upgrade_attempt_ended() {
  if (upgrade_reported_)
    return;
  upgrade_reported_ = true;
  if (on_upgraded_)
    on_upgraded_(*this);
}

void ws_client::finish(beast::error_code ec) {
  if (finished_)
    return;
  finished_ = true;
  record_.finished = clock_type::now();
  if (ec)
    record_.error = ec.message();
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
  if (on_finished_)
    on_finished_(*this);
  // The callbacks may own the state that created this client; drop them so
  // nothing outlives the run through a cycle.
  on_upgraded_ = nullptr;
  on_finished_ = nullptr;
}

}  // namespace batchcast::bench
