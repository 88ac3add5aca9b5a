#include "net/server.hpp"

#include <functional>
#include <optional>
#include <stdexcept>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ssl/context.hpp>

#include "common/host_port.hpp"
#include "common/log.hpp"
#include "net/api_session.hpp"
#include "net/http_session.hpp"
#include "net/listener.hpp"
#include "net/probes.hpp"
#include "net/publish_api.hpp"
#include "net/server_context.hpp"
#include "net/tls_context.hpp"
#include "net/transport.hpp"

namespace batchcast::net {

namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto instance = logger("net");
  return instance;
}

const char* describe_transport(const tls_context_ptr& tls) {
  return tls ? "TLS" : "plain TCP";
}

tls_context_ptr load_tls(const tls_files& files, const char* listener_name) {
  if (!files.enabled())
    return nullptr;
  try {
    return make_server_tls_context(files);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string{listener_name} +
                             " listener: " + e.what());
  }
}

std::string describe_cap(std::size_t cap) {
  return cap == 0 ? std::string{"none"} : std::to_string(cap);
}

status_backend actor_backend(caf::actor_system& system,
                             const actors::services& running,
                             const std::shared_ptr<server_context>& context) {
  status_backend backend;
  backend.publish = [&system, running](actors::publish_request request,
                                       actors::api_callback done) {
    actors::publish(system, running, std::move(request), std::move(done));
  };
  backend.fetch = [&system, running](std::string batch_id,
                                     actors::api_callback done) {
    actors::fetch(system, running, std::move(batch_id), std::move(done));
  };
  // Weak: the server holds the context for as long as requests are
  // served; the API need not keep it, or the actors it names, alive.
  std::weak_ptr<server_context> weak = context;
  backend.ready = [weak](std::function<void(probe_answer)> done) {
    if (auto context = weak.lock())
      return check_readiness(context, std::move(done));
    done(shutting_down_answer());
  };
  backend.metrics = [weak] {
    if (auto context = weak.lock())
      return metrics_answer(*context);
    return shutting_down_answer();
  };
  backend.cluster = [&system, running](status_backend::cluster_callback done) {
    actors::cluster_status(system, running, std::move(done));
  };
  return backend;
}

// What a producer gets when the internal listener cannot take its
// connection (out of descriptors, or at its cap), instead of waiting in
// the backlog: a retryable 503, written whole before its request is read.
std::string refusal_answer(const std::string& reason) {
  std::string body = R"({"error":")" + reason + R"("})";
  return "HTTP/1.1 503 Service Unavailable\r\nServer: batchcast\r\n"
         "Content-Type: application/json\r\nRetry-After: 1\r\n"
         "Connection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// The internal listener refuses at accept, one connection at a time on
// its strand: one refusal being answered is all there ever is.
constexpr connection_limits::caps internal_caps{internal_connection_cap, 0, 1};

connection_limits::wording internal_wording(const server_settings& settings) {
  connection_limits::wording names;
  names.listener = "internal";
  names.process_cap = "the internal listener's cap";
  names.per_address_cap.clear();  // it has none
  if (settings.internal_tls.enabled()) {
    names.refusing = "closing new connections at accept";
    names.refused = "connections closed at accept";
  } else {
    names.refusing = "answering new connections with 503 at accept";
    names.refused = "connections answered 503 at accept";
  }
  return names;
}

}  // namespace

// Declaration order is destruction order reversed: the listeners and the
// threads go before the io_context they use.
struct server::impl {
  impl(caf::actor_system& system, actors::services running,
       server_settings settings)
      : internal_limits{internal_caps, {}, {}, internal_wording(settings)},
        io{settings.io_threads > 0 ? settings.io_threads : 1},
        context{std::make_shared<server_context>(system, running, settings)},
        api{std::make_shared<publish_api>(
            actor_backend(system, running, context), settings.publish_token,
            settings.max_publish_body_bytes, settings.metrics_token)},
        gate{std::make_shared<api_gate>()} {}

  void run_io();

