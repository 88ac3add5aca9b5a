// The caps on open public connections, at 5 in all and 3 per address:
// over either, an upgrade is answered 503 (Retry-After, a plain body, the
// connection closed); a connection that closes frees its slot at once; the
// counts return to zero once everything has closed.
#define BOOST_TEST_MODULE connection_limits
#include <boost/test/unit_test.hpp>

#include <memory>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "tests/integration/service_fixture.hpp"

using namespace batchcast::testing;
using namespace std::chrono_literals;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct capped_service : service_fixture {
  capped_service() {
    max_connections = 5;
    max_connections_per_address = 3;
    restart();
  }

  // Watchers kept open until the test drops them.
  std::unique_ptr<ws_client> watcher_from(const std::string& address,
                                          int expected_status = 101) {
    auto client = std::make_unique<ws_client>();
    BOOST_REQUIRE_EQUAL(connect_from(address, *client, batch_a, manager_of_a),
                        expected_status);
    return client;
  }

  std::size_t open() { return node().network().open_public_connections(); }
  std::size_t open_from(const std::string& address) {
    return node().network().open_public_connections_from(address);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(connection_limits, capped_service)

BOOST_AUTO_TEST_CASE(fourth_connection_from_one_address_gets_503) {
  std::vector<std::unique_ptr<ws_client>> watchers;
  for (int i = 0; i < 3; ++i)
    watchers.push_back(watcher_from("127.0.0.2"));

  ws_client fourth;
  BOOST_CHECK_EQUAL(connect_from("127.0.0.2", fourth, batch_a, manager_of_a),
                    503);
  ws_client elsewhere;
  BOOST_CHECK_EQUAL(connect_from("127.0.0.3", elsewhere, batch_a, manager_of_a),
                    101);
  BOOST_CHECK_EQUAL(open_from("127.0.0.2"), 3u);
  BOOST_CHECK_EQUAL(open_from("127.0.0.3"), 1u);
}

BOOST_AUTO_TEST_CASE(closing_a_connection_frees_its_slot) {
  std::vector<std::unique_ptr<ws_client>> watchers;
  for (int i = 0; i < 3; ++i)
    watchers.push_back(watcher_from("127.0.0.2"));
  watcher_from("127.0.0.2", 503);

  watchers.pop_back();  // the client goes away
  BOOST_REQUIRE(eventually([&] { return open_from("127.0.0.2") == 2; }));
  watchers.push_back(watcher_from("127.0.0.2"));
  BOOST_CHECK_EQUAL(open_from("127.0.0.2"), 3u);
}

BOOST_AUTO_TEST_CASE(process_cap_turns_every_address_away_once_reached) {
  std::vector<std::unique_ptr<ws_client>> watchers;
  for (int i = 0; i < 3; ++i)
    watchers.push_back(watcher_from("127.0.0.2"));
  for (int i = 0; i < 2; ++i)
    watchers.push_back(watcher_from("127.0.0.3"));
  BOOST_REQUIRE_EQUAL(open(), 5u);

  watcher_from("127.0.0.4", 503);
  watcher_from("127.0.0.5", 503);

  watchers.pop_back();
  BOOST_REQUIRE(eventually([&] { return open() == 4; }));
  watchers.push_back(watcher_from("127.0.0.4"));
}

BOOST_AUTO_TEST_CASE(refusal_is_a_plain_503_with_retry_after_then_close) {
  std::vector<std::unique_ptr<ws_client>> watchers;
  for (int i = 0; i < 3; ++i)
    watchers.push_back(watcher_from("127.0.0.2"));

  asio::io_context io;
  tcp::socket socket{io};
  socket.open(tcp::v4());
  socket.bind({asio::ip::make_address("127.0.0.2"), 0});
  socket.connect({asio::ip::make_address("127.0.0.1"), public_port()});
  asio::write(socket,
              asio::buffer(browser_upgrade_request(batch_a, manager_of_a)));

  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  BOOST_CHECK_EQUAL(response.result_int(), 503u);
  BOOST_CHECK(!response[http::field::retry_after].empty());
  BOOST_CHECK_EQUAL(response[http::field::content_type], "text/plain");
  BOOST_CHECK_EQUAL(response.body(), "503 Service Unavailable\n");
  BOOST_CHECK(!response.keep_alive());

  // Nothing more comes: the server closed the connection.
  char byte;
  beast::error_code ec;
  socket.read_some(asio::buffer(&byte, 1), ec);
  BOOST_CHECK(ec == asio::error::eof);
}

BOOST_AUTO_TEST_CASE(health_checks_are_answered_at_the_cap) {
  std::vector<std::unique_ptr<ws_client>> watchers;
  for (int i = 0; i < 3; ++i)
    watchers.push_back(watcher_from("127.0.0.2"));
  for (int i = 0; i < 2; ++i)
    watchers.push_back(watcher_from("127.0.0.3"));
  BOOST_CHECK_EQUAL(
      http_request("127.0.0.1", public_port(), "GET", "/healthz").status, 200);
}

BOOST_AUTO_TEST_CASE(counts_return_to_zero_after_everything_closes) {
  std::vector<std::unique_ptr<ws_client>> watchers;
  for (int i = 0; i < 3; ++i)
    watchers.push_back(watcher_from("127.0.0.2"));
  watchers.push_back(watcher_from("127.0.0.2", 503));
  watchers.push_back(watcher_from("127.0.0.3"));
  ws_client refused;  // 403: no session; counted only while it lasts
  BOOST_CHECK_EQUAL(connect_from("127.0.0.3", refused, batch_a, ""), 403);

  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  for (std::size_t i = 0; i < 3; ++i)
    BOOST_CHECK_EQUAL(watchers[i]->read_message(5s).value_or("<none>"),
                      R"({"status":"completed"})");
  BOOST_CHECK_EQUAL(watchers[4]->read_message(5s).value_or("<none>"),
                    R"({"status":"completed"})");
  watchers.clear();

  BOOST_CHECK(eventually([&] { return open() == 0; }));
  BOOST_CHECK_EQUAL(open_from("127.0.0.2"), 0u);
  BOOST_CHECK_EQUAL(open_from("127.0.0.3"), 0u);
  BOOST_CHECK(
      eventually([&] { return node().network().open_sessions() == 0; }));
}

BOOST_AUTO_TEST_SUITE_END()
