// What the readiness actor asks of the databases behind /readyz: one probe
// round serves every caller that arrives while it runs, a dependency that
// hangs is reported as timed out without being asked again, and a failing
// one (unreachable, or missing a column a lookup reads) as failed until it
// answers again.
#include <boost/test/unit_test.hpp>

#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "storage/sqlite_db.hpp"
#include "tests/actors/actors_fixture.hpp"

using namespace batchcast::actors;
using namespace batchcast::actors::testing;
using namespace std::chrono_literals;

namespace {

// The report, or nothing when none came within 20 s. Makes no Boost.Test
// assertion, so it may run on any thread.
std::optional<readiness_report> try_ask(caf::actor_system& system,
                                        const services& running) {
  auto answer = std::make_shared<std::promise<readiness_report>>();
  auto future = answer->get_future();
  check_ready(system, running,
              [answer](readiness_report report) { answer->set_value(report); });
  if (future.wait_for(20s) != std::future_status::ready)
    return std::nullopt;
  return future.get();
}

readiness_report ask(caf::actor_system& system, const services& running) {
  auto report = try_ask(system, running);
  BOOST_REQUIRE(report);
  return *report;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(readiness, actors_fixture)

BOOST_AUTO_TEST_CASE(concurrent_checks_share_one_probe_round) {
  // Slow enough that every check arrives while the first probe is out.
  directory->delay_ms = 300;
  std::vector<std::future<std::optional<readiness_report>>> checks;
  for (int i = 0; i < 20; ++i)
    checks.push_back(std::async(std::launch::async,
                                [this] { return try_ask(system, running); }));
  for (auto& each : checks) {
    auto report = each.get();
    BOOST_CHECK(report && report->ready());
  }
  BOOST_TEST(directory->checks.load() == 1);

  // Within the cache time, the answer costs nothing either.
  BOOST_CHECK(ask(system, running).ready());
  BOOST_TEST(directory->checks.load() == 1);
}

BOOST_AUTO_TEST_CASE(a_hanging_directory_times_out_and_is_not_asked_again) {
  directory->delay_ms = 5000;
  auto first = ask(system, running);
  BOOST_CHECK(!first.ready());
  BOOST_CHECK(first.state_store == probe_result::ok);
  BOOST_CHECK(first.directory == probe_result::timeout);

  // Past the cache time, a new round: the directory's first probe is still
  // being served, so no second one joins it in the mailbox.
  std::this_thread::sleep_for(1200ms);
  auto second = ask(system, running);
  BOOST_CHECK(second.directory == probe_result::timeout);
  BOOST_TEST(directory->checks.load() == 1);

  directory->delay_ms = 0;
  BOOST_CHECK(eventually([&] { return ask(system, running).ready(); }, 20s));
}

BOOST_AUTO_TEST_CASE(a_failing_directory_is_reported_until_it_recovers) {
  directory->failing = true;
  auto report = ask(system, running);
  BOOST_CHECK(report.directory == probe_result::failed);
  BOOST_CHECK(report.state_store == probe_result::ok);

  directory->failing = false;
  BOOST_CHECK(eventually([&] { return ask(system, running).ready(); }, 20s));
}

BOOST_AUTO_TEST_CASE(a_directory_missing_a_column_is_not_ready_until_back) {
  auto rename = [this](const std::string& from, const std::string& to) {
    batchcast::storage::sqlite_connection db(
        db_path, batchcast::storage::open_mode::read_write);
    db.exec("ALTER TABLE openwisp_users_organizationuser RENAME COLUMN " +
            from + " TO " + to);
  };
  BOOST_REQUIRE(eventually([&] { return ask(system, running).ready(); }));
  rename("is_admin", "is_admin_renamed");
  BOOST_CHECK(eventually(
      [&] { return ask(system, running).directory == probe_result::failed; },
      20s));

  rename("is_admin_renamed", "is_admin");
  BOOST_CHECK(eventually([&] { return ask(system, running).ready(); }, 20s));
}

BOOST_AUTO_TEST_CASE(a_write_locked_state_database_is_not_ready_until_freed) {
  BOOST_REQUIRE(eventually([&] { return ask(system, running).ready(); }));
  std::optional<batchcast::storage::sqlite_connection> other_process;
  other_process.emplace(db_path, batchcast::storage::open_mode::read_write);
  other_process->exec("BEGIN IMMEDIATE");

  // Reads still answer (WAL), yet the node is not ready: publishes would
  // wait. The report says for how long the lock has been seen held.
  std::optional<readiness_report> locked;
  BOOST_CHECK(eventually(
      [&] {
        locked = ask(system, running);
        return locked->state_store == probe_result::write_locked &&
               locked->state_store_locked_for >= 1s;
      },
      20s));
  BOOST_REQUIRE(locked);
  BOOST_CHECK(!locked->ready());
  BOOST_CHECK(locked->directory == probe_result::ok);
  BOOST_TEST(describe_not_ready(*locked).find(
                 "state database write-locked by another process for") == 0);

  other_process->exec("ROLLBACK");
  other_process.reset();
  BOOST_CHECK(eventually([&] { return ask(system, running).ready(); }, 20s));
  BOOST_TEST(describe_not_ready(ask(system, running)).empty());
}

BOOST_AUTO_TEST_SUITE_END()
