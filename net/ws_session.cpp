#include "net/ws_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "common/log.hpp"
#include "common/log_throttle.hpp"
#include "common/throttled_log.hpp"
#include "net/fail.hpp"
#include "net/server_context.hpp"

namespace batchcast::net {

namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto instance = logger("net");
  return instance;
}

// Shared by every connection; see ws_session::refused_by_beast.
log_throttle refused_by_beast_logged;
// The end line of a refused upgrade, which any client can cause at will.
log_throttle refusals_ended_logged;

}  // namespace

template <class Layer>
ws_session<Layer>::ws_session(Layer layer, upgrade_request request,
                              std::shared_ptr<server_context> context,
                              identity who, connection_limits::slot slot)
    : executor_{layer.get_executor()},
      ws_{std::in_place, std::move(layer)},
      timer_{std::in_place, *executor_},
      request_{std::move(request)},
      context_{std::move(context)},
      who_{std::move(who)},
      slot_{std::move(slot)} {}

template <class Layer>
ws_session<Layer>::~ws_session() {
  context_->sessions.forget(this, [this] { release_io(); });
}

template <class Layer>
void ws_session<Layer>::release_io() {
  // A session that never finished (its handlers were dropped with the
  // io_context) still owes its actor the notice, and must let go of it.
  if (actor_) {
    actors::socket_closed(actor_);
    actor_ = caf::actor{};
  }
  {
    std::lock_guard<std::mutex> guard{mutex_};
    executor_.reset();
  }
  timer_.reset();
  ws_.reset();
  request_.reset();
}

template <class Layer>
template <class Step>
void ws_session<Layer>::post(Step step) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (!executor_)
    return;
  asio::post(*executor_, [self = shared_from_this(),
                          step = std::move(step)]() mutable { step(*self); });
}

template <class Layer>
void ws_session<Layer>::start(std::string session_key,
                              std::chrono::steady_clock::time_point deadline) {
  if (!context_->sessions.add(shared_from_this())) {
    do_reject(503);  // the server is stopping
    return;
  }
  arm_timer(deadline);

  actors::connection_request request;
  request.connection_id = who_.connection_id;
  request.batch_id = who_.batch_id;
  request.session_key = std::move(session_key);
  request.peer = who_.peer;
  actor_ = actors::spawn_connection(context_->system, context_->services,
                                    std::move(request), shared_from_this());
}

template <class Layer>
void ws_session<Layer>::accept() {
  post([](ws_session& self) { self.do_accept(); });
}

template <class Layer>
void ws_session<Layer>::reject(unsigned http_status) {
  post([http_status](ws_session& self) {
    if (self.phase_ == phase::waiting)
      self.do_reject(http_status);
  });
}

template <class Layer>
void ws_session<Layer>::send_final(std::string message) {
  post([message = std::move(message)](ws_session& self) mutable {
    self.do_send_final(std::move(message));
  });
}

template <class Layer>
void ws_session<Layer>::close(std::uint16_t code) {
  post([code](ws_session& self) { self.do_close_request(code); });
}

// --- the upgrade ------------------------------------------------------------

template <class Layer>
void ws_session<Layer>::do_accept() {
  if (phase_ != phase::waiting || ended_)
    return;
  phase_ = phase::accepting;
  timer_->cancel();

  // The stream checks each frame header against this limit and fails the
  // connection with 1009 before buffering the payload.
  ws_->read_message_max(context_->settings.max_client_message_bytes);

  // Beast applies handshake_timeout to the closing handshake too, which is
  // what bounds a client that never answers our close frame.
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = context_->settings.close_timeout;
  timeouts.idle_timeout = context_->settings.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws_->set_option(timeouts);

  ws_->set_option(
      websocket::stream_base::decorator([](websocket::response_type& response) {
        response.set(http::field::server, "batchcast");
      }));

  // Pings and pongs are answered inside Beast's read and never complete
  // it; this is where they can be counted. Runs on the strand, inside the
  // pending read. A close frame ends the connection anyway.
  ws_->control_callback([this](websocket::frame_type kind, beast::string_view) {
    if (kind != websocket::frame_type::close)
      spend_frame();
  });

  ws_->async_accept(*request_, [self = shared_from_this()](error_code ec) {
    self->on_accept(ec);
  });
}

