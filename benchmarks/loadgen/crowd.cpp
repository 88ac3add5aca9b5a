#include "benchmarks/loadgen/crowd.hpp"

#include <atomic>
#include <cstdio>

namespace batchcast::bench {

struct crowd::state {
  state(std::size_t size, std::size_t concurrency)
      : concurrency{concurrency}, attempts{size}, endings{size} {}

  std::vector<std::shared_ptr<ws_client>> clients;
  std::size_t concurrency;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> connected{0};
  countdown attempts;  // upgrade attempts that ended
  countdown endings;   // connections that are over
  clock_type::time_point opened_from{}, opened_to{};
  std::atomic<long long> last_upgrade_ns{0};

  // The first failed upgrade is worth telling the operator about; the
  // rest are counted by the workloads.
  std::atomic<bool> refusal_noted{false};
  void note_refusal(const ws_client& client) {
    if (refusal_noted.exchange(true))
      return;
    const auto& r = client.record();
    std::fprintf(stderr, "loadgen: an upgrade failed: HTTP %d %s\n",
                 r.http_status, r.error.c_str());
  }

  // Starts the next client not yet started, if any. Called once per slot
  // at first, then once per ended attempt, so `concurrency` bounds the
  // upgrades in flight.
  void launch_next() {
    auto index = next.fetch_add(1);
    if (index < clients.size())
      clients[index]->start();
  }
};

crowd::crowd(run_context& context, const std::vector<shared_profile>& profiles,
             const crowd_plan& plan)
    : state_{std::make_shared<state>(plan.size, plan.concurrency)} {
  auto sources = source_addresses(profiles.front()->server.address,
                                  context.settings().sources);
  std::weak_ptr<state> weak = state_;
  state_->clients.reserve(plan.size);
  for (std::size_t i = 0; i < plan.size; ++i) {
    auto on_upgraded = [weak](ws_client& client) {
      auto shared = weak.lock();
      if (!shared)
        return;
      if (!client.upgraded())
        shared->note_refusal(client);
      if (client.upgraded()) {
        shared->connected.fetch_add(1);
        // Keep the latest upgrade time; with two I/O threads the stores
        // may arrive out of order.
        auto ns = client.record().upgraded.time_since_epoch().count();
        auto seen = shared->last_upgrade_ns.load();
        while (seen < ns &&
               !shared->last_upgrade_ns.compare_exchange_weak(seen, ns)) {
        }
      }
      shared->attempts.arrive();
      shared->launch_next();
    };
    auto on_finished = [weak](ws_client& client) {
      auto shared = weak.lock();
      if (!shared)
        return;
      if (client.upgraded())
        shared->connected.fetch_sub(1);
      shared->endings.arrive();
    };
    state_->clients.push_back(std::make_shared<ws_client>(
        context.io(), profiles[i % profiles.size()], plan.path_for(i),
        plan.session_for(i), sources[i % sources.size()], after_upgrade::listen,
        on_upgraded, on_finished));
  }
}

std::size_t crowd::open(clock_type::time_point limit) {
  state_->opened_from = clock_type::now();
  auto slots = std::min(state_->concurrency, state_->clients.size());
  for (std::size_t i = 0; i < slots; ++i)
    state_->launch_next();
  state_->attempts.wait_until(limit);
  state_->opened_to = clock_type::time_point{
      clock_type::duration{state_->last_upgrade_ns.load()}};
  return state_->connected.load();
}

bool crowd::wait_finished(clock_type::time_point limit) {
  return state_->endings.wait_until(limit);
}

void crowd::close_all() {
  for (auto& client : state_->clients)
    client->close();
}

void crowd::drop_all() {
  for (auto& client : state_->clients)
    client->drop();
}

const std::vector<std::shared_ptr<ws_client>>& crowd::clients() const {
  return state_->clients;
}

std::size_t crowd::still_connected() const {
  return state_->connected.load();
}

double crowd::open_seconds() const {
  if (state_->opened_to <= state_->opened_from)
    return 0;
  return milliseconds_between(state_->opened_from, state_->opened_to) / 1000;
}

}  // namespace batchcast::bench
