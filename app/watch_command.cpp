#include "app/watch_command.hpp"

#include <chrono>
#include <iostream>
#include <limits>
#include <optional>
#include <type_traits>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

#include "app/request_values.hpp"
#include "app/resolve_url.hpp"
#include "app/settings.hpp"
#include "app/strict_json.hpp"
#include "app/tls_client.hpp"
#include "app/url.hpp"
#include "common/terminal_text.hpp"

namespace batchcast::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

using deadline = std::optional<std::chrono::steady_clock::time_point>;

// Runs the asynchronous operation `start` begins (given a completion
// handler) to its end, or until `by` (nothing: no limit), when it closes
// `socket` and answers timed_out. Asio's blocking operations ignore
// socket timeouts, so every step that waits on the server (connect, TLS
// and WebSocket handshakes, reads) runs this way, all against one
// deadline: a server that answers each step just in time, or keeps the
// socket busy with pings, cannot hold `watch` past its --timeout.
template <class Socket, class Start>
beast::error_code run_within(asio::io_context& io, Socket& socket,
                             const deadline& by, Start start) {
  beast::error_code result = asio::error::timed_out;
  bool done = false;
  start([&](beast::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  io.restart();
  if (by)
    io.run_until(*by);
  else
    io.run();
  if (!done) {
    beast::error_code ignored;
    // Abandons the operation; we are leaving.
    socket.close(ignored);
    io.restart();
    io.run();
    return asio::error::timed_out;
  }
  return result;
}

// What went wrong with the upgrade. Beast fills `response` with a 500
// before it sends the request, so its status means something only when
// the error is about the answer Beast read (the handshake_failed
// condition); any other error came before an answer was read.
// Over ws://, a listener that speaks only TLS either closes without a
// reply or answers with a TLS record, which is not HTTP: `plain` adds a
// hint at wss:// to those two.
std::string describe_handshake_failure(const beast::error_code& ec,
                                       const websocket::response_type& response,
                                       bool plain) {
  std::string tls_hint = plain ? "; is the listener using TLS? use wss://" : "";
  if (ec == websocket::error::upgrade_declined)
    return "the server refused the connection (HTTP " +
           std::to_string(response.result_int()) + ")";
  if (ec == websocket::condition::handshake_failed)
    return "the server answered HTTP " + std::to_string(response.result_int()) +
           " but not with a WebSocket upgrade: " + ec.message();
  if (ec == beast::http::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset ||
      ec == beast::http::error::partial_message ||
      ec == asio::ssl::error::stream_truncated)
    return "the server closed the connection without a reply (" + ec.message() +
           ")" + tls_hint;
  if (ec.category() ==
      beast::http::make_error_code(beast::http::error::bad_version).category())
    return "the server's reply is not HTTP (" + ec.message() + ")" + tls_hint;
  return "no reply to the upgrade request: " + ec.message();
}

// The one message is {"status": "completed"} or {"status": "failed"},
// nothing beside it.
int exit_code_for(const std::string& message, std::string& error) {
  auto parsed = parse_strict_object(message);
  if (parsed && parsed->size() == 1 && parsed->contains("status")) {
    if ((*parsed)["status"] == "completed")
      return 0;
    if ((*parsed)["status"] == "failed")
      return 1;
  }
  error = "unexpected message from the server";
  return 2;
}

// Connects `ws` (over TLS when its layer is an SSL stream, verifying the
// server), upgrades like a browser and waits for the one message.
template <class Layer>
void watch_over(websocket::stream<Layer>& ws, asio::io_context& io,
                const parsed_url& url, const std::string& origin,
                const watch_options& options, watch_outcome& outcome) {
  auto& socket = beast::get_lowest_layer(ws);
  // --timeout covers the whole watch, from the connect to the status.
  deadline by;
  if (options.timeout_seconds > 0)
    by = std::chrono::steady_clock::now() +
         std::chrono::seconds{options.timeout_seconds};
  auto within = [&](auto start) { return run_within(io, socket, by, start); };
  auto silence = "no answer within " + std::to_string(options.timeout_seconds) +
                 " seconds";
  tcp::resolver resolver{io};
  auto addresses = resolve_url(resolver, url);
  beast::error_code ec =
      within([&](auto done) { asio::async_connect(socket, addresses, done); });
  if (ec) {
    outcome.error = ec == asio::error::timed_out
                        ? "cannot connect: " + silence
                        : "cannot connect: " + ec.message();
    return;
  }
  if constexpr (!std::is_same_v<Layer, tcp::socket>) {
    expect_server_name(ws.next_layer().native_handle(), url.host);
    ec = within([&](auto done) {
      ws.next_layer().async_handshake(asio::ssl::stream_base::client, done);
    });
    if (ec) {
      outcome.error =
          "TLS handshake failed: " +
          (ec == asio::error::timed_out ? silence : describe_tls_failure(ec));
      return;
    }
  }

  ws.set_option(
      websocket::stream_base::decorator([&](websocket::request_type& request) {
        request.set(beast::http::field::origin, origin);
        request.set(beast::http::field::user_agent, "batchcast-watch");
        if (!options.session_key.empty())
          request.set(beast::http::field::cookie,
                      options.cookie_name + "=" + options.session_key);
      }));
  websocket::response_type response;
  auto target = url.path + "/ws/radius/batch/" + options.batch_id + "/";
  ec = within([&](auto done) {
    ws.async_handshake(response, url.authority(), target, done);
  });
  if (ec == asio::error::timed_out) {
    outcome.error = "no reply to the upgrade request: " + silence;
    return;
  }
  if (ec) {
    outcome.error = describe_handshake_failure(
        ec, response, std::is_same_v<Layer, tcp::socket>);
    if (ec == websocket::condition::handshake_failed)
      outcome.http_status = response.result_int();
    return;
  }
  outcome.http_status = response.result_int();

  beast::flat_buffer buffer;
  ec = within([&](auto done) { ws.async_read(buffer, done); });
  if (ec == asio::error::timed_out) {
    outcome.error = "no status within " +
                    std::to_string(options.timeout_seconds) + " seconds";
    return;
  }
  if (ec) {
    outcome.close_code = ws.reason().code;
    outcome.error = ec == websocket::error::closed
                        ? "the server closed the connection (code " +
                              std::to_string(outcome.close_code) +
                              ") without a status"
                        : "read failed: " + ec.message();
    return;
  }
  // A browser's page would get a Blob, not the status text it parses.
  if (ws.got_binary()) {
    outcome.error =
        "protocol error: the server sent the status as a binary message, "
        "not as text as batchcast does; is --url a batchcast public "
        "listener?";
    return;
  }
  outcome.message = beast::buffers_to_string(buffer.data());
  outcome.exit_code = exit_code_for(outcome.message, outcome.error);

  // The server closes after its one message; answer its close frame,
  // within what is left of --timeout (without one, 10 s).
  buffer.clear();
  deadline close_by =
      by ? *by : std::chrono::steady_clock::now() + std::chrono::seconds{10};
  ec = run_within(io, socket, close_by,
                  [&](auto done) { ws.async_read(buffer, done); });
  if (ec == websocket::error::closed)
    outcome.close_code = ws.reason().code;
}

// Throws std::invalid_argument for a value that cannot go into the
// upgrade request as it is, before anything is sent.
void check_request_values(const watch_options& options) {
  if (auto problem = batch_id_problem(options.batch_id, "BATCH_ID"))
    throw std::invalid_argument(*problem);
  if (!options.session_key.empty()) {
    if (auto problem = session_key_problem(options.session_key))
      throw std::invalid_argument("--session (or BATCHCAST_SESSION): " +
                                  *problem);
    if (auto problem = cookie_name_problem(options.cookie_name))
      throw std::invalid_argument("--session-cookie-name: " + *problem);
  }
  if (!options.origin.empty())
    if (auto problem = origin_problem(options.origin))
      throw std::invalid_argument(*problem);
}

}  // namespace

watch_outcome watch_batch(const watch_options& options) {
  watch_outcome outcome;
  try {
    auto url = parse_url(options.url, "--url");
    if (url.scheme != "ws" && url.scheme != "wss")
      throw std::invalid_argument("--url: expected ws:// or wss://");
    check_request_values(options);
    // What a browser on a page of the same site would send.
    auto origin = !options.origin.empty() ? options.origin
                  : url.scheme == "wss"   ? "https://" + url.authority()
                                          : "http://" + url.authority();

    asio::io_context io;
    if (url.scheme == "wss") {
      auto tls = make_client_tls_context(options.ca_file);
      websocket::stream<beast::ssl_stream<tcp::socket>> ws{io, *tls};
      watch_over(ws, io, url, origin, options, outcome);
    } else {
      websocket::stream<tcp::socket> ws{io};
      watch_over(ws, io, url, origin, options, outcome);
    }
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
  command
      ->add_option("BATCH_ID", options->batch_id,
                   "Batch uuid, lowercase and dashed as in the admin "
                   "page's URLs")
      ->required();
  command->add_option("--url", options->url,
                      "Public listener, e.g. ws://127.0.0.1:8000 or "
                      "wss://admin.example.com");
  command->add_option("--ca-file", options->ca_file,
                      "PEM file of the CA (or self-signed certificate) to "
                      "trust for wss:// instead of the system's CAs");
  command->add_option("--session", options->session_key,
                      "Django session key (the sessionid cookie)");
  command->add_option("--origin", options->origin,
                      "Origin header (default: http://HOST:PORT of --url, "
                      "https:// for wss://)");
  command
      ->add_option("--session-cookie-name", options->cookie_name,
                   "Session cookie name")
      ->capture_default_str();
  command
      ->add_option("--timeout", options->timeout_seconds,
                   "Give up after this many seconds in all, from connecting "
                   "to the status, whatever the server sends meanwhile (0: "
                   "never)")
      ->capture_default_str()
      ->transform(whole_number(0, std::numeric_limits<int>::max()));
  describe_environment(*command, "url", false);
  command->callback([command, options, &exit_code] {
    apply_environment_and_config(*command, {});
    if (options->url.empty()) {
      std::cerr << "batchcast watch: --url is required\n";
      exit_code = 2;
      return;
    }
    auto outcome = watch_batch(*options);
    // The server's text, not ours: it may hold terminal escape codes.
    if (!outcome.message.empty())
      std::cout << printable(outcome.message) << std::endl;
    if (!outcome.error.empty())
      std::cerr << "batchcast watch: " << outcome.error << "\n";
    exit_code = outcome.exit_code;
  });
}

}  // namespace batchcast::app
