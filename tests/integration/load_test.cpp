// Many watchers and many batches at once: everybody gets exactly one
// message, and no connection or group actor outlives its socket or batch.
#define BOOST_TEST_MODULE load
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "storage/directory_admin.hpp"
#include "tests/integration/service_fixture.hpp"

using namespace batchcast::testing;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(load, service_fixture)

BOOST_AUTO_TEST_CASE(every_watcher_of_one_batch_gets_one_message) {
  auto baseline = running_actors();
  constexpr int watchers = 300;
  std::vector<std::unique_ptr<ws_client>> clients;
  for (int i = 0; i < watchers; ++i) {
    clients.push_back(std::make_unique<ws_client>());
    BOOST_REQUIRE_EQUAL(connect(*clients.back(), batch_a, manager_of_a), 101);
  }
  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);

  int delivered = 0;
  for (auto& client : clients) {
    if (client->read_message(5s) == R"({"status":"completed"})")
      ++delivered;
    BOOST_CHECK(!client->read_message(2s));
    BOOST_CHECK_EQUAL(client->close_code(), 1000);
  }
  BOOST_CHECK_EQUAL(delivered, watchers);

  clients.clear();
  BOOST_CHECK(eventually([&] { return running_actors() == baseline; }));
  BOOST_CHECK_EQUAL(running_actors(), baseline);
}

BOOST_AUTO_TEST_CASE(many_batches_published_at_once_reach_their_watchers) {
  constexpr int batches = 100;
  std::vector<std::string> ids;
  {
    batchcast::storage::directory_admin directory{dir.file("state.db")};
    for (int i = 0; i < batches; ++i)
      ids.push_back(
          directory.add_batch(org_a, "", "load " + std::to_string(i)));
  }
  auto baseline = running_actors();

  std::vector<std::unique_ptr<ws_client>> clients;
  for (const auto& id : ids) {
    clients.push_back(std::make_unique<ws_client>());
    BOOST_REQUIRE_EQUAL(connect(*clients.back(), id, manager_of_a), 101);
  }

  // Publish from several threads so saves arrive together.
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> publishers;
  for (int t = 0; t < 4; ++t)
    publishers.emplace_back([&, t] {
      for (int i = t; i < batches; i += 4)
        if (publish(ids[i], i % 2 ? "failed" : "completed").status == 200)
          ++acknowledged;
    });
  for (auto& publisher : publishers)
    publisher.join();
  BOOST_CHECK_EQUAL(acknowledged.load(), batches);

  for (int i = 0; i < batches; ++i) {
    auto expected =
        i % 2 ? R"({"status":"failed"})" : R"({"status":"completed"})";
    BOOST_CHECK_EQUAL(clients[i]->read_message(5s).value_or("<none>"),
                      expected);
    BOOST_CHECK(!clients[i]->read_message(2s));
  }

  clients.clear();
  BOOST_CHECK(eventually([&] { return running_actors() == baseline; }));
  BOOST_CHECK_EQUAL(running_actors(), baseline);
}

BOOST_AUTO_TEST_CASE(refused_and_abandoned_connections_leave_no_actors) {
  auto baseline = running_actors();
  for (int i = 0; i < 50; ++i) {
    ws_client refused;
    BOOST_CHECK_EQUAL(connect(refused, batch_a, staff_of_b), 403);
    ws_client abandoned;
    BOOST_CHECK_EQUAL(connect(abandoned, batch_a, manager_of_a), 101);
  }
  BOOST_CHECK(eventually([&] { return running_actors() == baseline; }));
  BOOST_CHECK_EQUAL(running_actors(), baseline);
}

BOOST_AUTO_TEST_SUITE_END()
