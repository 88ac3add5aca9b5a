#include "actors/connection.hpp"

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/message_types.hpp"
#include "common/log.hpp"

namespace batchcast::actors {

namespace {

using self_ptr = caf::stateful_actor<connection_state>*;
using storage::auth_failure;

std::shared_ptr<spdlog::logger> log() {
  static auto instance = batchcast::logger("conn");
  return instance;
}

// A refusal because the directory failed is our fault, not the client's:
// 503 tells a browser (and an operator reading access logs) to try again.
unsigned rejection_status(auth_failure why) {
  return why == auth_failure::directory_failed ? 503 : 403;
}

void reject(self_ptr self, unsigned http_status, const char* reason) {
  auto& st = self->state;
  st.finished = true;
  st.socket->reject(http_status);
  log()->info("rejected conn={} batch={} status={} reason={} peer={}",
              st.request.connection_id, st.request.batch_id, http_status,
              reason, st.request.peer);
}

void accept(self_ptr self) {
  auto& st = self->state;
  if (st.accepted)
    return;
  st.accepted = true;
  st.socket->accept();
  log()->info("accepted conn={} batch={} user={} peer={}",
              st.request.connection_id, st.request.batch_id, st.user_id,
              st.request.peer);
}

void send_final(self_ptr self, std::string message) {
  auto& st = self->state;
  if (st.finished)
    return;
  accept(self);  // the socket's contract: accept before send_final
  st.finished = true;
  st.socket->send_final(std::move(message));
  log()->info("sent conn={} batch={}", st.request.connection_id,
              st.request.batch_id);
}

// Something on our side failed after authorization (the registry or the
// group is gone, the stored status is unreadable).
void give_up(self_ptr self, const caf::error& err) {
  auto& st = self->state;
  if (st.finished)
    return;
  if (!st.accepted) {
    reject(self, 503, is_receiver_gone(err) ? "shutting_down" : "unavailable");
    log()->debug("conn={} batch={} error={}", st.request.connection_id,
                 st.request.batch_id, describe(err));
    return;
  }
  st.finished = true;
  st.socket->close(1001);
  log()->info("closed by server conn={} batch={} code=1001 error={}",
              st.request.connection_id, st.request.batch_id, describe(err));
}

void on_joined(self_ptr self, std::string& reply) {
  auto& st = self->state;
  if (st.finished)
    return;
  if (!reply.empty()) {
    // Late joiner: the batch was already terminal.
    send_final(self, std::move(reply));
    return;
  }
  accept(self);
  // The group answered; if it goes away while we wait (shutdown), the
  // client must not wait forever on an open socket.
  st.group = caf::actor_cast<caf::actor>(self->current_sender());
  if (st.group)
    self->monitor(st.group);
}

void join(self_ptr self) {
  auto& st = self->state;
  self->request(st.registry, caf::infinite, join_atom::value,
                st.request.batch_id, caf::actor_cast<caf::actor>(self))
      .then([self](std::string& reply) { on_joined(self, reply); },
            [self](caf::error& err) { give_up(self, err); });
}

void on_verdict(self_ptr self, const auth_verdict& verdict) {
  auto& st = self->state;
  if (st.finished)
    return;
  if (!verdict.allowed) {
    reject(self, rejection_status(verdict.failure),
           storage::to_string(verdict.failure));
    return;
  }
  st.user_id = verdict.user_id;
  log()->debug("authorized conn={} batch={} user={}", st.request.connection_id,
               st.request.batch_id, st.user_id);
  join(self);
}

}  // namespace

caf::behavior connection(self_ptr self, connection_request request,
                         client_socket_ptr socket, caf::actor session_auth,
                         caf::actor registry) {
  auto& st = self->state;
  st.request = std::move(request);
  st.socket = std::move(socket);
  st.session_auth = std::move(session_auth);
  st.registry = std::move(registry);

  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.group && msg.source == st.group.address())
      give_up(self, msg.reason ? msg.reason : make_error(errc::shutting_down));
  });

  // The key is needed for this one request; it is not kept in the state.
  auto session_key = std::move(st.request.session_key);
  st.request.session_key.clear();
  self->request(st.session_auth, caf::infinite, authorize_atom::value,
                std::move(session_key), st.request.batch_id)
      .then([self](const auth_verdict& verdict) { on_verdict(self, verdict); },
            [self](caf::error& err) {
              auto& st = self->state;
              if (st.finished)
                return;
              log()->debug("conn={} batch={} authorize failed error={}",
                           st.request.connection_id, st.request.batch_id,
                           describe(err));
              reject(self, 503,
                     is_receiver_gone(err) ? "shutting_down" : "unavailable");
            });

  return {
      [self](status_atom, std::string& message) {
        send_final(self, std::move(message));
      },
      [self](socket_closed_atom) {
        auto& st = self->state;
        log()->info("closed conn={} batch={} accepted={} finished={}",
                    st.request.connection_id, st.request.batch_id, st.accepted,
                    st.finished);
        // Whatever is still on its way (a verdict, a join reply) finds this
        // actor gone; a group that admitted us sees the down message.
        st.finished = true;
        st.socket.reset();
        self->quit();
      },
  };
}

}  // namespace batchcast::actors
