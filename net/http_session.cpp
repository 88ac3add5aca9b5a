#include "net/http_session.hpp"

#include <vector>

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "common/log.hpp"
#include "common/log_throttle.hpp"
#include "common/throttled_log.hpp"
#include "net/cookies.hpp"
#include "net/fail.hpp"
#include "net/head_response.hpp"
#include "net/probes.hpp"
#include "net/routes.hpp"
#include "net/server_context.hpp"
#include "net/status_page.hpp"
#include "net/status_page_handler.hpp"
#include "net/upgrade_check.hpp"
#include "net/ws_session.hpp"

namespace batchcast::net {

namespace {

// Refusals any client can cause at will, each kind throttled on its own.
log_throttle origin_refusals_logged;
log_throttle host_refusals_logged;

// Large enough for any browser's upgrade request with its cookies.
constexpr std::uint32_t header_limit = 8 * 1024;

// Sent with every 503. Browsers ignore it for WebSockets, but scripted
// clients and proxies honour it, and connections free up in seconds.
constexpr const char* retry_after_seconds = "10";

const std::shared_ptr<spdlog::logger>& log() {
  static const auto instance = logger("net");
  return instance;
}

// The client sent something that is not HTTP: worth a 400. (A peer that
// went away before finishing its request gets nothing.)
bool is_malformed_request(const error_code& ec) {
  static const auto& http_errors =
      http::make_error_code(http::error::bad_target).category();
  return ec.category() == http_errors && ec != http::error::end_of_stream &&
         ec != http::error::partial_message;
}

}  // namespace

template <class Stream>
http_session<Stream>::http_session(tcp::socket socket, asio::ssl::context* tls,
                                   std::shared_ptr<server_context> context,
                                   std::uint64_t connection_id,
                                   std::string peer,
                                   connection_limits::slot slot)
    : stream_{open_stream<Stream>(std::move(socket), tls)},
      context_{std::move(context)},
      connection_id_{connection_id},
      peer_{std::move(peer)},
      slot_{std::move(slot)} {}

template <class Stream>
void http_session<Stream>::start() {
  deadline_ =
      std::chrono::steady_clock::now() + context_->settings.upgrade_timeout;
  beast::get_lowest_layer(stream_).expires_at(deadline_);
  if constexpr (is_tls<Stream>) {
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = shared_from_this()](error_code ec) {
                              self->on_tls_handshake(ec);
                            });
  } else {
    do_read();
  }
}

template <class Stream>
void http_session<Stream>::on_tls_handshake(error_code ec) {
  if (ec) {
    // Counted, so that an operator sees clients refusing the certificate
    // (or speaking plain HTTP to this port) without debug logs.
    context_->counters->count_handshake(ec == beast::error::timeout
                                            ? handshake_outcome::timeout
                                            : handshake_outcome::tls_failed);
    tls_handshake_failed(connection_id_, peer_, ec);
    error_code ignored;
    socket_of(stream_).close(ignored);
    return;
  }
  do_read();
}

template <class Stream>
void http_session<Stream>::do_read() {
  parser_.emplace();
  parser_->header_limit(header_limit);
  // Only the header is read: an upgrade request has no body, and any other
  // request is answered and the connection closed without reading one.
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, std::size_t bytes) {
        self->on_read(ec, bytes);
      });
}

template <class Stream>
void http_session<Stream>::on_read(error_code ec, std::size_t) {
  if (ec == http::error::header_limit) {
    respond(http::status::request_header_fields_too_large, "");
    return;
  }
  if (is_malformed_request(ec)) {
    log()->debug("conn={} peer={} bad request: {}", connection_id_, peer_,
                 ec.message());
    respond(http::status::bad_request, "");
    return;
  }
  if (ec) {
    if (ec == beast::error::timeout)
      context_->counters->count_handshake(handshake_outcome::timeout);
    else if (ec.category() == asio::error::get_ssl_category())
      // A TLS 1.3 client refusing the certificate after the handshake.
      context_->counters->count_handshake(handshake_outcome::tls_failed);
    fail(connection_id_, "reading upgrade request", ec);
    return;
  }
  route();
}