template <class Layer>
void ws_session<Layer>::on_accept(error_code ec) {
  request_.reset();  // the headers are no longer needed
  if (ec == websocket::condition::handshake_failed) {
    refused_by_beast(ec);
    return;
  }
  if (ec) {
    fail(who_.connection_id, "websocket handshake", ec);
    outcome_ = "handshake failed";
    ended_ = true;
    maybe_finish();
    return;
  }

  phase_ = phase::open;
  outcome_ = "accepted";
  context_->counters->count_handshake(handshake_outcome::accepted);
  do_read();
  if (final_message_)
    do_write();
  else if (pending_close_)
    do_close(*pending_close_);
}

// Beast found the request unfit and has written its own 400 (426 for the
// version), after the session was authorized: a check is missing from
// check_upgrade (upgrade_check.hpp), which should have refused it first.
// The connection actor's lines for it were written as it asked for the
// upgrade; this one says what the client got.
template <class Layer>
void ws_session<Layer>::refused_by_beast(error_code ec) {
  unsigned status = ec == websocket::error::bad_sec_version ? 426 : 400;
  context_->counters->count_handshake(status);
  outcome_ = "refused " + std::to_string(status) +
             " by the WebSocket library: " + ec.message();
  // A client can send such requests at will.
  if (auto held_back = refused_by_beast_logged.admit())
    log()->warn(
        "conn={} batch={} peer={} upgrade refused {} by the WebSocket "
        "library after authorization, a check the server lacks: {}{}",
        who_.connection_id, who_.batch_id, who_.peer, status, ec.message(),
        log_throttle::held_back_note(*held_back));
  phase_ = phase::rejecting;
  final_message_.reset();
  pending_close_.reset();
  ended_ = true;
  maybe_finish();
}

template <class Layer>
void ws_session<Layer>::do_reject(unsigned http_status) {
  context_->counters->count_handshake(http_status);
  phase_ = phase::rejecting;
  final_message_.reset();
  request_.reset();
  outcome_ = "refused " + std::to_string(http_status);

  auto status = static_cast<http::status>(http_status);
  refusal_ = std::make_unique<http::response<http::string_body>>(status, 11);
  refusal_->set(http::field::server, "batchcast");
  refusal_->set(http::field::content_type, "text/plain");
  refusal_->keep_alive(false);
  // The body names the status only: which check failed is for the log.
  refusal_->body() = std::to_string(http_status) + " " +
                     std::string{http::obsolete_reason(status)} + "\n";
  refusal_->prepare_payload();

  writing_ = true;
  arm_timer(std::chrono::steady_clock::now() +
            context_->settings.close_timeout);
  http::async_write(
      ws_->next_layer(), *refusal_,
      [self = shared_from_this()](error_code ec, std::size_t bytes) {
        self->on_reject(ec, bytes);
      });
}

template <class Layer>
void ws_session<Layer>::on_reject(error_code ec, std::size_t) {
  refusal_.reset();
  if (ec)
    fail(who_.connection_id, "writing refusal", ec);
  // Still writing until the connection is ended: over TLS that waits for
  // the client's close_notify, within the timer armed in do_reject.
  end_connection(ws_->next_layer(), [self = shared_from_this()] {
    self->writing_ = false;
    self->ended_ = true;
    self->maybe_finish();
  });
}

// --- reading: one read always pending, frames dropped -----------------------

