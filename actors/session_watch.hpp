// session_watch: keeps checking the sessions and batches of open WebSocket
// connections, so that a session that ends while its socket waits (logout,
// a user deactivated or no longer staff, organization admin rights
// removed, a changed password), or a batch deleted or moved to an
// organization its watcher may not see, closes the socket instead of
// leaving it to receive the batch's status.
//
// Messages:
//
//   (watch_atom, std::string session_key, std::string batch_id,
//    std::string organization_id)
//       From a connection that was accepted and waits for its batch; it is
//       watched (and monitored) until it ends. `organization_id` is the
//       batch's organization when the connection was authorized, used
//       until the batch is read again.
//
// Every revalidation_interval(session_ttl) it asks session_auth once per
// watched batch (refresh_batch_atom) and then once per watched session key
// (refresh_atom), not per socket: an answer whose reading is half a TTL
// old is read from the directory again, so each watched session and each
// watched batch costs about one lookup per three quarters of a TTL. When
// a session's answer comes, each of its connections whose session is no
// longer valid, whose batch is gone, or whose user may not watch the
// batch's organization as last read, is sent (revoke_atom, std::string
// reason) and forgotten; the connection closes its socket with 1008. A
// session or batch the directory cannot read (directory_failed) is left
// as last known until it can be read.
//
// So a revocation closes the sockets within about three quarters of a
// session_ttl, and a deleted or moved batch within about one session_ttl
// (the batch's new reading is applied at the next round's session
// answers). A status that arrives first is held back by the connection
// itself, which checks its session and batch again when their readings are
// older than the TTL.
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
// decision per (session, batch), and a connection costs a slot in a
// vector and an entry in `filed`, not a copy of its key or batch id.
struct session_watch_state {
  using connections = std::vector<caf::actor_addr>;

  struct watched_session {
    // The connections watching, by their batch.
    std::unordered_map<std::string, connections> by_batch;
    bool asking = false;  // a refresh of this key is on its way
  };

  // A batch that connections watch, as session_auth last read it.
  struct watched_batch {
    std::string organization_id;
    bool gone = false;         // the directory no longer has it
    std::size_t watchers = 0;  // connections filed under it, any session
    bool asking = false;       // a refresh of this batch is on its way
  };

  // Where a connection is filed. The pointers point into the maps' keys,
  // which stay put while a connection is filed under them.
  struct filing {
    const std::string* session_key;
    const std::string* batch_id;  // a key of its session's by_batch
    std::size_t index;            // in its `connections`
  };

  caf::actor session_auth;
  std::chrono::milliseconds interval{0};

  std::unordered_map<std::string, watched_session> sessions;  // by key
  std::unordered_map<std::string, watched_batch> batches;     // by id
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
