// What watchers receive: one message each, whenever they joined, however
// many of them, and nothing left running afterwards.
#include <boost/test/unit_test.hpp>

#include <thread>
#include <vector>

#include "tests/actors/actors_fixture.hpp"

using batchcast::storage::batch_status;
using namespace batchcast::actors::testing;

namespace {

constexpr std::chrono::milliseconds settle{200};
constexpr auto completed = R"({"status":"completed"})";

bool got_exactly(watcher& w, const std::string& message) {
  if (!w.socket->wait_for_message())
    return false;
  auto calls = w.socket->snapshot();
  return calls.accepts == 1 && calls.messages.size() == 1 &&
         calls.messages.front() == message;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(delivery, actors_fixture)

BOOST_AUTO_TEST_CASE(late_joiner_gets_the_message_at_once) {
  publish(batch, batch_status::completed);
  auto w = connect(admin_session, batch);
  BOOST_TEST(got_exactly(w, completed));
}

BOOST_AUTO_TEST_CASE(late_joiner_after_a_restart_gets_the_stored_message) {
  publish(batch, batch_status::failed);
  stop();

  // New services on the same file: the new group loads the stored status.
  test_config config;
  caf::actor_system other_system{config};
  auto again =
      batchcast::actors::start_services(other_system, settings, directory);
  BOOST_REQUIRE(again);
  batchcast::actors::connection_request request;
  request.connection_id = 1;
  request.batch_id = batch;
  request.session_key = admin_session;
  auto socket = std::make_shared<fake_socket>();
  auto actor = batchcast::actors::spawn_connection(other_system, *again,
                                                   request, socket);
  socket->attach(actor);
  BOOST_TEST(socket->wait_for_message());
  BOOST_TEST(socket->snapshot().messages.front() == R"({"status":"failed"})");
  batchcast::actors::stop_services(other_system, *again);
}

BOOST_AUTO_TEST_CASE(non_terminal_statuses_are_never_sent) {
  auto w = connect(admin_session, batch);
  BOOST_REQUIRE(w.socket->wait_for_accept());
  publish(batch, batch_status::pending);
  publish(batch, batch_status::processing);
  std::this_thread::sleep_for(settle);
  BOOST_TEST(w.socket->snapshot().messages.empty());

  publish(batch, batch_status::completed);
  BOOST_TEST(got_exactly(w, completed));
}

BOOST_AUTO_TEST_CASE(two_terminal_publishes_send_one_message_to_each_watcher) {
  auto first = connect(admin_session, batch);
  auto second = connect(root_session, batch);
  BOOST_REQUIRE(first.socket->wait_for_accept());
  BOOST_REQUIRE(second.socket->wait_for_accept());

  publish(batch, batch_status::completed);
  publish(batch, batch_status::failed);
  std::this_thread::sleep_for(settle);

  BOOST_TEST(got_exactly(first, completed));
  BOOST_TEST(got_exactly(second, completed));
}

BOOST_AUTO_TEST_CASE(rerun_batch_reaches_watchers_who_joined_after_it) {
  publish(batch, batch_status::failed);
  publish(batch, batch_status::processing);  // re-run: latest status wins

  auto w = connect(admin_session, batch);
  BOOST_REQUIRE(w.socket->wait_for_accept());
  std::this_thread::sleep_for(settle);
  BOOST_REQUIRE(w.socket->snapshot().messages.empty());

  publish(batch, batch_status::completed);
  BOOST_TEST(got_exactly(w, completed));
}

BOOST_AUTO_TEST_CASE(five_hundred_watchers_of_one_batch_each_get_one_message) {
  std::vector<watcher> watchers;
  for (int i = 0; i < 500; ++i)
    watchers.push_back(connect(i % 2 ? admin_session : root_session, batch));
  for (auto& w : watchers)
    BOOST_REQUIRE(w.socket->wait_for_accept());

  publish(batch, batch_status::completed);
  for (auto& w : watchers)
    BOOST_TEST(got_exactly(w, completed));
}

BOOST_AUTO_TEST_CASE(watchers_of_two_hundred_batches_each_get_one_message) {
  std::vector<std::string> batches;
  for (int i = 0; i < 200; ++i)
    batches.push_back(add_batch(org));
  std::vector<watcher> watchers;
  for (const auto& each : batches) {
    watchers.push_back(connect(admin_session, each));
    watchers.push_back(connect(root_session, each));
  }
  for (auto& w : watchers)
    BOOST_REQUIRE(w.socket->wait_for_accept());

  // Published together, as a busy worker would.
  std::vector<std::thread> publishers;
  for (int part = 0; part < 4; ++part)
    publishers.emplace_back([&, part] {
      for (std::size_t i = part; i < batches.size(); i += 4)
        publish(batches[i], batch_status::completed);
    });
  for (auto& each : publishers)
    each.join();

  for (auto& w : watchers)
    BOOST_TEST(got_exactly(w, completed));
}

BOOST_AUTO_TEST_CASE(joins_racing_publishes_never_miss_the_status) {
  // Watchers that come and go keep groups being spawned and retired while
  // the publishes and the real watchers arrive in any order: each real
  // watcher still gets its one message, as a member or as a late joiner.
  std::vector<std::string> batches;
  for (int i = 0; i < 50; ++i)
    batches.push_back(add_batch(org));

  std::thread publisher{[&] {
    for (const auto& each : batches)
      publish(each, batch_status::completed);
  }};
  std::vector<watcher> watchers;
  for (const auto& each : batches) {
    auto passing = connect(admin_session, each, /*report_closed=*/false);
    watchers.push_back(connect(admin_session, each));
    batchcast::actors::socket_closed(passing.actor);
  }
  publisher.join();

  for (auto& w : watchers)
    BOOST_TEST(got_exactly(w, completed));
  BOOST_TEST(eventually([&] { return group_count() == 0; }));
}

BOOST_AUTO_TEST_CASE(groups_and_actors_are_gone_once_every_socket_closed) {
  std::vector<std::string> batches{batch};
  for (int i = 0; i < 20; ++i)
    batches.push_back(add_batch(org));
  std::vector<watcher> watchers;
  for (const auto& each : batches)
    for (int i = 0; i < 5; ++i)
      watchers.push_back(connect(admin_session, each));
  watchers.push_back(connect(clerk_session, batch));  // rejected
  for (std::size_t i = 0; i + 1 < watchers.size(); ++i)
    BOOST_REQUIRE(watchers[i].socket->wait_for_accept());
  BOOST_TEST(group_count() == batches.size());

  for (const auto& each : batches)
    publish(each, batch_status::completed);

  // Each fake socket reports itself closed after its one message.
  BOOST_TEST(eventually([&] { return group_count() == 0; }));
  BOOST_TEST(eventually([&] { return running_actors() == baseline; }),
             "running " << running_actors() << ", baseline " << baseline);
}

BOOST_AUTO_TEST_SUITE_END()