template <class Layer>
void ws_session<Layer>::do_read() {
  reading_ = true;
  ws_->async_read_some(
      asio::buffer(discard_),
      [self = shared_from_this()](error_code ec, std::size_t bytes) {
        self->on_read(ec, bytes);
      });
}

template <class Layer>
void ws_session<Layer>::on_read(error_code ec, std::size_t) {
  reading_ = false;
  if (!ec) {
    // A read ends wherever Beast's buffer or the client's frames happen
    // to end, so reads are no measure of anything; a whole message costs
    // one frame however many reads or fragments it takes. Fragments are
    // bounded by the message size limit, and their bytes (empty ones
    // included, which Beast skips) by the layer underneath.
    if (ws_->is_message_done())
      spend_frame();
    do_read();
    return;
  }

  if (ec == websocket::error::closed) {
    if (phase_ == phase::open)
      outcome_ = "closed by client " + std::to_string(ws_->reason().code);
  } else if (ec == websocket::error::message_too_big) {
    outcome_ = "message too big (1009)";
  } else if (ec == websocket::error::bad_frame_payload) {
    outcome_ = "invalid UTF-8 in a text message (1007)";
  } else if (ec == client_error::sent_too_many_bytes) {
    const auto& meter = ws_->next_layer();
    outcome_ = "dropped: sent more than " +
               std::to_string(meter.burst_bytes()) + " bytes at once or " +
               std::to_string(meter.bytes_per_second()) + " a second";
  } else if (ec == websocket::condition::protocol_violation) {
    // Bad masking, reserved bits, a bad opcode: the client's doing, like
    // the cases above, so the socket's end line (info) says it rather
    // than one warning per connection any logged-in client could cause.
    outcome_ = "protocol violation (1002): " + ec.message();
  } else if (ec == beast::error::timeout) {
    // While open: the client stopped answering pings. While closing: it
    // never answered our close frame.
    if (phase_ == phase::closing)
      outcome_ += ", close timed out";
    else
      outcome_ = "timed out";
  } else {
    if (!dropped_)
      fail(who_.connection_id, "websocket read", ec);
    if (phase_ == phase::open)
      outcome_ = "read failed";
  }
  ended_ = true;
  maybe_finish();
}

// Called on the strand for each frame the client sent, possibly from inside
// Beast's read operation, so the close is posted rather than started here.
template <class Layer>
void ws_session<Layer>::spend_frame() {
  if (flooded_ || frames_.charge(frame_budget::clock::now()))
    return;
  flooded_ = true;
  asio::post(ws_->get_executor(),
             [self = shared_from_this()] { self->close_flooding_client(); });
}

template <class Layer>
void ws_session<Layer>::close_flooding_client() {
  if (phase_ != phase::open || ended_)
    return;  // already ending, within the close timeout
  do_close(websocket::close_code::policy_error);
  outcome_ = "closed 1008: more than " + std::to_string(frame_budget::burst) +
             " frames at once or " + std::to_string(frame_budget::per_second) +
             " a second";
}

// --- writing: the one message, then the close -------------------------------

template <class Layer>
void ws_session<Layer>::do_send_final(std::string message) {
  if (ended_ || final_message_ || phase_ == phase::closing ||
      phase_ == phase::rejecting)
    return;
  final_message_ = std::move(message);
  if (phase_ == phase::open)
    do_write();
  // waiting / accepting: on_accept writes it.
}

template <class Layer>
void ws_session<Layer>::do_write() {
  phase_ = phase::closing;
  writing_ = true;
  // Bounds the whole ending (message, close frame, the client's answer).
  arm_timer(std::chrono::steady_clock::now() +
            context_->settings.close_timeout);
  ws_->text(true);
  ws_->async_write(
      asio::buffer(*final_message_),
      [self = shared_from_this()](error_code ec, std::size_t bytes) {
        self->on_write(ec, bytes);
      });
}

