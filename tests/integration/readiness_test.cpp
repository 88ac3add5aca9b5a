// GET /readyz on a real node: ready while the state database and the
// directory answer, 503 naming what is down while they do not (a file
// gone, a column a lookup reads renamed), ready again once they are back,
// and 503 once the node is stopping.
#define BOOST_TEST_MODULE readiness
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <future>

#include <nlohmann/json.hpp>

#include "storage/sqlite_db.hpp"
#include "tests/integration/service_fixture.hpp"

using namespace batchcast::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct readiness_fixture : service_fixture {
  http_result ready_on(std::uint16_t port) {
    return http_request("127.0.0.1", port, "GET", "/readyz");
  }

  // What a migration (or a hand edit) does to the standalone directory,
  // which lives in the state database.
  void rename_column(const std::string& table, const std::string& from,
                     const std::string& to) {
    using namespace batchcast::storage;
    sqlite_connection db(dir.file("state.db"), open_mode::read_write);
    db.exec("ALTER TABLE " + quote_identifier(table) + " RENAME COLUMN " +
            quote_identifier(from) + " TO " + quote_identifier(to));
  }

  // Answers are cached for a second, so a change shows within a few.
  bool becomes(int status, std::uint16_t port) {
    return eventually([&] { return ready_on(port).status == status; }, 10s);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(readiness, readiness_fixture)

BOOST_AUTO_TEST_CASE(a_healthy_node_is_ready_on_both_listeners) {
  for (auto port : {internal_port(), public_port()}) {
    auto reply = ready_on(port);
    BOOST_CHECK_EQUAL(reply.status, 200);
    BOOST_CHECK_EQUAL(json::parse(reply.body), json({{"status", "ready"}}));
  }
  // Probes are not upgrade attempts.
  auto metrics = http_request("127.0.0.1", internal_port(), "GET", "/metrics");
  BOOST_CHECK(metrics.body.find("batchcast_handshakes_total{outcome=\""
                                "not_found\"} 0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_database_file_is_not_ready_until_it_returns) {
  auto path = dir.file("state.db");
  auto aside = dir.file("state.db.aside");
  BOOST_REQUIRE_EQUAL(std::rename(path.c_str(), aside.c_str()), 0);
  BOOST_CHECK(becomes(503, internal_port()));
  auto reply = ready_on(internal_port());
  auto body = json::parse(reply.body);
  BOOST_CHECK_EQUAL(body["status"], "not_ready");
  // Standalone: the state database is also the directory.
  BOOST_CHECK_EQUAL(body["checks"]["state_store"], "failed");
  BOOST_CHECK_EQUAL(body["checks"]["directory"], "failed");
  BOOST_CHECK(reply.body.find(dir.file("")) == std::string::npos);
  BOOST_CHECK_EQUAL(ready_on(public_port()).status, 503);

  BOOST_REQUIRE_EQUAL(std::rename(aside.c_str(), path.c_str()), 0);
  BOOST_CHECK(becomes(200, internal_port()));
  BOOST_CHECK(becomes(200, public_port()));
}

BOOST_AUTO_TEST_CASE(a_renamed_directory_column_is_not_ready_until_restored) {
  // Only the user lookup reads is_staff: a probe that asked for one batch
  // would stay ready while every new watcher got 503.
  rename_column("openwisp_users_user", "is_staff", "is_staff_renamed");
  BOOST_CHECK(becomes(503, internal_port()));
  auto body = json::parse(ready_on(internal_port()).body);
  BOOST_CHECK_EQUAL(body["checks"]["state_store"], "ok");
  BOOST_CHECK_EQUAL(body["checks"]["directory"], "failed");
  BOOST_CHECK_EQUAL(body["reason"], "directory failed a read");
  ws_client refused;
  BOOST_CHECK_EQUAL(connect(refused, batch_a, manager_of_a), 503);

  rename_column("openwisp_users_user", "is_staff_renamed", "is_staff");
  BOOST_CHECK(becomes(200, internal_port()));
  BOOST_CHECK(becomes(200, public_port()));
  ws_client accepted;
  BOOST_CHECK_EQUAL(connect(accepted, batch_a, manager_of_a), 101);
}

BOOST_AUTO_TEST_CASE(concurrent_probes_on_both_listeners_all_get_an_answer) {
  // The public listener answers through the same gate as status pages,
  // the internal one through the publish API's; neither may drop a probe
  // that waits for a round under way. (That a round is shared is checked
  // where the probes can be counted, in the actors suite.)
  std::vector<std::future<int>> probes;
  for (int i = 0; i < 20; ++i) {
    auto port = i % 2 == 0 ? internal_port() : public_port();
    probes.push_back(std::async(
        std::launch::async, [this, port] { return ready_on(port).status; }));
  }
  for (auto& each : probes)
    BOOST_CHECK_EQUAL(each.get(), 200);
}

BOOST_AUTO_TEST_SUITE_END()
