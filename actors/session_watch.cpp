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

  auto session = st.sessions.find(*where.session_key);
  auto& by_organization = session->second.by_organization;
  auto group = by_organization.find(*where.organization_id);
  auto& members = group->second;
  // Swap with the last, so leaving costs the same however many remain.
  if (where.index + 1 < members.size()) {
    members[where.index] = members.back();
    st.filed[members[where.index]].index = where.index;
  }
  members.pop_back();
  if (members.empty())
    by_organization.erase(group);
  // A refresh still on its way finds the key gone and does nothing.
  if (by_organization.empty())
    st.sessions.erase(session);
}

void watch(self_ptr self, const std::string& session_key,
           const std::string& organization_id) {
  auto& st = self->state;
  auto connection = caf::actor_cast<caf::actor>(self->current_sender());
  if (!connection || session_key.empty() ||
      st.filed.count(connection.address()) > 0)
    return;
  auto& session = *st.sessions.try_emplace(session_key).first;
  auto& group =
      *session.second.by_organization.try_emplace(organization_id).first;
  group.second.push_back(connection.address());
  st.filed.emplace(connection.address(),
                   session_watch_state::filing{&session.first, &group.first,
                                               group.second.size() - 1});
  self->monitor(connection);
}

// Closes the connections of `session_key` that `answer` no longer allows.
void apply(self_ptr self, const std::string& session_key,
           const session_lookup& answer) {
  auto& st = self->state;
  auto session = st.sessions.find(session_key);
  if (session == st.sessions.end())
    return;  // every connection of the key ended meanwhile
  session->second.asking = false;
  if (!answer.valid && answer.failure == auth_failure::directory_failed)
    return;  // unknown, not revoked: ask again next round

  std::vector<caf::actor_addr> revoked;
  std::size_t watching = 0;
  for (const auto& [organization_id, members] :
       session->second.by_organization) {
    watching += members.size();
    if (!answer.valid || !storage::may_watch(answer.who, organization_id))
      revoked.insert(revoked.end(), members.begin(), members.end());
  }
  if (revoked.empty())
    return;

  const char* reason = answer.valid
                           ? storage::to_string(auth_failure::not_allowed)
                           : storage::to_string(answer.failure);
  log()->info(
      "session no longer allows watching: closing {} of {} sockets "
      "reason={}",
      revoked.size(), watching, reason);
  for (const auto& connection : revoked) {
    if (auto target = caf::actor_cast<caf::actor>(connection))
      self->send(target, revoke_atom::value, std::string{reason});
    self->demonitor(connection);
    forget(self, connection);  // may erase `session`
  }
}

void revalidate(self_ptr self) {
  auto& st = self->state;
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
             const std::string& organization_id) {
        watch(self, session_key, organization_id);
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
