#include "net/dial_gate.hpp"

#include <stdexcept>

#include "common/host_port.hpp"
#include "common/log.hpp"
#include "net/listener.hpp"

namespace batchcast::net {

namespace {

connection_limits::wording dial_gate_wording(const std::string& name) {
  connection_limits::wording names;
  names.listener = name;
  names.process_cap = "the " + name + "'s connection cap";
  names.per_address_cap.clear();  // it has none
  names.refusing = "closing this node's own connections to the peer";
  names.refused = "this node's own connections to the peer closed";
  return names;
}

}  // namespace

dial_gate::dial_gate(asio::io_context& context, dial_gate_settings settings,
                     std::shared_ptr<metrics> counters)
    : shared_{std::make_shared<gate_shared>()} {
  shared_->accepted = basp_end::accepting;
  shared_->target_host = settings.peer_host;
  shared_->target_port = settings.peer_port;
  shared_->name = "dial gate to peer " +
                  host_and_port(settings.peer_host, settings.peer_port);
  shared_->limits = settings.session;
  shared_->cluster_secret = settings.cluster_secret;
  shared_->refusals = settings.refusals;
  shared_->peer_index = settings.peer_index;
  shared_->counters = counters;
  // Only this node's middleman may connect: each session checks that
  // the connection comes from this process (own_connection.hpp), since
  // the gate greets the peer with the cluster secret on its behalf.
  listener_ = listen_for_gate(context, "127.0.0.1", 0, settings.max_connections,
                              dial_gate_wording(shared_->name), shared_);
}

dial_gate::~dial_gate() = default;

void dial_gate::start() {
  listener_->start();
  logger("net")->debug("{} listening=127.0.0.1:{}", shared_->name, port());
}

void dial_gate::stop() {
  listener_->stop();
}

std::uint16_t dial_gate::port() const {
  return listener_->port();
}

}  // namespace batchcast::net
