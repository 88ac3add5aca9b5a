// session_watch: keeps checking the sessions of open WebSocket connections,
// so that a session that ends while its socket waits (logout, a user
// deactivated or no longer staff, organization admin rights removed, a
// changed password) closes the socket instead of leaving it to receive
// the batch's status.
//
// Messages:
//
//   (watch_atom, std::string session_key, std::string organization_id)
//       From a connection that was accepted and waits for its batch; it is
//       watched (and monitored) until it ends. `organization_id` is its
//       batch's organization, which the user must still be allowed to
//       watch.
//
// Every revalidation_interval(session_ttl) it asks session_auth once per
// watched session key, not per socket (refresh_atom): a key whose cached
// validation is half a TTL old is read from the directory again, so each
// watched session costs about one lookup per three quarters of a TTL. Each
// connection whose session is no longer valid, or whose user may no longer
// watch its organization, is sent (revoke_atom, std::string reason) and
// forgotten; the connection closes its socket with 1008. A session the
// directory cannot read (directory_failed) is left alone until it can be read.
//
// So a revocation closes the sockets within about three quarters of a
// session_ttl. A status that arrives first is held back by the connection
// itself, which checks its session again when its validation is older
// than the TTL.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>

namespace batchcast::actors {

// Laid out for thousands of sockets per session: a round costs one
// decision per (session, organization), and a connection costs a slot in
// a vector and an entry in `filed`, not a copy of its key or organization.
struct session_watch_state {
  using connections = std::vector<caf::actor_addr>;

  struct watched_session {
    // The connections watching, by the organization of their batch.
    std::unordered_map<std::string, connections> by_organization;
    bool asking = false;  // a refresh of this key is on its way
  };

  // Where a connection is filed. The pointers point into the maps' keys,
  // which stay put while a connection is filed under them.
  struct filing {
    const std::string* session_key;
    const std::string* organization_id;
    std::size_t index;  // in its `connections`
  };

  caf::actor session_auth;
  std::chrono::milliseconds interval{0};

  std::unordered_map<std::string, watched_session> sessions;  // by key
  std::unordered_map<caf::actor_addr, filing> filed;

  const char* name = "batchcast.session_watch";
};

caf::behavior session_watch(caf::stateful_actor<session_watch_state>* self,
                            caf::actor session_auth,
                            std::chrono::milliseconds session_ttl);

caf::actor spawn_session_watch(caf::actor_system& system,
                               caf::actor session_auth,
                               std::chrono::milliseconds session_ttl);

}  // namespace batchcast::actors