template <class Stream>
void http_session<Stream>::route() {
  const auto& request = parser_->get();
  auto target = request.target();

  if (is_health_route(target) || is_ready_route(target)) {
    counts_as_handshake_ = false;
    if (request.method() != http::verb::get &&
        request.method() != http::verb::head)
      return respond(http::status::method_not_allowed, "");
    if (is_ready_route(target))
      return answer_readiness();
    return respond(http::status::ok, R"({"status":"ok"})");
  }

  if (auto page_batch_id = parse_status_page_route(target)) {
    counts_as_handshake_ = false;
    if (request.method() != http::verb::get)
      return respond(http::status::method_not_allowed, "");
    return show_status_page(std::move(*page_batch_id));
  }

  auto batch_id = parse_watch_route(target);
  if (!batch_id) {
    log()->debug("conn={} peer={} 404 not a route", connection_id_, peer_);
    return respond(http::status::not_found, "");
  }
  // Everything Beast's accept would refuse is refused here, before the
  // session is looked up: past this point the upgrade is ours to decide.
  if (auto refusal = check_upgrade(request))
    return refuse_upgrade(*batch_id, refusal->status, refusal->why);
  if (request.chunked() || parser_->content_length().value_or(0) > 0)
    return refuse_upgrade(*batch_id, http::status::bad_request, "a body");
  // RFC 6455 has the client wait for the 101 before it sends anything.
  // Bytes sent along with the request are in our buffer, which the
  // WebSocket does not inherit: they would be lost and the frames after
  // them read out of step. Refused, so that client learns why.
  if (buffer_.size() > 0)
    return refuse_upgrade(*batch_id, http::status::bad_request,
                          "sent data before the 101");

  // More than one Origin is not something a browser sends.
  auto origins = request.equal_range(http::field::origin);
  std::optional<std::string_view> origin;
  auto count = std::distance(origins.first, origins.second);
  if (count == 1)
    origin = origins.first->value();
  auto verdict =
      count > 1 ? origin_verdict::malformed : context_->origins.check(origin);
  if (verdict != origin_verdict::allowed) {
    log_throttled(
        *log(), spdlog::level::info, origin_refusals_logged,
        fmt::format("conn={} batch={} peer={} refused 403: origin {}",
                    connection_id_, *batch_id, peer_, to_string(verdict)));
    return respond(http::status::forbidden, "");
  }

  if (!slot_)
    return refuse_over_capacity();
  upgrade(std::move(*batch_id));
}

template <class Stream>
void http_session<Stream>::refuse_upgrade(const std::string& batch_id,
                                          http::status status,
                                          const char* why) {
  // Any client can send these at will, and the answer tells it why:
  // debug only, counted in the handshake metrics by respond().
  log()->debug("conn={} batch={} peer={} {} {}", connection_id_, batch_id,
               peer_, static_cast<unsigned>(status), why);
  respond(status, "");
}

template <class Stream>
void http_session<Stream>::refuse_over_capacity() {
  // One line per refusal only at debug: the limits log bursts.
  log()->debug("conn={} peer={} refused 503: connection cap", connection_id_,
               peer_);
  context_->limits.refused(slot_.refused_by(), peer_);
  respond(http::status::service_unavailable, "");
}

template <class Stream>
std::string http_session<Stream>::session_cookie() const {
  const auto& request = parser_->get();
  std::vector<std::string_view> cookie_headers;
  auto cookies = request.equal_range(http::field::cookie);
  for (auto each = cookies.first; each != cookies.second; ++each)
    cookie_headers.push_back(each->value());
  return find_cookie(cookie_headers, context_->settings.session_cookie_name)
      .value_or("");
}

template <class Stream>
void http_session<Stream>::upgrade(std::string batch_id) {
  auto session_key = session_cookie();

  // From here the WebSocket stream keeps its own time; the decision
  // deadline is the rest of the upgrade deadline.
  beast::get_lowest_layer(stream_).expires_never();
  using layer = metered_stream<websocket_layer_t<Stream>>;
  using websocket_session = ws_session<layer>;
  typename websocket_session::identity who{connection_id_, std::move(batch_id),
                                           peer_};
  auto session = std::make_shared<websocket_session>(
      layer{hand_over(stream_), context_->settings.max_client_message_bytes},
      parser_->release(), context_, std::move(who), std::move(slot_));
  parser_.reset();
  session->start(std::move(session_key), deadline_);
}

