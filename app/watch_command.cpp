#include "app/watch_command.hpp"

#include <iostream>

#include <sys/socket.h>
#include <sys/time.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "app/settings.hpp"
#include "app/url.hpp"

namespace batchcast::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// Bounds every blocking read and write on the socket, so a silent server
// cannot hang the client past its --timeout.
void limit_blocking_io(tcp::socket& socket, int seconds) {
  if (seconds <= 0)
    return;
  timeval limit{};
  limit.tv_sec = seconds;
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit,
               sizeof limit);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit,
               sizeof limit);
}

int exit_code_for(const std::string& message, std::string& error) {
  auto parsed = nlohmann::json::parse(message, nullptr, false);
  if (parsed.is_object() && parsed.contains("status")) {
    if (parsed["status"] == "completed")
      return 0;
    if (parsed["status"] == "failed")
      return 1;
  }
  error = "unexpected message from the server";
  return 2;
}

}  // namespace

watch_outcome watch_batch(const watch_options& options) {
  watch_outcome outcome;
  try {
    auto url = parse_url(options.url, "--url");
    if (url.scheme != "ws")
      throw std::invalid_argument("--url: only ws:// is supported");
    auto origin =
        options.origin.empty() ? "http://" + url.authority() : options.origin;

    asio::io_context io;
    websocket::stream<tcp::socket> ws{io};
    tcp::resolver resolver{io};
    asio::connect(ws.next_layer(),
                  resolver.resolve(url.host, std::to_string(url.port)));
    limit_blocking_io(ws.next_layer(), options.timeout_seconds);

    ws.set_option(websocket::stream_base::decorator(
        [&](websocket::request_type& request) {
          request.set(beast::http::field::origin, origin);
          request.set(beast::http::field::user_agent, "batchcast-watch");
          if (!options.session_key.empty())
            request.set(beast::http::field::cookie,
                        options.cookie_name + "=" + options.session_key);
        }));
    websocket::response_type response;
    beast::error_code ec;
    ws.handshake(response, url.authority(),
                 url.path + "/ws/radius/batch/" + options.batch_id + "/", ec);
    outcome.http_status = response.result_int();
    if (ec) {
      outcome.error = outcome.http_status != 0
                          ? "the server refused the connection (HTTP " +
                                std::to_string(outcome.http_status) + ")"
                          : "handshake failed: " + ec.message();
      return outcome;
    }

    beast::flat_buffer buffer;
    ws.read(buffer, ec);
    if (ec) {
      outcome.close_code = ws.reason().code;
      outcome.error = ec == websocket::error::closed
                          ? "the server closed the connection (code " +
                                std::to_string(outcome.close_code) +
                                ") without a status"
                          : "read failed: " + ec.message();
      return outcome;
    }
    outcome.message = beast::buffers_to_string(buffer.data());
    outcome.exit_code = exit_code_for(outcome.message, outcome.error);

    // The server closes after its one message; answer its close frame.
    buffer.clear();
    ws.read(buffer, ec);
    if (ec == websocket::error::closed)
      outcome.close_code = ws.reason().code;
  } catch (const std::exception& e) {
    outcome.exit_code = 2;
    outcome.error = e.what();
  }
  return outcome;
}

void add_watch_command(CLI::App& parent, int& exit_code) {
  auto options = std::make_shared<watch_options>();
  auto* command = parent.add_subcommand(
      "watch",
      "Wait for a batch's terminal status like the admin page does; exit 0 "
      "for completed, 1 for failed, 2 on error");
  command->add_option("BATCH_ID", options->batch_id, "Batch uuid")->required();
  command->add_option("--url", options->url,
                      "Public listener, e.g. ws://127.0.0.1:8000");
  command->add_option("--session", options->session_key,
                      "Django session key (the sessionid cookie)");
  command->add_option("--origin", options->origin,
                      "Origin header (default: http://HOST:PORT of --url)");
  command
      ->add_option("--session-cookie-name", options->cookie_name,
                   "Session cookie name")
      ->capture_default_str();
  command
      ->add_option("--timeout", options->timeout_seconds,
                   "Give up after this many seconds of silence (0: never)")
      ->capture_default_str();
  describe_environment(*command);
  command->callback([command, options, &exit_code] {
    apply_environment_and_config(*command, {});
    if (options->url.empty()) {
      std::cerr << "batchcast watch: --url is required\n";
      exit_code = 2;
      return;
    }
    auto outcome = watch_batch(*options);
    if (!outcome.message.empty())
      std::cout << outcome.message << std::endl;
    if (!outcome.error.empty())
      std::cerr << "batchcast watch: " << outcome.error << "\n";
    exit_code = outcome.exit_code;
  });
}

}  // namespace batchcast::app
