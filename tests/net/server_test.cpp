// The server over real loopback sockets, with the real actor side on a
// temporary database: what the network layer itself promises (routing
// answers, the 1009 limit, 1001 at shutdown, the close timeout, the
// internal listener's keep-alive). Authorization and delivery rules are
// the integration suite's business.
#define BOOST_TEST_MODULE net_server
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <thread>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/services.hpp"
#include "net/server.hpp"
#include "storage/directory_admin.hpp"
#include "storage/session_validator.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_client.hpp"

using namespace batchcast;
using namespace batchcast::testing;
using namespace std::chrono_literals;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

const std::string secret_key = "net-server-test-secret-key-0123456789abcdef";
const std::string token = "net-server-test-token";

struct server_fixture {
  server_fixture() {
    storage::directory_admin directory{dir.file("state.db")};
    auto org = directory.add_organization("org", true);
    batch = directory.add_batch(org, "", "batch");
    storage::new_user manager;
    manager.username = "manager";
    manager.is_staff = true;
    manager.password = "manager-password";
    directory.add_user(manager);
    directory.add_member("manager", org, true);
    session = directory.issue_session(
        "manager", secret_key, storage::default_auth_backends().front(), 3600);

    actors::register_message_types(config);
    system = std::make_unique<caf::actor_system>(config);
    actors::runtime_settings runtime;
    runtime.state_db_path = dir.file("state.db");
    runtime.directory_path = dir.file("state.db");
    runtime.session.secret_keys = {secret_key};
    runtime.session.auth_backends = storage::default_auth_backends();
    services = *actors::start_services(*system, runtime);

    net::server_settings settings;
    settings.public_port = 0;
    settings.internal_port = 0;
    settings.publish_token = token;
    settings.close_timeout = 500ms;
    settings.max_client_message_bytes = 1024;
    server = std::make_unique<net::server>(*system, services, settings);
    server->start();
  }

  ~server_fixture() {
    server->stop(1s);
    actors::stop_services(*system, services);
    server.reset();
    services = {};  // the system ends only when nothing holds its actors
    system.reset();
  }

  // Upgrades `client` to watch the fixture's batch; the HTTP status.
  int connect(ws_client& client, const std::string& origin = "http://localhost",
              bool with_session = true) {
    ws_client_options options;
    options.port = server->public_port();
    options.path = "/ws/radius/batch/" + batch + "/";
    options.origin = origin;
    if (with_session)
      options.cookie = "sessionid=" + session;
    return client.connect(options);
  }

  http_result publish(const std::string& status) {
    return http_request("127.0.0.1", server->internal_port(), "POST",
                        "/api/v1/radius/batch/" + batch + "/status",
                        R"({"status":")" + status + R"("})", "Bearer " + token);
  }

  http_result get(std::uint16_t port, const std::string& target) {
    return http_request("127.0.0.1", port, "GET", target);
  }

  bool eventually(std::function<bool()> condition,
                  std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition())
        return true;
      std::this_thread::sleep_for(5ms);
    }
    return condition();
  }

  temp_dir dir;
  std::string batch;
  std::string session;
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  actors::services services;
  std::unique_ptr<net::server> server;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(server, server_fixture)

BOOST_AUTO_TEST_CASE(both_listeners_answer_health_checks) {
  auto public_health = get(server->public_port(), "/healthz");
  BOOST_TEST(public_health.status == 200);
  BOOST_TEST(public_health.body == R"({"status":"ok"})");
  BOOST_TEST(get(server->internal_port(), "/healthz").status == 200);
}

BOOST_AUTO_TEST_CASE(public_listener_routes_like_django) {
  auto port = server->public_port();
  BOOST_TEST(get(port, "/").status == 404);
  BOOST_TEST(get(port, "/ws/radius/batch/" + batch).status == 404);
  BOOST_TEST(get(port, "/ws/radius/batch/" + batch + "/").status == 426);
  BOOST_TEST(get(port, "/ws/radius/batch/" + batch + "/?x=1").status == 426);
}

BOOST_AUTO_TEST_CASE(foreign_origin_and_missing_session_are_403) {
  ws_client foreign;
  BOOST_TEST(connect(foreign, "http://evil.example") == 403);
  ws_client anonymous;
  BOOST_TEST(connect(anonymous, "http://localhost", false) == 403);
  BOOST_TEST(eventually([&] { return server->open_sessions() == 0; }));
}

BOOST_AUTO_TEST_CASE(watcher_gets_the_status_then_a_normal_close) {
  ws_client client;
  BOOST_REQUIRE(connect(client) == 101);
  BOOST_TEST(server->open_sessions() == 1u);
  BOOST_TEST(publish("completed").status == 200);
  BOOST_TEST(client.read_message(5s).value_or("") ==
             R"({"status":"completed"})");
  BOOST_TEST(!client.read_message(5s));
  BOOST_TEST(client.close_code() == 1000);
  BOOST_TEST(eventually([&] { return server->open_sessions() == 0; }));
}