  // Before the io_context: the internal sessions release their slots in
  // it, the last of them when the io_context drops its pending handlers.
  connection_limits internal_limits;
  asio::io_context io;
  std::shared_ptr<server_context> context;
  std::shared_ptr<const publish_api> api;
  std::shared_ptr<api_gate> gate;
  // The internal listener's requests being answered: stop() lets them
  // finish.
  std::shared_ptr<request_tally> api_requests =
      std::make_shared<request_tally>();
  std::shared_ptr<listener> public_listener;
  std::shared_ptr<listener> internal_listener;
  std::unique_ptr<node_gate> gate_for_nodes;  // null on a single node
  std::vector<std::unique_ptr<dial_gate>> gates_to_peers;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      work;
  std::vector<std::thread> threads;
  bool running = false;
};

void server::impl::run_io() {
  // Handlers do not throw by design; should one, the thread logs it and
  // keeps serving rather than silently shrinking the pool.
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      log()->error("I/O thread caught an exception: {}", e.what());
    }
  }
}

server::server(caf::actor_system& system, actors::services running,
               server_settings settings)
    : impl_{std::make_unique<impl>(system, std::move(running),
                                   std::move(settings))} {}

server::~server() {
  stop(std::chrono::milliseconds{0});
}

void server::start() {
  auto& state = *impl_;
  if (state.running)
    return;
  const auto& settings = state.context->settings;
  if (settings.publish_token.empty())
    log()->warn(
        "no publish token is set: the publish API refuses every "
        "request with 401");

  // Before anything listens: a bad certificate or key stops the start.
  auto public_tls = load_tls(settings.public_tls, "public");
  auto internal_tls = load_tls(settings.internal_tls, "internal");

  auto context = state.context;
  state.public_listener = std::make_shared<listener>(
      state.io, settings.public_host, settings.public_port, "public",
      // Counted here rather than by the listener: a refused upgrade is
      // read and answered by its session.
      [context, tls = public_tls](tcp::socket socket, std::uint64_t id,
                                  std::string peer, connection_limits::slot) {
        error_code ec;
        auto peer_address = socket.remote_endpoint(ec).address();
        if (ec)
          return;  // gone already
        auto slot = context->limits.try_acquire(peer_address);
        // Too many refusals are being answered already: closing the socket
        // here keeps the flood's descriptors bounded.
        if (slot.closes_at_once())
          return;
        if (tls)
          std::make_shared<http_session<tls_stream>>(
              std::move(socket), tls.get(), context, id, std::move(peer),
              std::move(slot))
              ->start();
        else
          std::make_shared<http_session<plain_stream>>(
              std::move(socket), nullptr, context, id, std::move(peer),
              std::move(slot))
              ->start();
      });

  api_limits limits;
  limits.max_body_bytes = settings.max_publish_body_bytes;
  limits.request_timeout = settings.api_request_timeout;
  state.internal_listener = std::make_shared<listener>(
      state.io, settings.internal_host, settings.internal_port, "internal",
      [api = state.api, gate = state.gate, limits,
       counters = state.context->counters, requests = state.api_requests,
       tls = internal_tls](tcp::socket socket, std::uint64_t id,
                           std::string peer, connection_limits::slot slot) {
        if (tls)
          std::make_shared<api_session<tls_stream>>(
              std::move(socket), tls.get(), api, gate, limits, counters,
              requests, id, std::move(peer), std::move(slot))
              ->start();
        else
          std::make_shared<api_session<plain_stream>>(
              std::move(socket), nullptr, api, gate, limits, counters, requests,
              id, std::move(peer), std::move(slot))
              ->start();
      });

  // Over TLS a plain-text answer would only garble the handshake: the
  // connection is closed without one, which a producer retries as well.
  std::function<void()> count_refusal;
  if (!internal_tls)
    count_refusal = [counters = state.context->counters] {
      counters->count_api_response(503);
    };
  state.internal_listener->refuse_when_out_of_descriptors(
      internal_tls ? std::string{}
                   : refusal_answer("the server is out of file descriptors"),
      count_refusal);
  state.internal_listener->cap_connections(
      state.internal_limits,
      internal_tls
          ? std::string{}
          : refusal_answer("too many connections to the internal listener"),
      std::move(count_refusal));
  // Last: a failing bind here leaves nothing else to undo than what the
  // destructor closes anyway.
  for (const auto& gate : settings.dial_gates)
    state.gates_to_peers.push_back(
        std::make_unique<dial_gate>(state.io, gate, state.context->counters));
  if (settings.node_gate)
    state.gate_for_nodes = std::make_unique<node_gate>(
        state.io, *settings.node_gate, state.context->counters);
  state.public_listener->start();
  state.internal_listener->start();
  if (state.gate_for_nodes)
    state.gate_for_nodes->start();
  for (auto& gate : state.gates_to_peers)
    gate->start();
  state.work.emplace(state.io.get_executor());
  auto thread_count = settings.io_threads > 0 ? settings.io_threads : 1;
  for (int i = 0; i < thread_count; ++i)
    state.threads.emplace_back([&state] { state.run_io(); });
  state.running = true;
  log()->info("listening public={} ({}) internal={} ({}) io_threads={}",
              host_and_port(settings.public_host, public_port()),
              describe_transport(public_tls),
              host_and_port(settings.internal_host, internal_port()),
              describe_transport(internal_tls), thread_count);
  log()->info(
      "public connection caps: max_connections={} per_address={}; "
      "internal listener cap: {}",
      describe_cap(settings.max_connections),
      describe_cap(settings.max_connections_per_address),
      describe_cap(internal_connection_cap));
}

