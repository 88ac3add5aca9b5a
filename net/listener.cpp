#include "net/listener.hpp"

#include <atomic>
#include <stdexcept>

#include <boost/asio/post.hpp>

#include "common/host_port.hpp"
#include "common/log.hpp"
#include "net/fail.hpp"

namespace batchcast::net {

namespace {

// Long enough for a saturated process to free descriptors, short enough
// that clients barely notice.
constexpr std::chrono::milliseconds accept_backoff{100};

const std::shared_ptr<spdlog::logger>& log() {
  static const auto instance = logger("net");
  return instance;
}

// Errors that concern only the connection that was being accepted.
bool is_per_connection(const error_code& ec) {
  return ec == asio::error::connection_aborted ||
         ec == asio::error::connection_reset;
}

}  // namespace

std::uint64_t next_connection_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::string describe(const tcp::endpoint& endpoint) {
  auto address = endpoint.address();
  // A dual-stack listener sees IPv4 clients so; they are counted, and
  // named, as the IPv4 addresses they are.
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address =
        asio::ip::make_address_v4(asio::ip::v4_mapped_t{}, address.to_v6());
  if (address.is_v6())
    return "[" + address.to_string() + "]:" + std::to_string(endpoint.port());
  return address.to_string() + ":" + std::to_string(endpoint.port());
}

listener::listener(asio::io_context& context, const std::string& host,
                   std::uint16_t port, std::string name,
                   session_factory factory)
    : context_{context},
      strand_{asio::make_strand(context)},
      acceptor_{strand_},
      backoff_{strand_},
      name_{std::move(name)},
      factory_{std::move(factory)} {
  auto where = host_and_port(host, port);
  error_code ec;
  tcp::resolver resolver{context};
  auto endpoints = resolver.resolve(
      host, std::to_string(port),
      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty())
    throw std::runtime_error("cannot listen on " + where + ": " +
                             (ec ? ec.message() : "no address"));

  // The first address that binds wins (a name may resolve to several).
  for (const auto& entry : endpoints) {
    auto endpoint = entry.endpoint();
    acceptor_.close(ec);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec)
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(endpoint, ec);
    if (!ec)
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec)
      break;
  }
  if (ec)
    throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();
}

void listener::start() {
  asio::post(strand_, [self = shared_from_this()] { self->do_accept(); });
}

void listener::refuse_when_out_of_descriptors(
    std::string refusal, std::function<void()> on_refused) {
  spare_ = std::make_unique<spare_descriptor>(std::move(refusal));
  on_descriptor_refusal_ = std::move(on_refused);
}

void listener::cap_connections(connection_limits& limits, std::string refusal,
                               std::function<void()> on_refused) {
  limits_ = &limits;
  cap_refusal_ = std::move(refusal);
  on_cap_refusal_ = std::move(on_refused);
}

void listener::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    error_code ignored;
    self->acceptor_.close(ignored);
    self->backoff_.cancel();
  });
}

void listener::do_accept() {
  if (!acceptor_.is_open())
    return;
  // Each connection gets a strand of its own: its handlers never run
  // concurrently, whichever I/O thread picks them up.
  acceptor_.async_accept(
      asio::make_strand(context_),
      [self = shared_from_this()](error_code ec, tcp::socket socket) {
        self->on_accept(ec, std::move(socket));
      });
}

void listener::on_accept(error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open())
    return;  // stopped
  if (ec && is_per_connection(ec))
    return do_accept();
  if (ec && spare_ && spare_descriptor::is_out_of_descriptors(ec) &&
      spare_->refuse_one(acceptor_)) {
    if (on_descriptor_refusal_)
      on_descriptor_refusal_();
    if (refused_in_a_row_++ == 0)
      log()->warn(
          "{} listener: out of file descriptors; refusing new connections "
          "until some close",
          name_);
    return do_accept();  // one connection fewer waits; no spin
  }
  if (ec) {
    // Out of descriptors or memory: retrying at once would spin.
    if (failures_in_a_row_++ == 0)
      log()->warn("{} listener: accept failed: {}; retrying every {} ms", name_,
                  ec.message(), accept_backoff.count());
    backoff_.expires_after(accept_backoff);
    backoff_.async_wait([self = shared_from_this()](error_code wait_ec) {
      self->on_backoff(wait_ec);
    });
    return;
  }
  if (failures_in_a_row_ > 0 || refused_in_a_row_ > 0) {
    log()->warn(
        "{} listener: accepting again after {} failed attempts and {} "
        "connections refused",
        name_, failures_in_a_row_, refused_in_a_row_);
    failures_in_a_row_ = 0;
    refused_in_a_row_ = 0;
  }

  error_code peer_ec;
  auto peer = socket.remote_endpoint(peer_ec);
  if (!peer_ec) {
    auto id = next_connection_id();
    auto description = describe(peer);
    log()->debug("conn={} peer={} {} connection", id, description, name_);
    if (auto slot = admit(socket, peer, id, description)) {
      // Hand over on the socket's own strand, not the acceptor's.
      auto executor = socket.get_executor();
      asio::post(executor, [factory = factory_, socket = std::move(socket), id,
                            description = std::move(description),
                            slot = std::move(*slot)]() mutable {
        factory(std::move(socket), id, std::move(description), std::move(slot));
      });
    }
  }
  do_accept();
}

std::optional<connection_limits::slot> listener::admit(
    tcp::socket& socket, const tcp::endpoint& peer, std::uint64_t id,
    const std::string& described) {
  if (!limits_)
    return connection_limits::slot{};
  auto slot = limits_->try_acquire(peer.address());
  if (slot)
    return slot;
  // Refused right here: a flood over the cap costs an accept and a close
  // each, never a session, a strand hop or a read deadline.
  log()->debug("conn={} peer={} {} connection refused: connection cap", id,
               described, name_);
  // Counted before it is answered, so whoever sees the answer sees the
  // count too.
  limits_->refused(slot.refused_by(), described);
  if (on_cap_refusal_)
    on_cap_refusal_();
  refuse_at_once(socket, cap_refusal_);
  return std::nullopt;
}

void listener::on_backoff(error_code ec) {
  if (ec == asio::error::operation_aborted)
    return;
  do_accept();
}

}  // namespace batchcast::net
