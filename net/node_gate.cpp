#include "net/node_gate.hpp"

#include <stdexcept>

#include "common/host_port.hpp"
#include "common/log.hpp"
#include "net/listener.hpp"

namespace batchcast::net {

namespace {

connection_limits::wording gate_wording() {
  connection_limits::wording names;
  names.listener = "node gate";
  names.process_cap = "the node gate's connection cap";
  names.per_address_cap.clear();  // it has none
  names.refusing = "closing new connections to the node port at accept";
  names.refused = "connections to the node port closed at accept";
  return names;
}

}  // namespace

node_gate::node_gate(asio::io_context& context, node_gate_settings settings,
                     std::shared_ptr<metrics> counters)
    : host_{settings.host}, shared_{std::make_shared<gate_shared>()} {
  shared_->accepted = basp_end::dialing;
  shared_->target_host = "127.0.0.1";
  shared_->target_port = settings.middleman_port;
  shared_->name = "node gate";
  shared_->limits = settings.session;
  shared_->cluster_secret = settings.cluster_secret;
  shared_->greetings =
      std::make_shared<greeting_room<node_gate_session>>(settings.max_greeting);
  shared_->counters = counters;
  try {
    listener_ =
        listen_for_gate(context, settings.host, settings.port,
                        settings.max_connections, gate_wording(), shared_);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string{"cluster node port: "} + e.what());
  }
}

node_gate::~node_gate() = default;

void node_gate::start() {
  listener_->start();
  logger("net")->info(
      "node gate listening={} middleman=127.0.0.1:{} max_connections={} "
      "max_greeting={} max_payload={} first_message_timeout={}ms "
      "idle_timeout={}ms",
      host_and_port(host_, port()), shared_->target_port,
      shared_->cap->limits().max_connections, shared_->greetings->room(),
      shared_->limits.max_payload,
      shared_->limits.first_message_timeout.count(),
      shared_->limits.idle_timeout.count());
}

void node_gate::stop() {
  listener_->stop();
}

std::uint16_t node_gate::port() const {
  return listener_->port();
}

std::size_t node_gate::open() const {
  return shared_->cap->open();
}

}  // namespace batchcast::net