BOOST_AUTO_TEST_CASE(oversized_client_message_closes_with_1009) {
  ws_client client;
  BOOST_REQUIRE(connect(client) == 101);
  BOOST_TEST(client.send_text(1024));  // at the limit: read and dropped
  BOOST_TEST(client.send_text(1025));
  BOOST_TEST(!client.read_message(5s));
  BOOST_TEST(client.close_code() == 1009);
  BOOST_TEST(eventually([&] { return server->open_sessions() == 0; }));
}

BOOST_AUTO_TEST_CASE(stop_closes_open_sockets_with_1001) {
  ws_client first, second;
  BOOST_REQUIRE(connect(first) == 101);
  BOOST_REQUIRE(connect(second) == 101);
  std::thread reader{[&] { first.read_message(5s); }};
  std::thread other{[&] { second.read_message(5s); }};
  server->stop(5s);
  reader.join();
  other.join();
  BOOST_TEST(first.close_code() == 1001);
  BOOST_TEST(second.close_code() == 1001);
  BOOST_TEST(server->open_sessions() == 0u);
}

BOOST_AUTO_TEST_CASE(client_that_never_answers_the_close_is_released) {
  ws_client silent;  // never reads, so never answers our close frame
  BOOST_REQUIRE(connect(silent) == 101);
  auto started = std::chrono::steady_clock::now();
  BOOST_TEST(publish("failed").status == 200);
  BOOST_TEST(eventually([&] { return server->open_sessions() == 0; }));
  // close_timeout is 500 ms; allow for the publish and scheduling.
  auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST(
      std::chrono::duration_cast<std::chrono::milliseconds>(took).count() <
      2000);
}

