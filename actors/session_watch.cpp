#include "actors/session_watch.hpp"

#include <vector>

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/message_types.hpp"
#include "actors/session_auth.hpp"
#include "common/log.hpp"
#include "storage/session_validator.hpp"

namespace batchcast::actors {

namespace {

using self_ptr = caf::stateful_actor<session_watch_state>*;
using storage::auth_failure;

std::shared_ptr<spdlog::logger> log() {
  static auto instance = batchcast::logger("auth");
  return instance;
}

void forget(self_ptr self, const caf::actor_addr& connection) {
  auto& st = self->state;
  auto filed = st.filed.find(connection);
  if (filed == st.filed.end())
    return;
  auto where = filed->second;
  st.filed.erase(filed);

  // A refresh still on its way finds the batch gone and does nothing.
  auto batch = st.batches.find(*where.batch_id);
  if (--batch->second.watchers == 0)
    st.batches.erase(batch);

  auto session = st.sessions.find(*where.session_key);
  auto& by_batch = session->second.by_batch;
  auto group = by_batch.find(*where.batch_id);
  auto& members = group->second;
  // Swap with the last, so leaving costs the same however many remain.
  if (where.index + 1 < members.size()) {
    members[where.index] = members.back();
    st.filed[members[where.index]].index = where.index;
  }
  members.pop_back();
  if (members.empty())
    by_batch.erase(group);
  // Likewise for a refresh of the session.
  if (by_batch.empty())
    st.sessions.erase(session);
}

void watch(self_ptr self, const std::string& session_key,
           const std::string& batch_id, const std::string& organization_id) {
  auto& st = self->state;
  auto connection = caf::actor_cast<caf::actor>(self->current_sender());
  if (!connection || session_key.empty() ||
      st.filed.count(connection.address()) > 0)
    return;
  // A batch already watched keeps its reading, usually more recent than
  // the one that authorized this connection before it joined; either way
  // the next rounds read it again.
  auto [batch, added] = st.batches.try_emplace(batch_id);
  if (added)
    batch->second.organization_id = organization_id;
  ++batch->second.watchers;

  auto& session = *st.sessions.try_emplace(session_key).first;
  auto& group = *session.second.by_batch.try_emplace(batch_id).first;
  group.second.push_back(connection.address());
  st.filed.emplace(connection.address(),
                   session_watch_state::filing{&session.first, &group.first,
                                               group.second.size() - 1});
  self->monitor(connection);
}

// Why the connections watching `batch_id` with the session that `answer`
// describes may no longer watch it, or nullptr when they still may.
const char* refusal(const session_watch_state& st, const session_lookup& answer,
                    const std::string& batch_id) {
  if (!answer.valid)
    return storage::to_string(answer.failure);
  auto batch = st.batches.find(batch_id);
  if (batch == st.batches.end())
    return nullptr;  // not filed: nothing to decide
  if (batch->second.gone)
    return storage::to_string(auth_failure::unknown_batch);
  if (!storage::may_watch(answer.who, batch->second.organization_id))
    return storage::to_string(auth_failure::not_allowed);
  return nullptr;
}

// Closes the connections of `session_key` that `answer`, or what is known
// of their batches, no longer allows.
void apply(self_ptr self, const std::string& session_key,
           const session_lookup& answer) {
  auto& st = self->state;
  auto session = st.sessions.find(session_key);
  if (session == st.sessions.end())
    return;  // every connection of the key ended meanwhile
  session->second.asking = false;
  if (!answer.valid && answer.failure == auth_failure::directory_failed)
    return;  // unknown, not revoked: ask again next round

  struct closing {
    caf::actor_addr connection;
    const char* reason;
  };
  std::vector<closing> revoked;
  for (const auto& [batch_id, members] : session->second.by_batch) {
    auto reason = refusal(st, answer, batch_id);
    if (reason == nullptr)
      continue;
    log()->info(
        "no longer allowed to watch: closing {} sockets batch={} "
        "reason={}",
        members.size(), batch_id, reason);
    for (const auto& connection : members)
      revoked.push_back({connection, reason});
  }
  for (const auto& each : revoked) {
    if (auto target = caf::actor_cast<caf::actor>(each.connection))
      self->send(target, revoke_atom::value, std::string{each.reason});
    self->demonitor(each.connection);
    forget(self, each.connection);  // may erase `session`
  }
}

// Files session_auth's reading of a watched batch, for the next decisions
// about its connections. `organization`: empty when the batch is gone.
void on_batch(self_ptr self, const std::string& batch_id,
              const std::vector<std::string>& organization) {
  auto batch = self->state.batches.find(batch_id);
  if (batch == self->state.batches.end())
    return;  // every connection of the batch ended meanwhile
  auto& watched = batch->second;
  watched.asking = false;
  if (organization.empty()) {
    if (!watched.gone)
      log()->info("watched batch deleted batch={} sockets={}", batch_id,
                  watched.watchers);
    watched.gone = true;
    return;
  }
  if (watched.gone || watched.organization_id != organization.front())
    log()->info("watched batch moved batch={} sockets={}", batch_id,
                watched.watchers);
  watched.gone = false;
  watched.organization_id = organization.front();
}

void revalidate(self_ptr self) {
  auto& st = self->state;
  // Batches first: those answered from session_auth's cache arrive before
  // the sessions' answers, which then decide on them in the same round.
  for (auto& [id, batch] : st.batches) {
    if (batch.asking)
      continue;
    batch.asking = true;
    self->request(st.session_auth, caf::infinite, refresh_batch_atom::value, id)
        .then(
            [self, id = id](const std::vector<std::string>& organization) {
              on_batch(self, id, organization);
            },
            [self, id = id](caf::error&) {
              // Unreadable, or session_auth is stopping: as last known
              // until a later round reads it.
              auto batch = self->state.batches.find(id);
              if (batch != self->state.batches.end())
                batch->second.asking = false;
            });
  }
  for (auto& [key, session] : st.sessions) {
    if (session.asking)
      continue;
    session.asking = true;
    self->request(st.session_auth, caf::infinite, refresh_atom::value, key)
        .then([self, key = key](
                  const session_lookup& answer) { apply(self, key, answer); },
              [self, key = key](caf::error&) {
                // session_auth is stopping; the next round asks again.
                auto session = self->state.sessions.find(key);
                if (session != self->state.sessions.end())
                  session->second.asking = false;
              });
  }
}

}  // namespace

caf::behavior session_watch(self_ptr self, caf::actor session_auth,
                            std::chrono::milliseconds session_ttl) {
  auto& st = self->state;
  st.session_auth = std::move(session_auth);
  st.interval = revalidation_interval(session_ttl);
  self->delayed_send(self, st.interval, revalidate_atom::value);

  self->set_down_handler(
      [self](caf::down_msg& msg) { forget(self, msg.source); });

  return {
      [self](watch_atom, const std::string& session_key,
             const std::string& batch_id, const std::string& organization_id) {
        watch(self, session_key, batch_id, organization_id);
      },
      [self](revalidate_atom) {
        revalidate(self);
        self->delayed_send(self, self->state.interval, revalidate_atom::value);
      },
  };
}

caf::actor spawn_session_watch(caf::actor_system& system,
                               caf::actor session_auth,
                               std::chrono::milliseconds session_ttl) {
  return system.spawn(session_watch, std::move(session_auth), session_ttl);
}

}  // namespace batchcast::actors
