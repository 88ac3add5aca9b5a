// One WebSocket client connection, as the admin page opens it: a session
// cookie and an Origin header on the upgrade of /ws/radius/batch/<id>/.
// It binds a chosen loopback source address before connecting, records
// when each step happened, and reports through two callbacks.
//
// Ownership: a ws_client lives in a shared_ptr; its pending operations
// hold it alive. All of its state is touched only on its own strand; the
// record may be read by others once `on_finished` has run.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "benchmarks/loadgen/loopback.hpp"
#include "benchmarks/loadgen/run_context.hpp"

namespace batchcast::bench {

// What a connection does once the upgrade succeeded.
enum class after_upgrade {
  close,   // send a close frame at once (handshake workload)
  listen,  // keep a read pending: answer pings, record the message
};

// The shared part of every client's configuration; clients share one
// immutable copy.
struct client_profile {
  loopback_url server;
  std::string cookie_name;
  std::string origin;
};
using shared_profile = std::shared_ptr<const client_profile>;

// Times are zero until the step happened.
struct client_record {
  clock_type::time_point started{}, upgraded{}, message{}, finished{};
  int http_status = 0;  // of the upgrade response; 101 when accepted
  bool got_message = false;
  bool closed_cleanly = false;  // the close handshake completed
  std::string message_text;     // the first message
  std::string error;            // what ended it, when not a clean close
};

class ws_client : public std::enable_shared_from_this<ws_client> {
 public:
  using handler = std::function<void(ws_client&)>;

  // `on_upgraded` runs once the upgrade attempt ended, accepted or not;
  // `on_finished` runs once, when the connection is over for any reason.
  // Both run on the client's strand.
  ws_client(boost::asio::io_context& io, shared_profile profile,
            std::string path, std::string session,
            boost::asio::ip::address source, after_upgrade then,
            handler on_upgraded, handler on_finished);

  void start();  // connect and upgrade; call once
  void close();  // start the close handshake; safe from any thread
  void drop();   // abandon the socket without a close frame; any thread

  const client_record& record() const { return record_; }
  bool upgraded() const { return record_.http_status == 101; }

 private:
  void do_connect();
  void on_connect(boost::beast::error_code ec);
  void on_handshake(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void do_close();
  void on_close(boost::beast::error_code ec);
  void fail_upgrade(boost::beast::error_code ec);
  void upgrade_attempt_ended();
  void finish(boost::beast::error_code ec = {});

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  shared_profile profile_;
  std::string path_;
  std::string session_;
  boost::asio::ip::address source_;
  after_upgrade then_;
  handler on_upgraded_;
  handler on_finished_;

  // Released after the handshake: an idle client keeps no response.
  std::unique_ptr<boost::beast::websocket::response_type> response_;
  boost::beast::flat_buffer buffer_;
  bool upgrade_reported_ = false;
  bool closing_ = false;
  bool finished_ = false;
  client_record record_;
};

}  // namespace batchcast::bench
