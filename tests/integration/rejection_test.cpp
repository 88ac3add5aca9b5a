// Who is turned away, and how: every refused upgrade is a bare 403 (the
// reason is only logged); routing mistakes are 404; plain GETs are 426.
#define BOOST_TEST_MODULE rejection
#include <boost/test/unit_test.hpp>

#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "storage/directory_admin.hpp"
#include "tests/integration/service_fixture.hpp"

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
