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
// validation is about to expire is read from the directory again, so
// each watched session costs about one lookup per TTL. Each connection
// whose session is no longer valid, or whose user may no longer watch its
// organization, is sent (revoke_atom, std::string reason) and forgotten;
// the connection closes its socket with 1008. A session the directory
// cannot read (directory_failed) is left alone until it can be read.
//
// So a revocation closes the sockets within about one session_ttl. A
// status that arrives first is held back by the connection itself, which
// checks its session again when its validation is older than the TTL.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>

namespace batchcast::actors {

struct session_watch_state {
  struct watched_session {
    // Each watching connection, and the organization of its batch.
    std::unordered_map<caf::actor_addr, std::string> connections;
    bool asking = false;  // a refresh of this key is on its way
  };

  caf::actor session_auth;
  std::chrono::milliseconds interval{0};

  std::unordered_map<std::string, watched_session> sessions;  // by key
  // The key each connection is filed under; points into `sessions`, whose
  // entries stay while a connection is filed under them.
  std::unordered_map<caf::actor_addr, const std::string*> key_of;

  const char* name = "batchcast.session_watch";
};

caf::behavior session_watch(caf::stateful_actor<session_watch_state>* self,
                            caf::actor session_auth,
                            std::chrono::milliseconds session_ttl);

caf::actor spawn_session_watch(caf::actor_system& system,
                               caf::actor session_auth,
                               std::chrono::milliseconds session_ttl);

}  // namespace batchcast::actors
