#include "actors/connection.hpp"

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/message_types.hpp"
#include "common/log.hpp"
#include "common/throttled_log.hpp"

namespace batchcast::actors {

namespace {

using self_ptr = caf::stateful_actor<connection_state>*;
using clock = std::chrono::steady_clock;
using storage::auth_failure;

// WebSocket close codes the actor asks for.
constexpr std::uint16_t going_away = 1001;
constexpr std::uint16_t policy_violation = 1008;
constexpr std::uint16_t try_again_later = 1013;

std::shared_ptr<spdlog::logger> log() {
  static auto instance = batchcast::logger("conn");
  return instance;
}

// A refusal because the directory failed is our fault, not the client's:
// 503 tells a browser (and an operator reading access logs) to try again.
unsigned rejection_status(auth_failure why) {
  return why == auth_failure::directory_failed ? 503 : 403;
}

// Any client can have its upgrade refused as often as it likes.
log_throttle rejections_logged;

void reject(self_ptr self, unsigned http_status, const char* reason) {
  auto& st = self->state;
  st.finished = true;
  st.socket->reject(http_status);
  log_throttled(*log(), spdlog::level::info, rejections_logged,
                fmt::format("rejected conn={} batch={} status={} reason={} "
                            "peer={}",
                            st.request.connection_id, st.request.batch_id,
                            http_status, reason, st.request.peer));
}

void accept(self_ptr self) {
  auto& st = self->state;
  if (st.accepted)
    return;
  st.accepted = true;
  st.socket->accept();
  // Asked of the socket, not done: the socket's own end line (net) says
  // whether the client got its 101.
  log()->info("upgrading conn={} batch={} user={} peer={}",
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
  // Likewise: the socket's end line says "delivered" once it is written.
  log()->info("sending conn={} batch={}", st.request.connection_id,
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
  st.socket->close(going_away);
  log()->info("closed by server conn={} batch={} code=1001 error={}",
              st.request.connection_id, st.request.batch_id, describe(err));
}

// The session ended, or its user may no longer watch this batch: the
// client must not get the status.
void revoke(self_ptr self, const std::string& reason) {
  auto& st = self->state;
  if (st.finished)
    return;
  st.finished = true;
  st.socket->close(policy_violation);
  log()->info("closed by server conn={} batch={} user={} code=1008 reason={}",
              st.request.connection_id, st.request.batch_id, st.user_id,
              reason);
}

void on_recheck(self_ptr self, const auth_verdict& verdict,
                std::string& status) {
  auto& st = self->state;
  if (st.finished)
    return;
  if (verdict.allowed) {
    send_final(self, std::move(status));
    return;
  }
  if (verdict.failure != auth_failure::directory_failed) {
    revoke(self, storage::to_string(verdict.failure));
    return;
  }
  // Not confirmed, so not sent; the stored status waits for a reconnect.
  st.finished = true;
  st.socket->close(try_again_later);
  log()->warn(
      "closed by server conn={} batch={} user={} code=1013: status "
      "not sent, the session could not be checked again",
      st.request.connection_id, st.request.batch_id, st.user_id);
}

// The terminal status: sent at once on an authorization younger than the
// session TTL, else after checking the session again.
void deliver(self_ptr self, std::string& message) {
  auto& st = self->state;
  if (st.finished || st.rechecking)
    return;
  if (clock::now() < st.trusted_until) {
    send_final(self, std::move(message));
    return;
  }
  st.rechecking = true;
  // The group is done with this connection and may go away meanwhile;
  // that must not close the socket.
  if (st.group) {
    self->demonitor(st.group);
    st.group = nullptr;
  }
  log()->debug("checking session again conn={} batch={}",
               st.request.connection_id, st.request.batch_id);
  self->request(st.session_auth, caf::infinite, authorize_atom::value,
                st.session_key, st.request.batch_id)
      .then(
          [self,
           message = std::move(message)](const auth_verdict& verdict) mutable {
            on_recheck(self, verdict, message);
          },
          [self](caf::error& err) {
            if (is_receiver_gone(err)) {
              give_up(self, err);  // shutting down
              return;
            }
            auth_verdict unknown;
            unknown.failure = auth_failure::directory_failed;
            std::string unsent;
            on_recheck(self, unknown, unsent);
          });
}

// `organization_id`: of the batch, for session_watch.
void on_joined(self_ptr self, std::string& reply,
               const std::string& organization_id) {
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
  // While it waits, its session is checked again every so often.
  if (st.session_watch)
    self->send(st.session_watch, watch_atom::value, st.session_key,
               st.request.batch_id, organization_id);
}

void join(self_ptr self, std::string organization_id) {
  auto& st = self->state;
  self->request(st.registry, caf::infinite, join_atom::value,
                st.request.batch_id, caf::actor_cast<caf::actor>(self))
      .then(
          [self, organization_id = std::move(organization_id)](
              std::string& reply) { on_joined(self, reply, organization_id); },
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
  st.trusted_until = clock::now() + verdict.trusted_for;
  log()->debug("authorized conn={} batch={} user={}", st.request.connection_id,
               st.request.batch_id, st.user_id);
  join(self, verdict.organization_id);
}

}  // namespace

caf::behavior connection(self_ptr self, connection_request request,
                         client_socket_ptr socket, caf::actor session_auth,
                         caf::actor session_watch, caf::actor registry) {
  auto& st = self->state;
  st.request = std::move(request);
  st.socket = std::move(socket);
  st.session_auth = std::move(session_auth);
  st.session_watch = std::move(session_watch);
  st.registry = std::move(registry);

  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.group && msg.source == st.group.address())
      give_up(self, msg.reason ? msg.reason : make_error(errc::shutting_down));
  });

  st.session_key = std::move(st.request.session_key);
  st.request.session_key.clear();
  self->request(st.session_auth, caf::infinite, authorize_atom::value,
                st.session_key, st.request.batch_id)
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
      [self](status_atom, std::string& message) { deliver(self, message); },
      [self](revoke_atom, const std::string& reason) { revoke(self, reason); },
      [self](socket_closed_atom) {
        auto& st = self->state;
        // The socket's own end line (net, info) says how it ended; this
        // one only at debug, so a refused upgrade costs the log two lines
        // (the reason, and the answer) rather than three.
        log()->debug("closed conn={} batch={} accepted={} finished={}",
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
