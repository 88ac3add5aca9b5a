// connection: one per WebSocket upgrade request. Authenticates the
// session, joins the batch's group, tells the socket to accept or reject,
// and hands it the one status message.
//
// What it sends and what it expects:
//
//   at start: (authorize_atom, key, batch) to session_auth
//       refused -> socket->reject(403), or 503 for directory_failed
//       allowed -> (join_atom, batch, self) to the registry
//           ""       -> socket->accept(); wait in the group, and
//                       (watch_atom, key, batch, organization) to
//                       session_watch
//           message  -> socket->accept(); socket->send_final(message)
//           error    -> socket->reject(503)
//
//   (status_atom, std::string message)  from the group: send_final, once.
//       Only on an authorization younger than the session TTL: an older
//       one is checked again first (authorize_atom; usually answered from
//       session_auth's cache, which session_watch keeps fresh). Refused:
//       socket->close(1008) and no status; directory unreadable:
//       socket->close(1013), and a reconnect later gets the stored status.
//   (revoke_atom, std::string reason)   from session_watch: the session
//       ended or no longer allows the batch, or the batch was deleted or
//       moved to an organization the user may not watch;
//       socket->close(1008).
//   (socket_closed_atom)                from net: quit. The group sees the
//       connection go down and drops it.
//   the group going down while this waits (shutdown): socket->close(1001).
//
// The actor never outlives its socket and drops its reference to it when
// quitting. It quits only on socket_closed: after a reject or the final
// message it still waits for net to report the socket gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/client_socket.hpp"
#include "actors/services.hpp"

namespace batchcast::actors {

struct connection_state {
  connection_request request;
  client_socket_ptr socket;  // reset when quitting
  caf::actor session_auth;
  caf::actor session_watch;
  caf::actor registry;
  caf::actor group;  // once joined and waiting

  std::string user_id;  // once authorized, for logs

  // Kept to check the session again before a late delivery. Never logged.
  std::string session_key;
  // Until then the authorization is younger than the session TTL.
  std::chrono::steady_clock::time_point trusted_until;

  bool accepted = false;
  bool rechecking = false;  // the status waits for that check
  // Rejected, final message sent or closed by us: the socket is done
  // with, and late replies must do nothing.
  bool finished = false;

  const char* name = "batchcast.connection";
};

caf::behavior connection(caf::stateful_actor<connection_state>* self,
                         connection_request request, client_socket_ptr socket,
                         caf::actor session_auth, caf::actor session_watch,
                         caf::actor registry);

}  // namespace batchcast::actors
