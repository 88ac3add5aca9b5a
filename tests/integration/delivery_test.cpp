// What a watcher sees: one terminal message, then a normal close, whether
// it connected before or after the publish, or after a restart.
#define BOOST_TEST_MODULE delivery
#include <boost/test/unit_test.hpp>

#include "tests/integration/service_fixture.hpp"

using namespace batchcast::testing;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(delivery, service_fixture)

BOOST_AUTO_TEST_CASE(org_manager_receives_completed_once_then_close_1000) {
  ws_client watcher;
  BOOST_REQUIRE_EQUAL(connect(watcher, batch_a, manager_of_a), 101);
  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);

  BOOST_CHECK_EQUAL(watcher.read_message(5s).value_or("<none>"),
                    R"({"status":"completed"})");
  BOOST_CHECK(!watcher.read_message(5s));
  BOOST_CHECK(watcher.closed());
  BOOST_CHECK_EQUAL(watcher.close_code(), 1000);
}

BOOST_AUTO_TEST_CASE(superuser_may_watch_any_batch) {
  ws_client watcher;
  BOOST_REQUIRE_EQUAL(connect(watcher, batch_b, superuser), 101);
  BOOST_REQUIRE_EQUAL(publish(batch_b, "failed").status, 200);
  BOOST_CHECK_EQUAL(watcher.read_message(5s).value_or("<none>"),
                    R"({"status":"failed"})");
}

BOOST_AUTO_TEST_CASE(pending_and_processing_are_never_sent) {
  ws_client watcher;
  BOOST_REQUIRE_EQUAL(connect(watcher, batch_a, manager_of_a), 101);
  BOOST_REQUIRE_EQUAL(publish(batch_a, "pending").status, 200);
  BOOST_REQUIRE_EQUAL(publish(batch_a, "processing").status, 200);
  BOOST_CHECK(!watcher.read_message(300ms));
  BOOST_CHECK(!watcher.closed());

  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_CHECK_EQUAL(watcher.read_message(5s).value_or("<none>"),
                    R"({"status":"completed"})");
}

BOOST_AUTO_TEST_CASE(two_terminal_publishes_still_give_one_message) {
  ws_client watcher;
  BOOST_REQUIRE_EQUAL(connect(watcher, batch_a, manager_of_a), 101);
  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_REQUIRE_EQUAL(publish(batch_a, "failed").status, 200);

  BOOST_CHECK_EQUAL(watcher.read_message(5s).value_or("<none>"),
                    R"({"status":"completed"})");
  BOOST_CHECK(!watcher.read_message(2s));
  BOOST_CHECK_EQUAL(watcher.close_code(), 1000);
}

BOOST_AUTO_TEST_CASE(late_joiner_gets_the_stored_status_at_once) {
  BOOST_REQUIRE_EQUAL(publish(batch_a, "failed").status, 200);
  ws_client late;
  BOOST_REQUIRE_EQUAL(connect(late, batch_a, manager_of_a), 101);
  BOOST_CHECK_EQUAL(late.read_message(2s).value_or("<none>"),
                    R"({"status":"failed"})");
  BOOST_CHECK(!late.read_message(2s));
  BOOST_CHECK_EQUAL(late.close_code(), 1000);
}

BOOST_AUTO_TEST_CASE(late_joiner_after_a_restart_gets_the_stored_status) {
  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  restart();
  ws_client late;
  BOOST_REQUIRE_EQUAL(connect(late, batch_a, manager_of_a), 101);
  BOOST_CHECK_EQUAL(late.read_message(2s).value_or("<none>"),
                    R"({"status":"completed"})");
}

BOOST_AUTO_TEST_CASE(latest_status_wins_after_a_rerun) {
  BOOST_REQUIRE_EQUAL(publish(batch_a, "failed").status, 200);
  BOOST_REQUIRE_EQUAL(publish(batch_a, "processing").status, 200);
  ws_client watcher;
  BOOST_REQUIRE_EQUAL(connect(watcher, batch_a, manager_of_a), 101);
  BOOST_CHECK(!watcher.read_message(300ms));
  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_CHECK_EQUAL(watcher.read_message(5s).value_or("<none>"),
                    R"({"status":"completed"})");
}

BOOST_AUTO_TEST_CASE(client_messages_are_read_and_discarded) {
  ws_client watcher;
  BOOST_REQUIRE_EQUAL(connect(watcher, batch_a, manager_of_a), 101);
  for (int i = 0; i < 10; ++i)
    BOOST_REQUIRE(watcher.send_text(100));
  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_CHECK_EQUAL(watcher.read_message(5s).value_or("<none>"),
                    R"({"status":"completed"})");
}

BOOST_AUTO_TEST_CASE(oversized_client_message_closes_with_1009) {
  ws_client watcher;
  BOOST_REQUIRE_EQUAL(connect(watcher, batch_a, manager_of_a), 101);
  watcher.start_sending_text(64 * 1024);
  BOOST_CHECK(!watcher.read_message(5s));
  BOOST_CHECK(watcher.closed());
  BOOST_CHECK_EQUAL(watcher.close_code(), 1009);
}

BOOST_AUTO_TEST_CASE(shutdown_closes_open_sockets_with_1001) {
  ws_client watcher;
  BOOST_REQUIRE_EQUAL(connect(watcher, batch_a, manager_of_a), 101);
  // The client is not reading, so the node waits out its grace period for
  // the closing handshake; the close frame is waiting in the client's
  // socket afterwards.
  node().stop(std::chrono::milliseconds{500});
  BOOST_CHECK(!watcher.read_message(5s));
  BOOST_CHECK_EQUAL(watcher.close_code(), 1001);
  restart();  // the fixture's destructor expects a running node
}

BOOST_AUTO_TEST_SUITE_END()
