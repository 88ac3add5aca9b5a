// A socket that is already open when its session ends (logout, the user
// deactivated or no longer staff, organization admin rights removed, the
// password changed) never receives the batch's status: it is closed with
// 1008 once the node's session cache notices, within the session TTL.
// Sockets whose sessions stay valid are not disturbed.
#define BOOST_TEST_MODULE revocation
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <functional>
#include <thread>

#include "storage/directory_admin.hpp"
#include "storage/session_validator.hpp"
#include "tests/integration/service_fixture.hpp"

using namespace batchcast::testing;
using namespace std::chrono_literals;
using batchcast::storage::directory_admin;

namespace {

const std::string completed = R"({"status":"completed"})";

// Time for the node to notice beyond the TTL, on a loaded machine.
constexpr auto margin = 5s;

struct short_ttl_service : service_fixture {
  short_ttl_service() {
    session_ttl = 500ms;
    restart();
  }

  // Opens a watcher for the manager of org_a, changes the directory with
  // `revoke`, and checks that the watcher is closed with 1008 without its
  // status, even though the status is published once every answer the node
  // may still trust was read after the change.
  void check_revoked_by(const std::function<void(directory_admin&)>& revoke) {
    ws_client watcher;
    BOOST_REQUIRE_EQUAL(connect(watcher, batch_a, manager_of_a), 101);
    ws_client bystander;  // another user's socket on the same batch
    BOOST_REQUIRE_EQUAL(connect(bystander, batch_a, superuser), 101);

    directory_admin directory{dir.file("state.db")};
    revoke(directory);
    auto revoked_at = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(session_ttl + 100ms);
    BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);

    BOOST_CHECK_EQUAL(watcher.read_message(margin).value_or("<none>"),
                      "<none>");
    BOOST_CHECK(watcher.closed());
    BOOST_CHECK_EQUAL(watcher.close_code(), 1008);
    BOOST_CHECK(std::chrono::steady_clock::now() - revoked_at <
                session_ttl + margin);

    BOOST_CHECK_EQUAL(bystander.read_message(5s).value_or("<none>"), completed);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(revocation, short_ttl_service)

BOOST_AUTO_TEST_CASE(logout_closes_the_open_socket_with_1008) {
  check_revoked_by([&](directory_admin& d) { d.delete_session(manager_of_a); });
}

BOOST_AUTO_TEST_CASE(deactivated_user_is_closed_with_1008) {
  check_revoked_by([](directory_admin& d) {
    d.set_user_flags("manager", false, true, false);
  });
}

BOOST_AUTO_TEST_CASE(user_no_longer_staff_is_closed_with_1008) {
  check_revoked_by([](directory_admin& d) {
    d.set_user_flags("manager", true, false, false);
  });
}

BOOST_AUTO_TEST_CASE(removed_organization_admin_is_closed_with_1008) {
  check_revoked_by(
      [&](directory_admin& d) { d.set_member_admin("manager", org_a, false); });
}

BOOST_AUTO_TEST_CASE(changed_password_closes_the_open_socket_with_1008) {
  check_revoked_by(
      [](directory_admin& d) { d.set_password("manager", "a-new-password"); });
}

BOOST_AUTO_TEST_CASE(revoked_socket_is_closed_without_any_publish) {
  ws_client watcher;
  BOOST_REQUIRE_EQUAL(connect(watcher, batch_a, manager_of_a), 101);
  directory_admin{dir.file("state.db")}.delete_session(manager_of_a);

  BOOST_CHECK(!watcher.read_message(session_ttl + margin));
  BOOST_CHECK(watcher.closed());
  BOOST_CHECK_EQUAL(watcher.close_code(), 1008);
  BOOST_CHECK(
      eventually([&] { return node().network().open_sessions() == 0; }));
}

BOOST_AUTO_TEST_CASE(valid_session_still_gets_its_status_after_many_ttls) {
  ws_client watcher;
  BOOST_REQUIRE_EQUAL(connect(watcher, batch_a, manager_of_a), 101);
  // Several rounds of revalidation pass without a word to the client.
  BOOST_CHECK(!watcher.read_message(4 * session_ttl));
  BOOST_REQUIRE(!watcher.closed());

  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_CHECK_EQUAL(watcher.read_message(5s).value_or("<none>"), completed);
  BOOST_CHECK(!watcher.read_message(5s));
  BOOST_CHECK_EQUAL(watcher.close_code(), 1000);
}

BOOST_AUTO_TEST_CASE(another_session_of_the_same_user_is_not_affected) {
  ws_client kept, ended;
  auto second_session = directory_admin{dir.file("state.db")}.issue_session(
      "manager", fixture_secret_key,
      batchcast::storage::default_auth_backends().front(), 3600);
  BOOST_REQUIRE_EQUAL(connect(kept, batch_a, second_session), 101);
  BOOST_REQUIRE_EQUAL(connect(ended, batch_a, manager_of_a), 101);
  directory_admin{dir.file("state.db")}.delete_session(manager_of_a);

  BOOST_CHECK(!ended.read_message(session_ttl + margin));
  BOOST_CHECK_EQUAL(ended.close_code(), 1008);
  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_CHECK_EQUAL(kept.read_message(5s).value_or("<none>"), completed);
}

BOOST_AUTO_TEST_SUITE_END()
