#include "actors/cluster.hpp"

#include <algorithm>
#include <memory>
#include <set>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/message_types.hpp"
#include "common/log.hpp"

namespace batchcast::actors {

namespace {

using self_ptr = caf::stateful_actor<cluster_state>*;
using peer = cluster_state::peer;

// How long a connect or a hello may take before it counts as failed: a
// stopped process accepts TCP connections but never answers.
constexpr auto handshake_timeout = std::chrono::seconds{5};
constexpr auto page_timeout = std::chrono::seconds{30};
constexpr auto max_backoff = std::chrono::milliseconds{5000};
constexpr auto min_backoff = std::chrono::milliseconds{250};
// Catch-up starts this far before the newest record taken from a peer:
// records carry their origin's clock, and nodes' clocks differ a little.
constexpr std::int64_t skew_margin_ms = 5000;

std::shared_ptr<spdlog::logger> log() {
  static auto instance = batchcast::logger("cluster");
  return instance;
}

std::string label(const peer& p) {
  auto where = p.address.host + ":" + std::to_string(p.address.port);
  return p.name.empty() ? where : p.name + "@" + where;
}

peer* peer_of(self_ptr self, const caf::actor_addr& source) {
  for (auto& p : self->state.peers)
    if (p.remote && p.remote.address() == source)
      return &p;
  return nullptr;
}

void schedule_connect(self_ptr self, std::size_t index) {
  auto& p = self->state.peers[index];
  self->delayed_send(self, p.backoff, connect_peer_atom::value, index);
  p.backoff = std::min(p.backoff * 2, max_backoff);
}

void catch_up(self_ptr self, std::size_t index, std::int64_t since_ms);

// The page is committed (or failed); advance and ask for the next one.
void page_applied(self_ptr self, std::size_t index, std::uint64_t generation,
                  std::int64_t since_ms, std::int64_t newest_ms,
                  std::size_t count, bool failed) {
  auto& p = self->state.peers[index];
  if (p.generation != generation || !p.remote)
    return;
  if (failed) {
    // Not advanced: the next reconnect asks for the same records again.
    p.catching_up = false;
    log()->warn("catch-up stopped peer={} since={}: a record was not stored",
                label(p), since_ms);
    return;
  }
  p.heard_up_to_ms = std::max(p.heard_up_to_ms, newest_ms);
  if (count < self->state.catch_up_page) {
    p.catching_up = false;
    log()->info("caught up peer={} up_to={}", label(p), p.heard_up_to_ms);
    return;
  }
  // A full page whose records all share one millisecond would be asked
  // for again forever; step past it (such a burst is not expected from
  // publishes, which get distinct timestamps per node).
  catch_up(self, index, newest_ms > since_ms ? newest_ms : since_ms + 1);
}

void apply_page(self_ptr self, std::size_t index, std::uint64_t generation,
                std::int64_t since_ms,
                std::vector<storage::batch_record>& records) {
  struct progress {
    std::size_t waiting = 0;
    std::int64_t newest_ms = 0;
    std::size_t count = 0;
    bool failed = false;
  };
  auto state = std::make_shared<progress>();
  state->waiting = records.size();
  state->count = records.size();
  for (const auto& record : records)
    state->newest_ms = std::max(state->newest_ms, record.updated_at_ms);
  if (records.empty()) {
    page_applied(self, index, generation, since_ms, since_ms, 0, false);
    return;
  }
  auto finish_one = [self, index, generation, since_ms, state](bool ok) {
    state->failed = state->failed || !ok;
    if (--state->waiting == 0)
      page_applied(self, index, generation, since_ms, state->newest_ms,
                   state->count, state->failed);
  };
  for (auto& record : records)
    self->request(self->state.registry, caf::infinite, apply_atom::value,
                  std::move(record))
        .then([finish_one](storage::batch_record&) { finish_one(true); },
              [finish_one](caf::error&) { finish_one(false); });
}

// Pulls one page of the peer's changes since `since_ms`.
void catch_up(self_ptr self, std::size_t index, std::int64_t since_ms) {
  auto& p = self->state.peers[index];
  auto generation = p.generation;
  self->request(p.remote, page_timeout, changes_atom::value, since_ms,
                static_cast<std::uint64_t>(self->state.catch_up_page))
      .then(
          [self, index, generation,
           since_ms](std::vector<storage::batch_record>& records) {
            if (self->state.peers[index].generation != generation)
              return;
            log()->debug("catch-up page peer={} since={} records={}",
                         label(self->state.peers[index]), since_ms,
                         records.size());
            apply_page(self, index, generation, since_ms, records);
          },
          [self, index, generation](caf::error& err) {
            auto& p = self->state.peers[index];
            if (p.generation != generation)
              return;
            p.catching_up = false;
            log()->warn("catch-up failed peer={} error={}", label(p),
                        describe(err));
          });
}

void peer_up(self_ptr self, std::size_t index, caf::actor remote,
             std::string name) {
  auto& p = self->state.peers[index];
  p.connecting = false;
  p.backoff = min_backoff;
  p.name = std::move(name);
  p.remote = std::move(remote);
  self->monitor(p.remote);
  log()->info("peer up peer={}", label(p));
  p.catching_up = true;
  catch_up(self, index,
           std::max<std::int64_t>(0, p.heard_up_to_ms - skew_margin_ms));
}

void connect_failed(self_ptr self, std::size_t index, const caf::error& err) {
  auto& p = self->state.peers[index];
  p.connecting = false;
  log()->debug("connect failed peer={} retry_in={}ms error={}", label(p),
               p.backoff.count(), describe(err));
  schedule_connect(self, index);
}

void say_hello(self_ptr self, std::size_t index, caf::actor remote) {
  self->request(remote, handshake_timeout, hello_atom::value,
                self->state.node_name)
      .then(
          [self, index, remote](std::string& name) {
            peer_up(self, index, remote, std::move(name));
          },
          [self, index](caf::error& err) { connect_failed(self, index, err); });
}

void connect(self_ptr self, std::size_t index) {
  auto& p = self->state.peers[index];
  if (p.remote || p.connecting)
    return;
  p.connecting = true;
  auto middleman = self->system().middleman().actor_handle();
  self->request(middleman, handshake_timeout, caf::connect_atom::value,
                p.address.host, p.address.port)
      .then(
          [self, index](caf::node_id&, caf::strong_actor_ptr& found,
                        std::set<std::string>&) {
            if (!found) {
              connect_failed(
                  self, index,
                  caf::make_error(caf::sec::no_actor_published_at_port));
              return;
            }
            say_hello(self, index, caf::actor_cast<caf::actor>(found));
          },
          [self, index](caf::error& err) { connect_failed(self, index, err); });
}

void on_down(self_ptr self, caf::down_msg& msg) {
  self->state.listeners.erase(msg.source);
  auto& peers = self->state.peers;
  for (std::size_t index = 0; index < peers.size(); ++index) {
    auto& p = peers[index];
    if (!p.remote || p.remote.address() != msg.source)
      continue;
    log()->info("peer down peer={} reason={}", label(p), describe(msg.reason));
    p.remote = nullptr;
    p.catching_up = false;
    ++p.generation;
    schedule_connect(self, index);
  }
}

// To every peer once: a peer reached both ways is one actor, one address.
void forward(self_ptr self, const storage::batch_record& record) {
  auto& st = self->state;
  for (auto& [address, listener] : st.listeners)
    self->send(listener, apply_atom::value, record);
  for (auto& p : st.peers)
    if (p.remote && st.listeners.count(p.remote.address()) == 0)
      self->send(p.remote, apply_atom::value, record);
}

std::string on_hello(self_ptr self, const std::string& peer_name) {
  auto sender = caf::actor_cast<caf::actor>(self->current_sender());
  if (sender && self->state.listeners.count(sender.address()) == 0) {
    self->monitor(sender);
    self->state.listeners.emplace(sender.address(), sender);
    log()->debug("hello from peer={}", peer_name);
  }
  return self->state.node_name;
}

// A peer's live status: applied locally, never forwarded. Once the peer's
// catch-up is done its live statuses also move the catch-up mark.
void apply_from_peer(self_ptr self, storage::batch_record& record) {
  auto source = self->current_sender();
  auto sender = source ? source->address() : caf::actor_addr{};
  auto updated_at = record.updated_at_ms;
  auto batch_id = record.batch_id;
  self->request(self->state.registry, caf::infinite, apply_atom::value,
                std::move(record))
      .then(
          [self, sender, updated_at](storage::batch_record&) {
            if (auto* p = peer_of(self, sender); p && !p->catching_up)
              p->heard_up_to_ms = std::max(p->heard_up_to_ms, updated_at);
          },
          [batch_id](caf::error& err) {
            log()->warn("status from peer not stored batch={} error={}",
                        batch_id, describe(err));
          });
}

caf::result<std::vector<storage::batch_record>> serve_changes(
    self_ptr self, std::int64_t since_ms, std::uint64_t limit) {
  auto promise =
      self->make_response_promise<std::vector<storage::batch_record>>();
  // Bounded by our page size whatever a peer asks for.
  limit = std::min<std::uint64_t>(limit, self->state.catch_up_page);
  self->request(self->state.store, caf::infinite, changes_atom::value, since_ms,
                limit)
      .then(
          [promise](std::vector<storage::batch_record>& records) mutable {
            promise.deliver(std::move(records));
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

}  // namespace

caf::behavior cluster(self_ptr self, services running,
                      cluster_settings settings) {
  auto& st = self->state;
  st.node_name = running.node_name;
  st.registry = running.registry;
  st.store = running.store;
  st.catch_up_page = std::max<std::size_t>(1, settings.catch_up_page);
  for (auto& address : settings.peers) {
    cluster_state::peer p;
    p.address = address;
    st.peers.push_back(std::move(p));
  }
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  for (std::size_t index = 0; index < st.peers.size(); ++index)
    self->send(self, connect_peer_atom::value, index);

  return {
      [self](replicate_atom, const storage::batch_record& record) {
        forward(self, record);
      },
      [self](apply_atom, storage::batch_record& record) {
        apply_from_peer(self, record);
      },
      [self](hello_atom, const std::string& peer_name) {
        return on_hello(self, peer_name);
      },
      [self](changes_atom, std::int64_t since_ms, std::uint64_t limit) {
        return serve_changes(self, since_ms, limit);
      },
      [self](connect_peer_atom, std::size_t index) {
        if (index < self->state.peers.size())
          connect(self, index);
      },
  };
}

void configure_cluster(caf::actor_system_config& config,
                       const cluster_settings& settings) {
  config.load<caf::io::middleman>();
  config.add_message_type<std::vector<storage::batch_record>>(
      "batchcast::batch_records");
  config.set("middleman.heartbeat-interval", caf::timespan{settings.heartbeat});
  config.set("middleman.connection-timeout",
             caf::timespan{settings.silence_limit});
}

caf::expected<caf::actor> start_cluster(caf::actor_system& system,
                                        const services& running,
                                        const cluster_settings& settings) {
  auto node = system.spawn(cluster, running, settings);
  auto port = system.middleman().publish(node, settings.node_port,
                                         settings.node_host.c_str(), true);
  if (!port) {
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    return caf::make_error(caf::sec::runtime_error,
                           "cannot listen for cluster peers on " +
                               settings.node_host + ":" +
                               std::to_string(settings.node_port) + ": " +
                               system.render(port.error()));
  }
  caf::anon_send(running.registry, attach_atom::value, node);
  std::string peers;
  for (auto& p : settings.peers)
    peers += (peers.empty() ? "" : ",") + p.host + ":" + std::to_string(p.port);
  log()->info("cluster node={} id={} listening={}:{} peers={}",
              running.node_name, caf::to_string(system.node()),
              settings.node_host, *port, peers.empty() ? "none" : peers);
  return node;
}

void stop_cluster(caf::actor_system& system, const caf::actor& cluster) {
  if (!cluster)
    return;
  caf::scoped_actor self{system};
  self->send_exit(cluster, caf::exit_reason::user_shutdown);
  self->wait_for(cluster);
}

}  // namespace batchcast::actors
