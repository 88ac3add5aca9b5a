// A blocking WebSocket client for tests: connects like a browser (cookie,
// Origin), reports the upgrade status, and reads with a time limit so a
// test that expects a message never hangs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace batchcast::testing {

struct ws_client_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string path;    // e.g. /ws/radius/batch/<id>/
  std::string cookie;  // full Cookie header value, or empty
  std::string origin = "http://localhost";  // empty: no Origin header
  std::string local_address;   // bind to this source address (127.0.0.2)
  bool offer_deflate = false;  // offer permessage-deflate, as browsers do
};

class ws_client {
 public:
  ws_client();
  ~ws_client();

  // Connects and attempts the upgrade. Returns the HTTP status of the
  // response: 101 when accepted.
  int connect(const ws_client_options& options);

  // A header of the upgrade response ("" when absent).
  std::string response_header(const std::string& name) const;

  // The next text message, or nothing when the socket closed, failed or
  // stayed silent for `limit`.
  std::optional<std::string> read_message(std::chrono::milliseconds limit);

  // The close code the server sent, after a read ended with a close
  // (0 when none was received).
  std::uint16_t close_code() const;

  // True when the last read ended because the server closed.
  bool closed() const;

  // Sends a text message of `size` bytes.
  bool send_text(std::size_t size);

  // Sends a text frame holding exactly these bytes, valid UTF-8 or not.
  bool send_text_bytes(const std::string& payload);

  // Sends a binary message of `size` bytes.
  bool send_binary(std::size_t size);

  // Sends a ping frame. False once the connection is gone.
  bool send_ping();

  // Sends an empty frame of a text message it never finishes (FIN clear),
  // the first call starting the message. False once the connection is
  // gone.
  bool send_empty_fragment();

  // Starts sending a text message of `size` bytes and returns at once; the
  // write progresses while read_message runs, as in a browser, so a close
  // frame the server sends mid-write is still read.
  void start_sending_text(std::size_t size);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// One plain HTTP exchange (no upgrade). Returns status and body.
struct http_result {
  int status = 0;
  std::string body;
};

http_result http_request(const std::string& host, std::uint16_t port,
                         const std::string& method, const std::string& target,
                         const std::string& body = {},
                         const std::string& authorization = {},
                         const std::string& extra_header_name = {},
                         const std::string& extra_header_value = {});

}  // namespace batchcast::testing
