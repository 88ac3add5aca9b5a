// One client's WebSocket, from the upgrade request to the last byte. It
// holds no logic: its connection actor decides (accept or reject), and
// later hands it the one message to send before closing.
//
// Ownership: created by http_session once an upgrade request passed
// routing and the Origin check; shared by the pending I/O handlers and the
// connection actor (through actors::client_socket). The session drops its
// handle to the actor when the socket is finished, which breaks the cycle.
//
// Threads: every member but the mutex-guarded executor is touched only on
// the socket's strand. The client_socket calls and close() may come from
// any thread; they post to the strand, in call order.
//
// `Layer` is what the WebSocket runs on: a metered_stream over a bare
// tcp::socket, or over a tls_stream whose handshake http_session has done
// (see transport.hpp and metered_stream.hpp).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <caf/actor.hpp>

#include "net/asio.hpp"
#include "net/connection_limits.hpp"
#include "net/frame_budget.hpp"
#include "net/metered_stream.hpp"
#include "net/session_tracker.hpp"
#include "net/transport.hpp"

namespace batchcast::net {

struct server_context;

template <class Layer>
class ws_session : public tracked_session,
                   public std::enable_shared_from_this<ws_session<Layer>> {
 public:
  using upgrade_request = http::request<http::empty_body>;

  // Who is on the other end, for logs and for the connection actor.
  struct identity {
    std::uint64_t connection_id = 0;
    std::string batch_id;
    std::string peer;  // "address:port"
  };

  // `slot` counts the connection under the caps until it is finished.
  ws_session(Layer layer, upgrade_request request,
             std::shared_ptr<server_context> context, identity who,
             connection_limits::slot slot);
  ~ws_session() override;

  ws_session(const ws_session&) = delete;
  ws_session& operator=(const ws_session&) = delete;

  // On the strand: registers with the server and spawns the connection
  // actor, which must decide before `deadline` or the upgrade is refused
  // with 503. `session_key` is the session cookie's value (may be empty).
  void start(std::string session_key,
             std::chrono::steady_clock::time_point deadline);

  // actors::client_socket
  void accept() override;
  void reject(unsigned http_status) override;
  void send_final(std::string message) override;
  // Before the upgrade is accepted this refuses it instead: 403 for 1008
  // (policy violation), 503 for anything else (1001 at shutdown).
  void close(std::uint16_t code) override;

  // Frees the socket, timer and strand, and lets go of the actor (telling
  // it the socket is gone if nobody did). Only call when no I/O thread can
  // run this session's handlers: from the destructor, or from the server
  // once its threads have stopped. Later calls to the methods above are
  // then ignored.
  void release_io() override;

 private:
  using std::enable_shared_from_this<ws_session>::shared_from_this;

  enum class phase {
    waiting,    // the actor has not decided yet
    accepting,  // the WebSocket handshake is being written
    open,       // accepted; a read is pending
    closing,    // our final write or close frame is on its way
    rejecting,  // an HTTP refusal is being written
  };

  template <class Step>
  void post(Step step);

  void do_accept();
  void on_accept(error_code ec);
  // Beast refused the upgrade itself, answering on its own.
  void refused_by_beast(error_code ec);
  void do_read();
  void on_read(error_code ec, std::size_t bytes);
  void spend_frame();
  void close_flooding_client();
  void do_send_final(std::string message);
  void do_write();
  void on_write(error_code ec, std::size_t bytes);
  void do_close_request(std::uint16_t code);
  void do_close(std::uint16_t code);
  void on_close(error_code ec);
  void do_reject(unsigned http_status);
  void on_reject(error_code ec, std::size_t bytes);

  void arm_timer(std::chrono::steady_clock::time_point when);
  void on_timer(error_code ec);
  void maybe_finish();
  void finish();

  // Guards executor_ only: it is how other threads reach the strand.
  std::mutex mutex_;
  std::optional<asio::any_io_executor> executor_;

  // Built without permessage-deflate support (the `false`): it is never
  // negotiated, since deflate state would cost far more per socket than
  // the ~25-byte message it could compress, and the stream is smaller.
  std::optional<websocket::stream<Layer, false>> ws_;
  std::optional<asio::steady_timer> timer_;
  std::optional<upgrade_request> request_;  // until the handshake
  std::shared_ptr<server_context> context_;
  identity who_;
  caf::actor actor_;  // until the socket is finished
  // Counts this connection under the caps until the socket is finished.
  connection_limits::slot slot_;
  // What the client may still send before it is closed with 1008.
  frame_budget frames_;

  phase phase_ = phase::waiting;
  bool reading_ = false;
  bool writing_ = false;  // a write, a close or an HTTP refusal
  bool ended_ = false;    // the socket can do no more I/O
  bool finished_ = false;
  bool flooded_ = false;  // the client spent its frame budget
  // We closed the socket under pending operations at the close timeout:
  // their errors are our doing, not news for the log.
  bool dropped_ = false;
  std::optional<std::string> final_message_;
  std::optional<std::uint16_t> pending_close_;
  std::unique_ptr<http::response<http::string_body>> refusal_;
  std::string outcome_ = "disconnected";

  // Client frames are read into this and dropped. Small on purpose: an
  // idle socket should cost as little as possible, and the message size
  // limit is enforced by the stream from the frame header, not by this.
  std::array<char, 128> discard_{};
};

extern template class ws_session<metered_stream<tcp::socket>>;
extern template class ws_session<metered_stream<tls_stream>>;

}  // namespace batchcast::net