BOOST_AUTO_TEST_CASE(internal_listener_keeps_connections_alive) {
  asio::io_context io;
  tcp::socket socket{io};
  socket.connect(
      {asio::ip::make_address("127.0.0.1"), server->internal_port()});
  beast::flat_buffer buffer;
  for (const auto* status : {"processing", "completed", "processing"}) {
    http::request<http::string_body> request{
        http::verb::post, "/api/v1/radius/batch/" + batch + "/status", 11};
    request.set(http::field::host, "127.0.0.1");
    request.set(http::field::authorization, "Bearer " + token);
    request.body() = std::string{R"({"status":")"} + status + R"("})";
    request.prepare_payload();
    http::write(socket, request);
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    BOOST_TEST(response.result_int() == 200u);
    BOOST_TEST(response.keep_alive());
  }
}

BOOST_AUTO_TEST_CASE(announced_oversized_body_is_413_without_reading_it) {
  asio::io_context io;
  tcp::socket socket{io};
  socket.connect(
      {asio::ip::make_address("127.0.0.1"), server->internal_port()});
  std::string head = "POST /api/v1/radius/batch/" + batch +
                     "/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     token + "\r\nContent-Length: 1000000\r\n\r\n";
  asio::write(socket, asio::buffer(head));
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  BOOST_TEST(response.result_int() == 413u);
  BOOST_TEST(!response.keep_alive());
}

// The header of a publish to `batch` that waits for 100 Continue before
// sending its body of `body_size` bytes.
std::string publish_head_awaiting_continue(const std::string& batch,
                                           const std::string& bearer,
                                           std::size_t body_size) {
  return "POST /api/v1/radius/batch/" + batch +
         "/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + bearer +
         "\r\nExpect: 100-continue\r\nContent-Length: " +
         std::to_string(body_size) + "\r\n\r\n";
}

BOOST_AUTO_TEST_CASE(expect_continue_gets_100_before_the_body) {
  asio::io_context io;
  tcp::socket socket{io};
  socket.connect(
      {asio::ip::make_address("127.0.0.1"), server->internal_port()});
  std::string body = R"({"status":"processing"})";
  asio::write(socket, asio::buffer(publish_head_awaiting_continue(
                          batch, token, body.size())));

  beast::flat_buffer buffer;
  http::response<http::empty_body> interim;
  http::read(socket, buffer, interim);
  BOOST_TEST(interim.result_int() == 100u);

  asio::write(socket, asio::buffer(body));
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  BOOST_TEST(response.result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(
    expect_continue_with_a_wrong_token_is_401_before_the_body) {
  asio::io_context io;
  tcp::socket socket{io};
  socket.connect(
      {asio::ip::make_address("127.0.0.1"), server->internal_port()});
  std::string body = R"({"status":"failed"})";
  asio::write(socket, asio::buffer(publish_head_awaiting_continue(
                          batch, "not-the-token", body.size())));

  // The final answer comes instead of 100 Continue, and the connection
  // ends: the body it never asked for is not taken as a next request.
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  BOOST_TEST(response.result_int() == 401u);
  BOOST_TEST(!response.keep_alive());
  beast::error_code ec;
  asio::write(socket, asio::buffer(body), ec);
  http::response<http::string_body> second;
  http::read(socket, buffer, second, ec);
  BOOST_TEST(ec.failed());
}

// A publish of `completed` to `batch` whose body is one chunk, sent with
// the given Transfer-Encoding and any `more_headers` (each ending in CRLF).
std::string chunked_publish(const std::string& batch, const std::string& coding,
                            const std::string& more_headers = "") {
  return "POST /api/v1/radius/batch/" + batch +
         "/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
         "\r\nTransfer-Encoding: " + coding + "\r\n" + more_headers +
         "\r\n16\r\n{\"status\":\"completed\"}\r\n0\r\n\r\n";
}

BOOST_AUTO_TEST_CASE(unknown_transfer_coding_is_answered_501_once) {
  for (std::string coding :
       {"xchunked", "gzip", "gzip, chunked", "chunked, chunked"}) {
    BOOST_TEST_CONTEXT(coding) {
      asio::io_context io;
      tcp::socket socket{io};
      socket.connect(
          {asio::ip::make_address("127.0.0.1"), server->internal_port()});
      // A body Beast would otherwise leave unread, to be taken for a
      // second request on the same connection.
      asio::write(socket, asio::buffer(chunked_publish(batch, coding)));
      beast::flat_buffer buffer;
      http::response<http::string_body> response;
      http::read(socket, buffer, response);
      BOOST_TEST(response.result_int() == 501u);
      BOOST_TEST(!response.keep_alive());
      // Nothing more: the connection ends after the one answer.
      beast::error_code ec;
      http::response<http::string_body> second;
      http::read(socket, buffer, second, ec);
      BOOST_CHECK_MESSAGE(ec == http::error::end_of_stream, ec.message());
    }
  }
  // Nothing was stored from those bodies.
  BOOST_TEST(http_request("127.0.0.1", server->internal_port(), "GET",
                          "/api/v1/radius/batch/" + batch + "/status", {},
                          "Bearer " + token)
                 .status == 404);
}

BOOST_AUTO_TEST_CASE(chunked_body_is_read_once) {
  asio::io_context io;
  tcp::socket socket{io};
  socket.connect(
      {asio::ip::make_address("127.0.0.1"), server->internal_port()});
  asio::write(socket, asio::buffer(chunked_publish(batch, "Chunked",
                                                   "Connection: close\r\n")));
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  BOOST_TEST(response.result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(header_over_8_kib_is_refused) {
  auto answer = http_request("127.0.0.1", server->public_port(), "GET",
                             "/ws/radius/batch/" + batch + "/", {}, {},
                             "X-Padding", std::string(9000, 'p'));
  BOOST_TEST(answer.status == 431);
}

BOOST_AUTO_TEST_CASE(accepting_survives_running_out_of_descriptors) {
  // Sockets made before the limit drops; connecting needs no new one.
  asio::io_context io;
  std::vector<tcp::socket> clients;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back(io);
    clients.back().open(tcp::v4());
  }

  // With the soft limit at the lowest free descriptor, every accept()
  // fails with EMFILE until it is raised again.
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  int lowest_free = ::dup(0);
  ::close(lowest_free);
  rlimit starved = saved;
  starved.rlim_cur = static_cast<rlim_t>(lowest_free);
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  ::setrlimit(RLIMIT_NOFILE, &starved);

  std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  for (auto& client : clients) {
    client.connect(
        {asio::ip::make_address("127.0.0.1"), server->public_port()});
    asio::write(client, asio::buffer(request));
  }
  std::this_thread::sleep_for(500ms);

  rusage during{};
  ::getrusage(RUSAGE_SELF, &during);
  ::setrlimit(RLIMIT_NOFILE, &saved);

  // Retrying on a timer, not in a loop: far less CPU than the wall time.
  auto cpu_ms = [](const rusage& usage) {
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000 +
           (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000;
  };
  BOOST_TEST(cpu_ms(during) - cpu_ms(before) < 250);

  for (auto& client : clients) {
    timeval limit{5, 0};  // fail rather than hang if nothing comes
    ::setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit,
                 sizeof limit);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    beast::error_code ec;
    http::read(client, buffer, response, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(response.result_int() == 200u);
  }
}

BOOST_AUTO_TEST_SUITE_END()