template <class Layer>
void ws_session<Layer>::on_write(error_code ec, std::size_t) {
  writing_ = false;
  final_message_.reset();
  if (ec) {
    if (!dropped_)
      fail(who_.connection_id, "websocket write", ec);
    outcome_ = "write failed";
    ended_ = true;
    maybe_finish();
    return;
  }
  outcome_ = "delivered";
  context_->counters->messages_sent.add();
  do_close(websocket::close_code::normal);
}

template <class Layer>
void ws_session<Layer>::do_close_request(std::uint16_t code) {
  switch (phase_) {
    case phase::waiting:
      do_reject(code == websocket::close_code::policy_error ? 403 : 503);
      return;
    case phase::accepting:
      if (!final_message_)
        pending_close_ = code;
      return;
    case phase::open:
      if (!ended_)
        do_close(code);
      return;
    case phase::closing:  // already ending; a queued message ends with 1000
    case phase::rejecting:
      return;
  }
}

template <class Layer>
void ws_session<Layer>::do_close(std::uint16_t code) {
  if (ended_) {
    maybe_finish();
    return;
  }
  phase_ = phase::closing;
  writing_ = true;
  if (outcome_ != "delivered")
    outcome_ = "closed " + std::to_string(code);
  arm_timer(std::chrono::steady_clock::now() +
            context_->settings.close_timeout);
  ws_->async_close(
      websocket::close_reason{code},
      [self = shared_from_this()](error_code ec) { self->on_close(ec); });
}

template <class Layer>
void ws_session<Layer>::on_close(error_code ec) {
  writing_ = false;
  if (ec) {
    if (!dropped_)
      fail(who_.connection_id, "websocket close", ec);
    if (ec == beast::error::timeout)
      outcome_ += ", close timed out";
  }
  ended_ = true;
  maybe_finish();
}

// --- deadlines and the end
// ----------------------------------------------------

template <class Layer>
void ws_session<Layer>::arm_timer(std::chrono::steady_clock::time_point when) {
  timer_->expires_at(when);
  timer_->async_wait(
      [self = shared_from_this()](error_code ec) { self->on_timer(ec); });
}

template <class Layer>
void ws_session<Layer>::on_timer(error_code ec) {
  // A wait that was cancelled or replaced after it fired sees a later
  // expiry, or finds the session finished.
  if (ec == asio::error::operation_aborted || finished_ ||
      timer_->expiry() > std::chrono::steady_clock::now())
    return;

  if (phase_ == phase::waiting) {
    log()->warn("conn={} batch={} no upgrade decision in time",
                who_.connection_id, who_.batch_id);
    do_reject(503);
    return;
  }
  // The ending took longer than close_timeout (a client that neither reads
  // nor answers): drop the connection; pending operations then complete
  // with errors and the session finishes.
  outcome_ += ", dropped after close timeout";
  dropped_ = true;
  error_code ignored;
  socket_of(beast::get_lowest_layer(*ws_)).close(ignored);
}

template <class Layer>
void ws_session<Layer>::maybe_finish() {
  if (ended_ && !reading_ && !writing_ && !finished_)
    finish();
}

template <class Layer>
void ws_session<Layer>::finish() {
  finished_ = true;
  timer_->cancel();
  error_code ignored;
  socket_of(beast::get_lowest_layer(*ws_))
      .close(ignored);  // the descriptor, now

  if (actor_) {
    actors::socket_closed(actor_);
    actor_ = caf::actor{};
  }
  slot_.release();
  context_->sessions.finished(this);
  auto line = fmt::format("conn={} batch={} peer={} {}", who_.connection_id,
                          who_.batch_id, who_.peer, outcome_);
  if (phase_ == phase::rejecting)
    log_throttled(*log(), spdlog::level::info, refusals_ended_logged, line);
  else
    log()->info("{}", line);
}

template class ws_session<metered_stream<tcp::socket>>;
template class ws_session<metered_stream<tls_stream>>;

}  // namespace batchcast::net