std::uint16_t server::public_port() const {
  return impl_->public_listener ? impl_->public_listener->port() : 0;
}

std::uint16_t server::internal_port() const {
  return impl_->internal_listener ? impl_->internal_listener->port() : 0;
}

std::uint16_t server::node_port() const {
  return impl_->gate_for_nodes ? impl_->gate_for_nodes->port() : 0;
}

std::vector<std::uint16_t> server::dial_gate_ports() const {
  std::vector<std::uint16_t> ports;
  for (const auto& gate : impl_->gates_to_peers)
    ports.push_back(gate->port());
  return ports;
}

std::size_t server::open_sessions() const {
  return impl_->context->sessions.open();
}

std::size_t server::open_public_connections() const {
  return impl_->context->limits.open();
}

std::size_t server::open_public_connections_from(
    const std::string& address) const {
  return impl_->context->limits.open_from(asio::ip::make_address(address));
}

void server::stop(std::chrono::milliseconds grace) {
  auto& state = *impl_;
  if (!state.running)
    return;
  state.running = false;

  auto grace_ends = std::chrono::steady_clock::now() + grace;
  state.context->stopping = true;
  state.public_listener->stop();
  state.context->sessions.close_all();
  if (!state.context->sessions.wait_until_idle(grace))
    log()->warn("{} WebSocket sessions still open after {} ms; dropping them",
                state.context->sessions.open(), grace.count());
  // Only now: until the sockets are gone, /readyz tells a load balancer
  // that this node is leaving, and producers' publishes still commit.
  state.api_requests->stop_taking();
  state.internal_listener->stop();
  // Publishes handed on get their answers, within what is left of the
  // grace: cut off, a producer cannot tell whether its status committed.
  // Later requests on open connections are refused with 503, unstored.
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      grace_ends - std::chrono::steady_clock::now());
  if (!state.api_requests->wait_until_none(
          std::max(left, std::chrono::milliseconds{0})))
    log()->warn(
        "{} publish API requests still unanswered after the {} ms grace; "
        "closing their connections (a status among them may have been "
        "committed all the same: GET it to know)",
        state.api_requests->in_progress(), grace.count());
  if (state.gate_for_nodes)
    state.gate_for_nodes->stop();
  for (auto& gate : state.gates_to_peers)
    gate->stop();

  state.work.reset();
  state.io.stop();
  for (auto& thread : state.threads)
    thread.join();
  state.threads.clear();

  // No I/O thread runs now: free what connection actors may still hold,
  // and let late answers from the actor side find the gate closed.
  state.context->sessions.release_all();
  state.context->services = {};
  state.gate->close();
  state.context->pages.close();
  log()->info("stopped listening");
}

}  // namespace batchcast::net
