// Who is admitted: the outcome a connection actor reports to its socket for
// each kind of session and batch.
#include <boost/test/unit_test.hpp>

#include <thread>

#include "tests/actors/actors_fixture.hpp"

using batchcast::storage::batch_status;
using namespace batchcast::actors::testing;

namespace {

// Long enough for a message that should not come to have arrived.
constexpr std::chrono::milliseconds settle{200};

bool rejected_with(watcher& w, unsigned status) {
  if (!w.socket->wait_for_rejection())
    return false;
  auto calls = w.socket->snapshot();
  return calls.rejections.size() == 1 && calls.rejections.front() == status &&
         calls.accepts == 0 && calls.messages.empty();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(connection, actors_fixture)

BOOST_AUTO_TEST_CASE(staff_org_admin_is_accepted_and_gets_exactly_one_message) {
  auto w = connect(admin_session, batch);
  BOOST_REQUIRE(w.socket->wait_for_accept());

  publish(batch, batch_status::completed);
  BOOST_REQUIRE(w.socket->wait_for_message());
  publish(batch, batch_status::failed);
  std::this_thread::sleep_for(settle);

  auto calls = w.socket->snapshot();
  BOOST_TEST(calls.accepts == 1);
  BOOST_TEST(calls.messages.size() == 1u);
  BOOST_TEST(calls.messages.front() == R"({"status":"completed"})");
  BOOST_TEST(calls.rejections.empty());
  BOOST_TEST(calls.closes.empty());
}

BOOST_AUTO_TEST_CASE(superuser_is_accepted_for_a_batch_of_any_organization) {
  auto w = connect(root_session, other_batch);
  BOOST_REQUIRE(w.socket->wait_for_accept());
  publish(other_batch, batch_status::failed);
  BOOST_REQUIRE(w.socket->wait_for_message());
  BOOST_TEST(w.socket->snapshot().messages.front() == R"({"status":"failed"})");
}

BOOST_AUTO_TEST_CASE(non_staff_user_is_rejected_with_403) {
  auto w = connect(clerk_session, batch);
  BOOST_TEST(rejected_with(w, 403));
}

BOOST_AUTO_TEST_CASE(staff_user_of_another_organization_is_rejected_with_403) {
  auto w = connect(outsider_session, batch);
  BOOST_TEST(rejected_with(w, 403));
}

BOOST_AUTO_TEST_CASE(unknown_batch_is_rejected_with_403) {
  auto w = connect(root_session, "6f1c2a3b-0000-4000-8000-00000000abcd");
  BOOST_TEST(rejected_with(w, 403));
}

BOOST_AUTO_TEST_CASE(missing_session_is_rejected_without_a_lookup) {
  auto w = connect("", batch);
  BOOST_TEST(rejected_with(w, 403));
  BOOST_TEST(directory->session_lookups.load() == 0);
}

BOOST_AUTO_TEST_CASE(forged_session_key_is_rejected_with_403) {
  auto w = connect("abcdefghijklmnopqrstuvwxyz012345", batch);
  BOOST_TEST(rejected_with(w, 403));
}

BOOST_AUTO_TEST_CASE(unreadable_directory_is_rejected_with_503) {
  directory->failing = true;
  auto w = connect(admin_session, batch);
  BOOST_TEST(rejected_with(w, 503));
}

BOOST_AUTO_TEST_CASE(directory_failure_is_not_cached) {
  directory->failing = true;
  auto refused = connect(admin_session, batch);
  BOOST_REQUIRE(rejected_with(refused, 503));

  directory->failing = false;
  auto admitted = connect(admin_session, batch);
  BOOST_TEST(admitted.socket->wait_for_accept());
}

BOOST_AUTO_TEST_CASE(socket_closed_before_authorization_ends_the_connection) {
  directory->delay_ms = 300;  // keeps the session lookup in flight
  auto w = connect(admin_session, batch, /*report_closed=*/false);
  batchcast::actors::socket_closed(w.actor);

  BOOST_TEST(ended(w.actor));
  // The lookup's answer finds the actor gone: nothing reaches the socket.
  BOOST_REQUIRE(eventually([&] { return directory->batch_lookups > 0; }));
  std::this_thread::sleep_for(settle);
  auto calls = w.socket->snapshot();
  BOOST_TEST(calls.accepts == 0);
  BOOST_TEST(calls.rejections.empty());
  BOOST_TEST(calls.messages.empty());
  BOOST_TEST(calls.closes.empty());
  BOOST_TEST(group_count() == 0u);
}

BOOST_AUTO_TEST_CASE(connection_ends_when_its_socket_closes_while_waiting) {
  auto w = connect(admin_session, batch, /*report_closed=*/false);
  BOOST_REQUIRE(w.socket->wait_for_accept());
  BOOST_REQUIRE(eventually([&] { return group_count() == 1; }));

  batchcast::actors::socket_closed(w.actor);
  BOOST_TEST(ended(w.actor));
  // Its group saw it go and, with nobody left, was retired.
  BOOST_TEST(eventually([&] { return group_count() == 0; }));
}

BOOST_AUTO_TEST_CASE(waiting_connection_is_closed_with_1001_at_shutdown) {
  auto w = connect(admin_session, batch);
  BOOST_REQUIRE(w.socket->wait_for_accept());
  BOOST_REQUIRE(eventually([&] { return group_count() == 1; }));

  stop();
  BOOST_TEST(w.socket->wait_for(
      [](const fake_socket::calls& c) { return !c.closes.empty(); }));
  BOOST_TEST(w.socket->snapshot().closes.front() == 1001);
  BOOST_TEST(ended(w.actor));
}

BOOST_AUTO_TEST_SUITE_END()
