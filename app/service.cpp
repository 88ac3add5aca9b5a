#include "app/service.hpp"

#include <future>
#include <stdexcept>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>

#include "app/thread_plan.hpp"
#include "common/host_port.hpp"
#include "common/log.hpp"

namespace batchcast::app {

namespace {

// The sentence a failed start carries, without the wrapping CAF renders
// around it ("system_error(runtime_error, (...))") for the operator to
// read past.
std::string reason_of(caf::actor_system& system, const caf::error& err) {
  const auto& context = err.context();
  if (context.match_elements<std::string>())
    return context.get_as<std::string>(0);
  return system.render(err);
}

// The node gate in front of the middleman `joined` listens on.
net::node_gate_settings node_gate_for(const actors::cluster_settings& cluster,
                                      const actors::started_cluster& joined,
                                      const std::string& secret) {
  net::node_gate_settings gate;
  gate.cluster_secret = secret;
  gate.host = cluster.node_host;
  gate.port = cluster.node_port;
  // Each configured peer holds one connection to this node, and while it
  // reconnects its old one may linger until CAF or the gate sees it
  // silent: a few per peer. The 16 leave room for nodes that list this
  // one without being listed here.
  gate.max_connections = 4 * cluster.peers.size() + 16;
  gate.middleman_port = joined.middleman_port;
  gate.session.cluster_actor = joined.actor.id();
  gate.session.max_payload = net::default_max_basp_payload;
  // A node's first message (its client handshake) follows the middleman's
  // at once; 5 s is the cluster's own handshake timeout.
  gate.session.first_message_timeout = std::chrono::seconds{5};
  // Past the silence limit, by one heartbeat: a silent peer is let go by
  // the cluster (and by CAF's connection timeout) first, and the gate only
  // ends what they leave open.
  gate.session.idle_timeout = cluster.silence_limit + cluster.heartbeat;
  return gate;
}

// A dial gate per configured peer, held to the node gate's limits.
std::vector<net::dial_gate_settings> dial_gates_for(
    const actors::cluster_settings& cluster,
    const net::gate_session_limits& limits, const std::string& secret) {
  std::vector<net::dial_gate_settings> gates;
  for (const auto& peer : cluster.peers) {
    net::dial_gate_settings gate;
    gate.cluster_secret = secret;
    gate.refusals = cluster.refused_by_gate;
    gate.peer_index = gates.size();
    gate.peer_host = peer.host;
    gate.peer_port = peer.port;
    gate.session = limits;
    gates.push_back(std::move(gate));
  }
  return gates;
}

}  // namespace

service::service(service_settings settings) : settings_(std::move(settings)) {}

service::~service() {
  if (running_)
    stop();
}

void service::start() {
  claim_.emplace(settings_.runtime.state_db_path);
  actor_config_ = std::make_unique<caf::actor_system_config>();
  actors::register_message_types(*actor_config_);
  auto plan = plan_threads(settings_.network.io_threads,
                           settings_.actor_threads, available_cores());
  settings_.network.io_threads = plan.io_threads;
  actor_config_->set("scheduler.max-threads", plan.actor_threads);
  actor_config_->set("scheduler.policy",
                     caf::atom_from_string(settings_.actor_scheduler));
  settings_.runtime.clustered = settings_.cluster.node_port != 0;
  if (settings_.runtime.clustered)
    actors::configure_cluster(*actor_config_, settings_.cluster);
  system_ = std::make_unique<caf::actor_system>(*actor_config_);

  auto started = open_services();
  if (!started)
    throw std::runtime_error(reason_of(*system_, started.error()));
  actors_ = *started;

  // Set once the dial gates listen, which is after the cluster starts:
  // the network layer needs the cluster actor.
  std::promise<std::vector<std::uint16_t>> gate_ports;
  if (settings_.cluster.node_port != 0) {
    settings_.cluster.gate_ports = gate_ports.get_future().share();
    settings_.cluster.refused_by_gate =
        std::make_shared<gate_refusals>(settings_.cluster.peers.size());
    auto joined = actors::start_cluster(*system_, actors_, settings_.cluster);
    if (!joined) {
      actors::stop_services(*system_, actors_);
      throw std::runtime_error(reason_of(*system_, joined.error()));
    }
    cluster_ = joined->actor;
    actors_.cluster = cluster_;
    settings_.network.node_gate =
        node_gate_for(settings_.cluster, *joined, settings_.cluster_secret);
    settings_.network.dial_gates =
        dial_gates_for(settings_.cluster, settings_.network.node_gate->session,
                       settings_.cluster_secret);
  }

  server_ = std::make_unique<net::server>(*system_, actors_, settings_.network);
  try {
    server_->start();
  } catch (...) {
    server_.reset();
    actors::stop_cluster(*system_, cluster_);
    actors::stop_services(*system_, actors_);
    throw;
  }
  if (cluster_) {
    gate_ports.set_value(server_->dial_gate_ports());
    actors::dial_through_gates(cluster_);
  }
  running_ = true;
  logger("app")->info(
      "serving node={} public={} internal={} state={}",
      settings_.runtime.node_name,
      host_and_port(settings_.network.public_host, server_->public_port()),
      host_and_port(settings_.network.internal_host, server_->internal_port()),
      settings_.runtime.state_db_path);
}

caf::expected<actors::services> service::open_services() {
  if (!settings_.open_directory)
    return actors::start_services(*system_, settings_.runtime);
  std::shared_ptr<storage::directory> directory;
  try {
    directory = settings_.open_directory();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot open directory " +
                             settings_.directory_description + ": " + e.what());
  }
  return actors::start_services(*system_, settings_.runtime,
                                std::move(directory),
                                settings_.directory_description);
}

std::uint16_t service::public_port() const {
  return server_->public_port();
}

std::uint16_t service::internal_port() const {
  return server_->internal_port();
}

void service::stop(std::chrono::milliseconds grace) {
  if (!running_)
    return;
  running_ = false;
  logger("app")->info("stopping: closing sockets, committing state");
  server_->stop(grace);
  actors::stop_cluster(*system_, cluster_);
  cluster_ = nullptr;
  actors::stop_services(*system_, actors_);
  server_.reset();
  actors_ = {};
  // The actor system's destructor waits for every actor; one still running
  // here is a bug worth a line in the log if shutdown seems to hang.
  if (auto left = system_->registry().running(); left > 0)
    logger("app")->warn("waiting for {} actors to finish", left);
  system_.reset();
  actor_config_.reset();
  claim_.reset();  // the state database is closed by now
  logger("app")->info("stopped");
}

caf::actor_system& service::system() {
  return *system_;
}

const actors::services& service::actors() const {
  return actors_;
}

const net::server& service::network() const {
  return *server_;
}

}  // namespace batchcast::app
