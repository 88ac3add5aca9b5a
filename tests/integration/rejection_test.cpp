// Who is turned away, and how: every refused upgrade is a bare 403 (the
// reason is only logged); routing mistakes are 404; plain GETs are 426.
#define BOOST_TEST_MODULE rejection
#include <boost/test/unit_test.hpp>

#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/string_body.hpp>

#include "storage/directory_admin.hpp"
#include "tests/integration/service_fixture.hpp"
#include "tests/support/exposition_parser.hpp"

using namespace batchcast::testing;
using namespace std::chrono_literals;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

BOOST_FIXTURE_TEST_SUITE(rejection, service_fixture)

BOOST_AUTO_TEST_CASE(no_session_cookie_is_refused) {
  ws_client client;
  BOOST_CHECK_EQUAL(connect(client, batch_a, ""), 403);
}

BOOST_AUTO_TEST_CASE(garbage_session_cookie_is_refused) {
  ws_client client;
  BOOST_CHECK_EQUAL(connect(client, batch_a, "not-a-real-session-key"), 403);
  ws_client other;
  BOOST_CHECK_EQUAL(connect(other, batch_a, std::string(5000, 'a')), 403);
}

BOOST_AUTO_TEST_CASE(expired_session_is_refused) {
  std::this_thread::sleep_for(1500ms);
  ws_client client;
  BOOST_CHECK_EQUAL(connect(client, batch_a, expiring), 403);
}

BOOST_AUTO_TEST_CASE(inactive_user_is_refused) {
  ws_client client;
  BOOST_CHECK_EQUAL(connect(client, batch_a, inactive_staff), 403);
}

BOOST_AUTO_TEST_CASE(superuser_without_staff_flag_is_refused) {
  ws_client client;
  BOOST_CHECK_EQUAL(connect(client, batch_a, non_staff_super), 403);
}

BOOST_AUTO_TEST_CASE(staff_of_another_organization_is_refused) {
  ws_client client;
  BOOST_CHECK_EQUAL(connect(client, batch_a, staff_of_b), 403);
}

BOOST_AUTO_TEST_CASE(member_who_is_not_org_admin_is_refused) {
  ws_client client;
  BOOST_CHECK_EQUAL(connect(client, batch_a, plain_member_a), 403);
}

BOOST_AUTO_TEST_CASE(unknown_batch_is_refused_even_for_superuser) {
  ws_client client;
  BOOST_CHECK_EQUAL(
      connect(client, "00000000-0000-4000-8000-000000000000", superuser), 403);
}

BOOST_AUTO_TEST_CASE(foreign_or_missing_origin_is_refused) {
  ws_client foreign;
  BOOST_CHECK_EQUAL(
      connect(foreign, batch_a, manager_of_a, "http://evil.example"), 403);
  ws_client missing;
  BOOST_CHECK_EQUAL(connect(missing, batch_a, manager_of_a, ""), 403);
  ws_client allowed_with_port;
  BOOST_CHECK_EQUAL(connect(allowed_with_port, batch_a, manager_of_a,
                            "http://127.0.0.1:9999"),
                    101);
}

BOOST_AUTO_TEST_CASE(non_canonical_batch_ids_are_not_routes) {
  auto upper = batch_a;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(c));
  std::string undashed;
  for (char c : batch_a)
    if (c != '-')
      undashed += c;
  for (const auto& path :
       {"/ws/radius/batch/" + upper + "/", "/ws/radius/batch/" + batch_a,
        "/ws/radius/batch/" + undashed + "/",
        "/ws/radius/batch/" + batch_a + "/extra/", std::string{"/"},
        std::string{"/ws/radius/batch/"}}) {
    ws_client client;
    ws_client_options options;
    options.port = public_port();
    options.path = path;
    options.cookie = "sessionid=" + manager_of_a;
    BOOST_TEST_CONTEXT(path) {
      BOOST_CHECK_EQUAL(client.connect(options), 404);
    }
  }
}

BOOST_AUTO_TEST_CASE(plain_get_without_upgrade_is_426) {
  auto reply = http_request("127.0.0.1", public_port(), "GET",
                            "/ws/radius/batch/" + batch_a + "/");
  BOOST_CHECK_EQUAL(reply.status, 426);
}

// The status answering the upgrade request a browser would send for
// `session` to watch `batch`, when `after` follows it in the same write.
unsigned upgrade_answered(std::uint16_t port, const std::string& batch,
                          const std::string& session,
                          const std::string& after) {
  asio::io_context io;
  tcp::socket socket{io};
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  auto bytes = browser_upgrade_request(batch, session) + after;
  asio::write(socket, asio::buffer(bytes));
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> response;
  response.skip(true);
  http::read_header(socket, buffer, response);
  return response.get().result_int();
}