template <class Stream>
void http_session<Stream>::show_status_page(std::string batch_id) {
  const auto& request = parser_->get();
  // One Host, and one Django would serve: a page that shows who may see
  // what must not answer to a name an attacker's DNS points here.
  auto hosts = request.equal_range(http::field::host);
  if (std::distance(hosts.first, hosts.second) != 1 ||
      !is_allowed_host(hosts.first->value(),
                       context_->settings.allowed_hosts)) {
    log_throttled(*log(), spdlog::level::info, host_refusals_logged,
                  fmt::format("conn={} batch={} peer={} page refused 400: "
                              "host not allowed",
                              connection_id_, batch_id, peer_));
    return respond(http::status::bad_request, "");
  }
  if (!slot_)
    return refuse_over_capacity();

  status_page_request page;
  page.connection_id = connection_id_;
  page.batch_id = std::move(batch_id);
  page.session_key = session_cookie();
  page.peer = peer_;
  page.host = std::string{hosts.first->value()};
  page.http_version = request.version() == 10 ? 10 : 11;
  if (!hold_for_answer())
    return;  // the server is stopping; the socket goes with it
  const void* key = this;
  answer_status_page(context_, std::move(page),
                     [context = context_, key](page_response response) {
                       context->pages.deliver(key, std::move(response));
                     });
}

template <class Stream>
void http_session<Stream>::answer_readiness() {
  unsigned version = parser_->get().version() == 10 ? 10 : 11;
  if (!hold_for_answer())
    return;  // the server is stopping; the socket goes with it
  const void* key = this;
  check_readiness(
      context_, [context = context_, key, version](probe_answer answer) {
        auto response = std::make_unique<http::response<http::string_body>>(
            answer.status, version);
        response->set(http::field::server, "batchcast");
        response->set(http::field::content_type, answer.content_type);
        response->set(http::field::cache_control, "no-store");
        response->body() = std::move(answer.body);
        response->keep_alive(false);
        response->prepare_payload();
        context->pages.deliver(key, std::move(response));
      });
}

// The answer comes on a CAF thread; the stream is touched only on its
// strand, reached through the server's gate (see answer_gate.hpp), which
// also keeps this session alive until then. Meanwhile no I/O is pending,
// and the upgrade deadline still bounds the write.
template <class Stream>
bool http_session<Stream>::hold_for_answer() {
  auto self = shared_from_this();
  return context_->pages.hold(this, [self](page_response response) {
    asio::post(self->stream_.get_executor(),
               [self, response = std::move(response)]() mutable {
                 self->send(std::move(response));
               });
  });
}

template <class Stream>
void http_session<Stream>::respond(http::status status, std::string body) {
  if (counts_as_handshake_)
    context_->counters->count_handshake(static_cast<unsigned>(status));
  unsigned version = parser_ ? parser_->get().version() : 11;
  if (version != 10 && version != 11)
    version = 11;
  response_ =
      std::make_unique<http::response<http::string_body>>(status, version);
  response_->set(http::field::server, "batchcast");
  if (status == http::status::upgrade_required) {
    response_->set(http::field::upgrade, "websocket");
    response_->set(http::field::sec_websocket_version, "13");
  } else if (status == http::status::method_not_allowed) {
    response_->set(http::field::allow, answers_head() ? "GET, HEAD" : "GET");
  } else if (status == http::status::service_unavailable) {
    response_->set(http::field::retry_after, retry_after_seconds);
  }
  if (body.empty()) {
    response_->set(http::field::content_type, "text/plain");
    body = std::to_string(static_cast<unsigned>(status)) + " " +
           std::string{http::obsolete_reason(status)} + "\n";
  } else {
    response_->set(http::field::content_type, "application/json");
  }
  response_->body() = std::move(body);
  response_->keep_alive(false);
  if (status == http::status::upgrade_required)
    response_->set(http::field::connection, "Upgrade, close");
  response_->prepare_payload();
  send(std::move(response_));
}

template <class Stream>
bool http_session<Stream>::answers_head() const {
  if (!parser_)
    return false;
  auto target = parser_->get().target();
  return is_health_route(target) || is_ready_route(target);
}

template <class Stream>
void http_session<Stream>::send(
    std::unique_ptr<http::response<http::string_body>> response) {
  response_ = std::move(response);
  if (parser_ && parser_->get().method() == http::verb::head)
    drop_body_for_head(*response_);
  parser_.reset();

  http::async_write(
      stream_, *response_,
      [self = shared_from_this()](error_code ec, std::size_t bytes) {
        self->on_write(ec, bytes);
      });
}

template <class Stream>
void http_session<Stream>::on_write(error_code ec, std::size_t) {
  if (ec) {
    fail(connection_id_, "writing response", ec);
    error_code ignored;
    socket_of(stream_).close(ignored);
    return;
  }
  // TLS waits for the client's close_notify within the upgrade deadline.
  end_connection(stream_, [self = shared_from_this()] {});
}

template class http_session<plain_stream>;
template class http_session<tls_stream>;

}  // namespace batchcast::net
