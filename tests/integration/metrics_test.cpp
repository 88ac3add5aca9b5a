// GET /metrics on the internal listener of a real node: real traffic
// (accepted, refused and unrouted upgrades, a publish, delivered
// messages) moves each counter by exactly that much, and the text stays
// valid Prometheus throughout.
#define BOOST_TEST_MODULE metrics
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "tests/integration/service_fixture.hpp"
#include "tests/support/exposition_parser.hpp"

using namespace batchcast::testing;
using namespace std::chrono_literals;

namespace {

struct metrics_fixture : service_fixture {
  exposition scrape(const std::string& authorization = {}) {
    auto reply = http_request("127.0.0.1", internal_port(), "GET", "/metrics",
                              {}, authorization);
    BOOST_REQUIRE_EQUAL(reply.status, 200);
    return parse_exposition(reply.body);
  }

  // Waits until every series in `expected` moved from `before` by exactly
  // its amount (counters are bumped on completion handlers that may run a
  // moment after the client saw the effect), then checks them once more.
  void expect_deltas(const exposition& before,
                     const std::map<std::string, double>& expected) {
    auto matches = [&](const exposition& now) {
      for (const auto& [series, delta] : expected)
        if (now.at(series) - before.at(series) != delta)
          return false;
      return true;
    };
    eventually([&] { return matches(scrape()); });
    auto now = scrape();
    for (const auto& [series, delta] : expected)
      BOOST_TEST_CONTEXT(series) {
        BOOST_CHECK_EQUAL(now.at(series) - before.at(series), delta);
      }
  }

  double value_now(const std::string& series) { return scrape().at(series); }
};

std::string handshakes(const std::string& outcome) {
  return "batchcast_handshakes_total{outcome=\"" + outcome + "\"}";
}

std::string publishes(const std::string& status) {
  return "batchcast_publishes_total{status=\"" + status + "\"}";
}

std::string responses(const std::string& code) {
  return "batchcast_api_responses_total{code=\"" + code + "\"}";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(metrics, metrics_fixture)

BOOST_AUTO_TEST_CASE(traffic_moves_each_counter_by_exactly_its_amount) {
  auto before = scrape();

  ws_client first, second, refused, unrouted;
  BOOST_REQUIRE_EQUAL(connect(first, batch_a, manager_of_a), 101);
  BOOST_REQUIRE_EQUAL(connect(second, batch_a, manager_of_a), 101);
  BOOST_REQUIRE_EQUAL(connect(refused, batch_a, staff_of_b), 403);
  ws_client_options nowhere;
  nowhere.port = public_port();
  nowhere.path = "/ws/radius/batch/not-a-uuid/";
  BOOST_REQUIRE_EQUAL(unrouted.connect(nowhere), 404);

  BOOST_CHECK(eventually(
      [&] { return value_now("batchcast_websocket_connections_open") == 2; }));
  BOOST_CHECK(
      eventually([&] { return value_now("batchcast_batch_groups") == 1; }));

  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_CHECK(first.read_message(10s));
  BOOST_CHECK(second.read_message(10s));

  expect_deltas(before,
                {
                    {handshakes("accepted"), 2},
                    {handshakes("forbidden"), 1},
                    {handshakes("not_found"), 1},
                    {handshakes("bad_request"), 0},
                    {handshakes("unavailable"), 0},
                    {"batchcast_messages_sent_total", 2},
                    {publishes("completed"), 1},
                    {publishes("processing"), 0},
                    // The first session check of each key misses,
                    // the second connection of the manager hits.
                    {"batchcast_session_cache_misses_total", 2},
                    {"batchcast_session_cache_hits_total", 1},
                    {"batchcast_storage_commit_duration_seconds_count", 1},
                    {responses("401"), 0},
                });
  BOOST_CHECK(eventually(
      [&] { return value_now("batchcast_websocket_connections_open") == 0; }));
  BOOST_CHECK(
      eventually([&] { return value_now("batchcast_batch_groups") == 0; }));
}

// Connections whose request is still arriving hold a place under
// --max-connections; the operator sees them in the public gauge, though
// none is a WebSocket yet.
BOOST_AUTO_TEST_CASE(requests_still_arriving_show_in_the_public_gauge) {
  boost::asio::io_context io;
  std::vector<boost::asio::ip::tcp::socket> slow;
  for (int i = 0; i < 3; ++i) {
    slow.emplace_back(io);
    slow.back().connect({boost::asio::ip::make_address("127.0.0.1"),
                         static_cast<unsigned short>(public_port())});
    boost::asio::write(slow.back(),
                       boost::asio::buffer(std::string{"GET /ws/radius/"}));
  }
  BOOST_CHECK(eventually(
      [&] { return value_now("batchcast_public_connections_open") == 3; }));
  BOOST_CHECK_EQUAL(value_now("batchcast_websocket_connections_open"), 0);
  slow.clear();
  BOOST_CHECK(eventually(
      [&] { return value_now("batchcast_public_connections_open") == 0; }));
}

BOOST_AUTO_TEST_CASE(refused_publishes_count_by_code_not_as_publishes) {
  auto before = scrape();
  auto wrong_token = http_request("127.0.0.1", internal_port(), "POST",
                                  "/api/v1/radius/batch/" + batch_a + "/status",
                                  R"({"status":"completed"})", "Bearer nope");
  BOOST_REQUIRE_EQUAL(wrong_token.status, 401);
  BOOST_REQUIRE_EQUAL(publish(batch_a, "done").status, 400);
  expect_deltas(before,
                {{responses("401"), 1},
                 {responses("400"), 1},
                 {publishes("completed"), 0},
                 {"batchcast_storage_commit_duration_seconds_count", 0}});
}

BOOST_AUTO_TEST_CASE(metrics_need_no_token_by_default) {
  auto reply =
      http_request("127.0.0.1", internal_port(), "GET", "/metrics", {}, {});
  BOOST_REQUIRE_EQUAL(reply.status, 200);
  // A response is counted once written: the next scrape sees this one.
  auto first = parse_exposition(reply.body);
  auto second = scrape();
  BOOST_CHECK_EQUAL(second.at(responses("200")) - first.at(responses("200")),
                    1);
  // Not on the public listener: it is the one a proxy may expose.
  auto public_reply =
      http_request("127.0.0.1", public_port(), "GET", "/metrics", {}, {});
  BOOST_CHECK_EQUAL(public_reply.status, 404);
}

BOOST_AUTO_TEST_CASE(a_metrics_token_is_required_once_set) {
  metrics_token = "scrape-token-123";
  restart();
  for (const auto& authorization : {std::string{}, std::string{"Bearer wrong"},
                                    "Bearer " + fixture_token}) {
    BOOST_TEST_CONTEXT(authorization) {
      auto reply = http_request("127.0.0.1", internal_port(), "GET", "/metrics",
                                {}, authorization);
      BOOST_CHECK_EQUAL(reply.status, 401);
    }
  }
  auto parsed = scrape("Bearer scrape-token-123");
  BOOST_CHECK_EQUAL(parsed.at(responses("401")), 3);
  // The probes stay open: an orchestrator has no token.
  BOOST_CHECK_EQUAL(
      http_request("127.0.0.1", internal_port(), "GET", "/readyz").status, 200);
}

BOOST_AUTO_TEST_SUITE_END()