// RFC 6455 has a client wait for the 101 before it sends a frame. A frame
// sent along with the request would be read before the WebSocket exists
// and lost, so the request is refused instead.
BOOST_AUTO_TEST_CASE(frames_sent_before_the_101_are_refused_with_400) {
  // A masked ping with an empty payload.
  const std::string ping{"\x89\x80\x01\x02\x03\x04", 6};
  BOOST_CHECK_EQUAL(
      upgrade_answered(public_port(), batch_a, manager_of_a, ping), 400u);
  BOOST_CHECK_EQUAL(upgrade_answered(public_port(), batch_a, manager_of_a, ""),
                    101u);
}

// The whole answer to `bytes`, written to a bare socket in one go.
http::response<http::string_body> answer_to(std::uint16_t port,
                                            const std::string& bytes) {
  asio::io_context io;
  tcp::socket socket{io};
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(socket, asio::buffer(bytes));
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  return response;
}

// `text` with its first `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from,
                     const std::string& to) {
  auto at = text.find(from);
  BOOST_REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The node's counters that the requests below may move.
struct counted {
  double bad_requests = 0;
  double session_lookups = 0;  // cache hits and misses: one per authorize
};

counted count_now(std::uint16_t internal_port) {
  auto reply = http_request("127.0.0.1", internal_port, "GET", "/metrics");
  BOOST_REQUIRE_EQUAL(reply.status, 200);
  auto metrics = parse_exposition(reply.body);
  counted now;
  now.bad_requests =
      metrics.at("batchcast_handshakes_total{outcome=\"bad_request\"}");
  now.session_lookups = metrics.at("batchcast_session_cache_hits_total") +
                        metrics.at("batchcast_session_cache_misses_total");
  return now;
}

// What Beast's websocket accept refuses, or RFC 7230 and RFC 6455 have a
// server refuse, is refused by the server's own checks before the session
// is looked up: its usual 400, counted like any other. (Left to Beast, the
// session was checked, Beast answered with a 400 of its own, and the
// refusal went uncounted.)
BOOST_AUTO_TEST_CASE(malformed_upgrades_get_our_400_before_any_session_check) {
  const auto browser = browser_upgrade_request(batch_a, manager_of_a);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no Host", replaced(browser, "Host: localhost\r\n", "")},
      {"two Hosts", replaced(browser, "Host: localhost\r\n",
                             "Host: localhost\r\nHost: localhost\r\n")},
      {"HTTP/1.2", replaced(browser, " HTTP/1.1\r\n", " HTTP/1.2\r\n")},
      {"key not base64", replaced(browser, "dGhlIHNhbXBsZSBub25jZQ==",
                                  "dGhlIHNhbXBsZSBub25jZ*==")},
  };
  for (const auto& [what, request] : cases) {
    BOOST_TEST_CONTEXT(what) {
      auto before = count_now(internal_port());
      auto answer = answer_to(public_port(), request);
      BOOST_CHECK_EQUAL(answer.result_int(), 400);
      BOOST_CHECK_EQUAL(answer[http::field::server], "batchcast");
      BOOST_CHECK_EQUAL(answer[http::field::content_type], "text/plain");
      BOOST_CHECK_EQUAL(answer.body(), "400 Bad Request\n");
      BOOST_CHECK(!answer.keep_alive());
      auto after = count_now(internal_port());
      BOOST_CHECK_EQUAL(after.bad_requests - before.bad_requests, 1);
      BOOST_CHECK_EQUAL(after.session_lookups, before.session_lookups);
    }
  }

  // The lookups are counted by the time the answer is read: the same
  // request, well formed, is looked up and upgraded.
  auto before = count_now(internal_port());
  BOOST_CHECK_EQUAL(answer_to(public_port(), browser).result_int(), 101);
  BOOST_CHECK_EQUAL(count_now(internal_port()).session_lookups,
                    before.session_lookups + 1);
}

// Each change made in the directory after login ends the manager's access
// once the node's session cache forgets the session.
BOOST_AUTO_TEST_CASE(directory_changes_take_effect_within_the_session_ttl) {
  session_ttl = std::chrono::milliseconds{500};
  restart();
  auto refused_eventually = [&](const std::string& session) {
    return eventually(
        [&] {
          ws_client client;
          return connect(client, batch_a, session) == 403;
        },
        5s);
  };
  batchcast::storage::directory_admin directory{dir.file("state.db")};

  ws_client before;
  BOOST_REQUIRE_EQUAL(connect(before, batch_a, manager_of_a), 101);
  directory.set_user_flags("manager", true, false, false);  // not staff
  BOOST_CHECK(refused_eventually(manager_of_a));

  directory.set_user_flags("manager", true, true, false);  // staff again
  BOOST_CHECK(eventually([&] {
    ws_client client;
    return connect(client, batch_a, manager_of_a) == 101;
  }));
  directory.set_password("manager", "a-new-password");
  BOOST_CHECK(refused_eventually(manager_of_a));

  ws_client other_before;
  BOOST_REQUIRE_EQUAL(connect(other_before, batch_a, superuser), 101);
  directory.set_user_flags("root", false, true, true);  // deactivated
  BOOST_CHECK(refused_eventually(superuser));
}

BOOST_AUTO_TEST_SUITE_END()
