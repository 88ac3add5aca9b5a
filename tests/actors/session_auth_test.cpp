// What the caches in front of the directory save: lookups are shared and
// remembered, counted where they reach the directory.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include "tests/actors/actors_fixture.hpp"

using namespace batchcast::actors::testing;

BOOST_FIXTURE_TEST_SUITE(session_auth, actors_fixture)

BOOST_AUTO_TEST_CASE(concurrent_connections_with_one_key_cause_one_lookup) {
  // Slow enough that every connection asks while the first lookup is still
  // in flight: only coalescing, not the cache, can make this one lookup.
  directory->delay_ms = 100;
  std::vector<watcher> watchers;
  for (int i = 0; i < 50; ++i)
    watchers.push_back(connect(admin_session, batch));
  for (auto& w : watchers)
    BOOST_REQUIRE(w.socket->wait_for_accept());

  BOOST_TEST(directory->session_lookups.load() == 1);
  BOOST_TEST(directory->batch_lookups.load() == 1);
}

BOOST_AUTO_TEST_CASE(known_session_is_not_looked_up_again) {
  auto first = connect(admin_session, batch);
  BOOST_REQUIRE(first.socket->wait_for_accept());
  auto second = connect(admin_session, batch);
  BOOST_REQUIRE(second.socket->wait_for_accept());
  BOOST_TEST(directory->session_lookups.load() == 1);
}

BOOST_AUTO_TEST_CASE(refused_session_is_remembered_briefly) {
  auto first = connect(clerk_session, batch);
  BOOST_REQUIRE(first.socket->wait_for_rejection());
  auto second = connect(clerk_session, batch);
  BOOST_REQUIRE(second.socket->wait_for_rejection());
  BOOST_TEST(directory->session_lookups.load() == 1);
}

BOOST_AUTO_TEST_CASE(each_session_is_looked_up_once_for_many_batches) {
  std::vector<std::string> batches;
  for (int i = 0; i < 5; ++i)
    batches.push_back(add_batch(org));
  for (const auto& each : batches) {
    auto w = connect(admin_session, each);
    BOOST_REQUIRE(w.socket->wait_for_accept());
  }
  BOOST_TEST(directory->session_lookups.load() == 1);
  BOOST_TEST(directory->batch_lookups.load() == 5);
}

BOOST_AUTO_TEST_CASE(cached_session_is_not_trusted_past_its_expiry) {
  // Valid for two seconds, far less than the cache's 30 s: the cache must
  // not keep accepting it once Django would have refused it.
  auto short_session = admin.issue_session(
      "admin", secret_key, batchcast::storage::default_auth_backends().front(),
      2);
  auto first = connect(short_session, batch);
  BOOST_REQUIRE(first.socket->wait_for_accept());
  std::this_thread::sleep_for(std::chrono::milliseconds{2500});
  auto late = connect(short_session, batch);
  BOOST_TEST(late.socket->wait_for_rejection());
  BOOST_TEST(directory->session_lookups.load() == 2);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

constexpr std::chrono::milliseconds short_ttl{300};

struct short_ttl_fixture : actors_fixture {
  short_ttl_fixture() : actors_fixture(short_ttl) {}

  // A new handshake, without session_watch: its answer is the verdict.
  bool accepted(const std::string& session_key, const std::string& batch_id) {
    auto w = connect(session_key, batch_id, true, /*watched=*/false);
    return w.socket->wait_for([](const fake_socket::calls& c) {
      return c.accepts > 0 || !c.rejections.empty();
    }) && w.socket->snapshot().accepts > 0;
  }

  // Long enough that the batch's cached organization has expired.
  static void outlive_the_ttl() {
    std::this_thread::sleep_for(short_ttl + std::chrono::milliseconds{100});
  }
};

}  // namespace

// A batch can be moved to another organization or deleted in Django: its
// organization is cached no longer than a session.
BOOST_FIXTURE_TEST_SUITE(batch_organization_cache, short_ttl_fixture)

BOOST_AUTO_TEST_CASE(moved_batch_is_read_again_after_the_ttl) {
  BOOST_REQUIRE(accepted(admin_session, batch));
  BOOST_REQUIRE(!accepted(outsider_session, batch));
  auto before = directory->batch_lookups.load();

  admin.move_batch(batch, other_org);
  outlive_the_ttl();
  BOOST_TEST(!accepted(admin_session, batch));
  BOOST_TEST(accepted(outsider_session, batch));
  BOOST_TEST(directory->batch_lookups.load() > before);
}

BOOST_AUTO_TEST_CASE(deleted_batch_is_refused_after_the_ttl) {
  BOOST_REQUIRE(accepted(admin_session, batch));
  BOOST_REQUIRE(accepted(root_session, batch));

  admin.delete_batch(batch);
  outlive_the_ttl();
  auto refused = connect(root_session, batch, true, /*watched=*/false);
  BOOST_REQUIRE(refused.socket->wait_for_rejection());
  BOOST_TEST(refused.socket->snapshot().rejections.front() == 403u);
}

BOOST_AUTO_TEST_SUITE_END()
