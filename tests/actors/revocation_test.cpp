// Sessions that end, and batches deleted or moved away, while their sockets
// wait: session_watch closes those sockets with 1008 (a directory lookup per
// session and per batch about every three quarters of a TTL, however many
// sockets use them), and a connection whose authorization is older than the
// TTL checks its session again before it hands over a status.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include "tests/actors/actors_fixture.hpp"

using batchcast::storage::batch_status;
using namespace batchcast::actors::testing;
using namespace std::chrono_literals;

namespace {

constexpr auto ttl = 300ms;
constexpr auto completed = R"({"status":"completed"})";

struct short_ttl_fixture : actors_fixture {
  short_ttl_fixture() : actors_fixture(ttl) {}

  // Closed with `code` and never given a message.
  static bool closed_without_message(watcher& w, std::uint16_t code) {
    if (!w.socket->wait_for(
            [](const fake_socket::calls& c) { return !c.closes.empty(); }))
      return false;
    auto calls = w.socket->snapshot();
    return calls.closes.size() == 1 && calls.closes.front() == code &&
           calls.messages.empty();
  }

  // Long enough that every validation session_auth may still trust was
  // read after whatever the test changed before.
  static void outlive_the_ttl() { std::this_thread::sleep_for(ttl + 100ms); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(revocation, short_ttl_fixture)

BOOST_AUTO_TEST_CASE(ended_session_closes_its_waiting_sockets_with_1008) {
  std::vector<watcher> watchers;
  for (int i = 0; i < 3; ++i)
    watchers.push_back(connect(admin_session, batch));
  for (auto& w : watchers)
    BOOST_REQUIRE(w.socket->wait_for_accept());
  auto bystander = connect(root_session, batch);
  BOOST_REQUIRE(bystander.socket->wait_for_accept());

  auto revoked_at = std::chrono::steady_clock::now();
  admin.set_user_flags("admin", true, false, false);  // no longer staff
  for (auto& w : watchers)
    BOOST_TEST(closed_without_message(w, 1008));
  BOOST_TEST((std::chrono::steady_clock::now() - revoked_at < ttl + 5s));

  publish(batch, batch_status::completed);
  BOOST_TEST(bystander.socket->wait_for_message());
}

BOOST_AUTO_TEST_CASE(lost_admin_rights_close_only_that_organizations_sockets) {
  admin.add_member("admin", other_org, true);
  auto own = connect(admin_session, batch);
  BOOST_REQUIRE(own.socket->wait_for_accept());
  auto other = connect(admin_session, other_batch);
  BOOST_REQUIRE(other.socket->wait_for_accept());

  admin.set_member_admin("admin", org, false);
  BOOST_TEST(closed_without_message(own, 1008));
  publish(other_batch, batch_status::completed);
  BOOST_TEST(other.socket->wait_for_message());
  BOOST_TEST(other.socket->snapshot().closes.empty());
}

BOOST_AUTO_TEST_CASE(deleted_batch_closes_its_waiting_sockets_with_1008) {
  auto own = connect(admin_session, batch);
  BOOST_REQUIRE(own.socket->wait_for_accept());
  auto root = connect(root_session, batch);
  BOOST_REQUIRE(root.socket->wait_for_accept());
  auto elsewhere = connect(root_session, other_batch);
  BOOST_REQUIRE(elsewhere.socket->wait_for_accept());

  auto deleted_at = std::chrono::steady_clock::now();
  BOOST_REQUIRE(admin.delete_batch(batch));
  BOOST_TEST(closed_without_message(own, 1008));
  BOOST_TEST(closed_without_message(root, 1008));
  BOOST_TEST((std::chrono::steady_clock::now() - deleted_at < ttl + 5s));

  publish(other_batch, batch_status::completed);
  BOOST_TEST(elsewhere.socket->wait_for_message());
}

BOOST_AUTO_TEST_CASE(moved_batch_closes_the_sockets_of_users_it_left_behind) {
  auto own = connect(admin_session, batch);
  BOOST_REQUIRE(own.socket->wait_for_accept());
  auto root = connect(root_session, batch);
  BOOST_REQUIRE(root.socket->wait_for_accept());

  auto moved_at = std::chrono::steady_clock::now();
  admin.move_batch(batch, other_org);
  BOOST_TEST(closed_without_message(own, 1008));
  BOOST_TEST((std::chrono::steady_clock::now() - moved_at < ttl + 5s));

  // The superuser may watch it wherever it is; the new organization's
  // admin may connect now.
  auto outsider = connect(outsider_session, batch);
  BOOST_REQUIRE(outsider.socket->wait_for_accept());
  publish(batch, batch_status::completed);
  BOOST_TEST(root.socket->wait_for_message());
  BOOST_TEST(outsider.socket->wait_for_message());
}

BOOST_AUTO_TEST_CASE(revalidation_reads_each_session_once_per_round) {
  std::vector<watcher> watchers;
  for (int i = 0; i < 50; ++i)
    watchers.push_back(connect(admin_session, batch));
  for (auto& w : watchers)
    BOOST_REQUIRE(w.socket->wait_for_accept());
  auto before = directory->session_lookups.load();
  auto batches_before = directory->batch_lookups.load();

  std::this_thread::sleep_for(5 * ttl);
  auto lookups = directory->session_lookups.load() - before;
  auto batch_lookups = directory->batch_lookups.load() - batches_before;
  // About one a TTL for the one key and the one batch, however many
  // sockets use them.
  BOOST_TEST_MESSAGE("lookups in 5 TTLs: session " << lookups << ", batch "
                                                   << batch_lookups);
  BOOST_TEST(lookups >= 1);
  BOOST_TEST(lookups <= 7);
  BOOST_TEST(batch_lookups <= 7);
}

BOOST_AUTO_TEST_CASE(unreadable_directory_leaves_open_sockets_alone) {
  auto w = connect(admin_session, batch);
  BOOST_REQUIRE(w.socket->wait_for_accept());
  directory->failing = true;
  std::this_thread::sleep_for(4 * ttl);
  BOOST_TEST(w.socket->snapshot().closes.empty());

  directory->failing = false;
  publish(batch, batch_status::completed);
  BOOST_REQUIRE(w.socket->wait_for_message());
  BOOST_TEST(w.socket->snapshot().messages.front() == completed);
}

// Without session_watch, the check at delivery alone must hold the status
// back from a session that ended.
BOOST_AUTO_TEST_CASE(status_is_withheld_from_an_ended_session_after_the_ttl) {
  auto w = connect(admin_session, batch, true, /*watched=*/false);
  BOOST_REQUIRE(w.socket->wait_for_accept());
  admin.delete_session(admin_session);
  outlive_the_ttl();

  publish(batch, batch_status::completed);
  BOOST_TEST(closed_without_message(w, 1008));
}

BOOST_AUTO_TEST_CASE(valid_session_gets_its_status_after_the_ttl) {
  auto w = connect(admin_session, batch, true, /*watched=*/false);
  BOOST_REQUIRE(w.socket->wait_for_accept());
  outlive_the_ttl();
  auto before = directory->session_lookups.load();

  publish(batch, batch_status::completed);
  BOOST_REQUIRE(w.socket->wait_for_message());
  BOOST_TEST(w.socket->snapshot().messages.front() == completed);
  BOOST_TEST(directory->session_lookups.load() == before + 1);  // re-checked
}

BOOST_AUTO_TEST_CASE(status_is_not_sent_when_the_session_cannot_be_checked) {
  auto w = connect(admin_session, batch, true, /*watched=*/false);
  BOOST_REQUIRE(w.socket->wait_for_accept());
  outlive_the_ttl();
  directory->failing = true;

  publish(batch, batch_status::completed);
  BOOST_TEST(closed_without_message(w, 1013));
}

BOOST_AUTO_TEST_SUITE_END()
