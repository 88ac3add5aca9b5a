#include "actors/registry.hpp"

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/batch_group.hpp"
#include "actors/errors.hpp"
#include "actors/message_types.hpp"
#include "common/log.hpp"

namespace batchcast::actors {

namespace {

using self_ptr = caf::stateful_actor<registry_state>*;

std::shared_ptr<spdlog::logger> log() {
  static auto instance = batchcast::logger("registry");
  return instance;
}

// The group of `batch_id`, spawned when there is none, with one more
// message counted as routed to it.
registry_state::entry& group_for(self_ptr self, const std::string& batch_id) {
  auto& st = self->state;
  auto found = st.groups.find(batch_id);
  if (found == st.groups.end()) {
    // Linked, so the groups go down should the registry crash; monitored,
    // so the registry learns of every group's end.
    auto group = self->spawn<caf::linked + caf::monitored>(
        batch_group, batch_id, caf::actor_cast<caf::actor>(self), st.store);
    st.running.emplace(group.address(), batch_id);
    found = st.groups.emplace(batch_id, registry_state::entry{group}).first;
    st.counters->batch_groups.set(static_cast<std::int64_t>(st.groups.size()));
    log()->debug("group started batch={} groups={}", batch_id,
                 st.groups.size());
  }
  ++found->second.routed;
  return found->second;
}

void on_idle(self_ptr self, const std::string& batch_id,
             std::uint64_t handled) {
  auto& st = self->state;
  auto found = st.groups.find(batch_id);
  auto sender = caf::actor_cast<caf::actor>(self->current_sender());
  // A report from a group already replaced is stale; one that lags behind
  // the routed count means messages are still on their way to the group.
  if (found == st.groups.end() || found->second.group != sender ||
      found->second.routed != handled)
    return;
  self->send(found->second.group, retire_atom::value);
  st.groups.erase(found);
  st.counters->batch_groups.set(static_cast<std::int64_t>(st.groups.size()));
  log()->debug("group retired batch={} groups={}", batch_id, st.groups.size());
}

// Shutdown: every group is told to stop and the registry quits only once
// all have ended, so a caller waiting for the registry knows that their
// saves in flight were answered and their members told.
void begin_stopping(self_ptr self, caf::error reason) {
  auto& st = self->state;
  log()->info("registry stopping groups={}", st.running.size());
  st.stopping = true;
  st.stop_reason = std::move(reason);
  st.groups.clear();
  st.counters->batch_groups.set(0);
  for (const auto& [address, batch_id] : st.running)
    self->send_exit(address, st.stop_reason);
}

void on_group_down(self_ptr self, caf::down_msg& msg) {
  auto& st = self->state;
  auto group = st.running.find(msg.source);
  if (group == st.running.end())
    return;
  auto batch_id = std::move(group->second);
  st.running.erase(group);
  auto entry = st.groups.find(batch_id);
  if (entry != st.groups.end() && entry->second.group.address() == msg.source) {
    // It ended without being retired (only a bug or a crash does that).
    log()->warn("group ended unexpectedly batch={} reason={}", batch_id,
                describe(msg.reason));
    st.groups.erase(entry);
    st.counters->batch_groups.set(static_cast<std::int64_t>(st.groups.size()));
  }
  if (st.stopping && st.running.empty())
    self->quit(st.stop_reason);
}

void on_exit(self_ptr self, caf::exit_msg& msg) {
  auto& st = self->state;
  // A group's end is handled by its down message (the monitor). Linked
  // exit messages do not suffice: a group that receives our send_exit
  // unlinks from us before ending.
  if (st.running.count(msg.source) > 0 || st.stopping)
    return;
  begin_stopping(self,
                 msg.reason ? msg.reason : make_error(errc::shutting_down));
  if (st.running.empty())
    self->quit(st.stop_reason);
}

// Routes one join or publish to its batch's group; the group answers the
// original requester. While stopping, the answer is shutting_down.
template <class... Ts>
caf::response_promise route(self_ptr self, const std::string& batch_id,
                            Ts&&... xs) {
  auto promise = self->make_response_promise();
  if (self->state.stopping) {
    promise.deliver(make_error(errc::shutting_down));
    return promise;
  }
  auto& entry = group_for(self, batch_id);
  promise.delegate(entry.group, std::forward<Ts>(xs)...);
  return promise;
}

// A local publish on a clustered node: the group's answer is awaited here
// so the committed record can go to the peers once it is durable.
caf::response_promise publish_and_forward(self_ptr self,
                                          storage::batch_record& record) {
  auto promise = self->make_response_promise();
  if (self->state.stopping) {
    promise.deliver(make_error(errc::shutting_down));
    return promise;
  }
  auto& entry = group_for(self, record.batch_id);
  self->request(entry.group, caf::infinite, publish_atom::value,
                std::move(record))
      .then(
          [self, promise](storage::batch_record& stored) mutable {
            promise.deliver(stored);
            if (self->state.cluster)
              self->send(self->state.cluster, replicate_atom::value,
                         std::move(stored));
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

}  // namespace

caf::behavior registry(self_ptr self, caf::actor store,
                       std::shared_ptr<metrics> counters) {
  self->state.store = std::move(store);
  self->state.counters = std::move(counters);
  self->set_exit_handler([self](caf::exit_msg& msg) { on_exit(self, msg); });
  self->set_down_handler(
      [self](caf::down_msg& msg) { on_group_down(self, msg); });

  return {
      [self](join_atom join, const std::string& batch_id,
             const caf::actor& connection) {
        return route(self, batch_id, join, batch_id, connection);
      },
      [self](publish_atom publish, storage::batch_record& record) {
        if (self->state.cluster)
          return publish_and_forward(self, record);
        auto batch_id = record.batch_id;
        return route(self, batch_id, publish, std::move(record));
      },
      [self](apply_atom, storage::batch_record& record) {
        auto batch_id = record.batch_id;
        return route(self, batch_id, publish_atom::value, std::move(record));
      },
      [self](attach_atom, caf::actor& cluster) {
        self->state.cluster = std::move(cluster);
      },
      [self](idle_atom, const std::string& batch_id, std::uint64_t handled) {
        on_idle(self, batch_id, handled);
      },
      [self](count_atom) {
        return static_cast<std::uint64_t>(self->state.groups.size());
      },
  };
}

caf::actor spawn_registry(caf::actor_system& system, caf::actor store,
                          std::shared_ptr<metrics> counters) {
  return system.spawn(registry, std::move(store), std::move(counters));
}

}  // namespace batchcast::actors
