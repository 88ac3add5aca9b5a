#include "actors/batch_group.hpp"

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/message_types.hpp"
#include "common/log.hpp"
#include "common/log_throttle.hpp"

namespace batchcast::actors {

namespace {

using self_ptr = caf::stateful_actor<batch_group_state>*;

std::shared_ptr<spdlog::logger> log() {
  static auto instance = batchcast::logger("group");
  return instance;
}

// Shared by every group: a failing store fails each publish, and the
// store logs why (see storage_actor.cpp).
log_throttle not_stored_logged;

bool is_idle(const batch_group_state& st) {
  return st.members.empty() && st.saves_in_flight == 0;
}

// Tells the registry once per idle period (per handled count), so a group
// that stays idle does not flood it.
void report_if_idle(self_ptr self) {
  auto& st = self->state;
  if (st.stopping) {
    if (st.saves_in_flight == 0)
      self->quit(st.stop_reason);
    return;
  }
  if (!is_idle(st) || st.idle_reported_at == st.handled)
    return;
  st.idle_reported_at = st.handled;
  self->send(st.registry, idle_atom::value, st.batch_id, st.handled);
}

void notify_members(self_ptr self, const std::string& message) {
  auto& st = self->state;
  if (st.members.empty())
    return;
  log()->info("delivering batch={} status={} watchers={}", st.batch_id,
              storage::to_string(st.record->status), st.members.size());
  // No demonitor per member: each is about to close and quit, and its down
  // message then finds nobody in the cleared set. At ten thousand watchers
  // the saved calls are a visible share of the fan-out.
  for (auto& [address, member] : st.members)
    self->send(member, status_atom::value, message);
  // Cleared at once: a second terminal publish finds nobody to tell.
  st.members.clear();
}

void on_committed(self_ptr self, const storage::batch_record& stored) {
  auto& st = self->state;
  // A commit returns what the database holds afterwards, so it is at least
  // as new as anything loaded or committed before.
  if (!st.record || storage::supersedes(stored, *st.record))
    st.record = stored;
  st.loaded = true;
  if (storage::is_terminal(st.record->status))
    notify_members(self, storage::status_message(st.record->status));
}

caf::result<std::string> on_join(self_ptr self, const caf::actor& connection) {
  auto& st = self->state;
  ++st.handled;
  if (!st.loaded) {
    report_if_idle(self);
    return make_error(errc::storage_failed, "stored status unavailable");
  }
  if (st.record && storage::is_terminal(st.record->status)) {
    report_if_idle(self);
    return storage::status_message(st.record->status);
  }
  if (connection) {
    self->monitor(connection);
    st.members.emplace(connection.address(), connection);
  }
  report_if_idle(self);
  return std::string{};
}

caf::result<storage::batch_record> on_publish(self_ptr self,
                                              storage::batch_record& record) {
  auto& st = self->state;
  ++st.handled;
  ++st.saves_in_flight;
  auto promise = self->make_response_promise<storage::batch_record>();
  self->request(st.store, caf::infinite, save_atom::value, std::move(record))
      .then(
          [self, promise](storage::batch_record& stored) mutable {
            --self->state.saves_in_flight;
            // The publisher is answered before the fan-out: its status is
            // durable now, and it should not wait for thousands of sends.
            promise.deliver(stored);
            on_committed(self, stored);
            report_if_idle(self);
          },
          [self, promise](caf::error& err) mutable {
            auto& st = self->state;
            --st.saves_in_flight;
            if (auto held_back = not_stored_logged.admit())
              log()->warn("publish not stored batch={} error={}{}", st.batch_id,
                          describe(err),
                          log_throttle::held_back_note(*held_back));
            promise.deliver(std::move(err));
            report_if_idle(self);
          });
  return promise;
}

}  // namespace

caf::behavior batch_group(self_ptr self, std::string batch_id,
                          caf::actor registry, caf::actor store) {
  auto& st = self->state;
  st.batch_id = std::move(batch_id);
  st.registry = std::move(registry);
  st.store = std::move(store);
  st.name = "batch_group:" + st.batch_id;

  // await, not then: no join or publish may be handled before the stored
  // status is known, or a late joiner could wait for nothing.
  self->request(st.store, caf::infinite, load_atom::value, st.batch_id)
      .await(
          [self](std::vector<storage::batch_record>& found) {
            auto& st = self->state;
            st.loaded = true;
            if (!found.empty())
              st.record = std::move(found.front());
          },
          [self](caf::error& err) {
            // Joins are refused until a commit makes the record known; the
            // registry retires this group once idle, and the next join gets
            // a fresh group that loads again.
            log()->warn("stored status unavailable batch={} error={}",
                        self->state.batch_id, describe(err));
          });

  self->set_down_handler([self](caf::down_msg& msg) {
    self->state.members.erase(msg.source);
    report_if_idle(self);
  });

  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    st.stopping = true;
    st.stop_reason = msg.reason ? msg.reason : make_error(errc::shutting_down);
    report_if_idle(self);
  });

  return {
      [self](join_atom, const std::string&, const caf::actor& connection) {
        return on_join(self, connection);
      },
      [self](publish_atom, storage::batch_record& record) {
        return on_publish(self, record);
      },
      [self](retire_atom) {
        auto& st = self->state;
        if (!is_idle(st))
          log()->error("retired while busy batch={} members={} saves={}",
                       st.batch_id, st.members.size(), st.saves_in_flight);
        self->quit();
      },
  };
}

}  // namespace batchcast::actors
