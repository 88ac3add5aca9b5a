// The storage actor while another process holds the state database's write
// lock: reads are not held up, and a publish is answered within the lock
// wait limit, however long the lock lasts and however many wait with it.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "actors/storage_actor.hpp"
#include "storage/sqlite_db.hpp"
#include "tests/actors/actors_fixture.hpp"

using batchcast::actors::api_failure;
using batchcast::actors::api_result;
using batchcast::actors::lock_wait_limit;
using batchcast::actors::publish_request;
using batchcast::storage::batch_record;
using batchcast::storage::batch_status;
using namespace batchcast::actors::testing;
using std::chrono::steady_clock;

namespace {

// Another connection in BEGIN IMMEDIATE on the state database, as another
// process would hold it, until release() or the end of the scope.
class write_lock_holder {
 public:
  explicit write_lock_holder(const std::string& path) {
    db_.emplace(path, batchcast::storage::open_mode::read_write);
    db_->exec("BEGIN IMMEDIATE");
  }
  ~write_lock_holder() { release(); }

  void release() {
    if (db_) {
      db_->exec("ROLLBACK");
      db_.reset();
    }
  }

 private:
  std::optional<batchcast::storage::sqlite_connection> db_;
};

// A publish on its way: its answer and how long it took.
struct pending_publish {
  std::future<api_result> answer;
  steady_clock::time_point started = steady_clock::now();
  std::shared_ptr<std::promise<double>> seconds =
      std::make_shared<std::promise<double>>();
  std::future<double> took = seconds->get_future();
};

std::unique_ptr<pending_publish> start_publish(actors_fixture& f,
                                               const std::string& batch_id) {
  auto pending = std::make_unique<pending_publish>();
  auto answer = std::make_shared<std::promise<api_result>>();
  pending->answer = answer->get_future();
  publish_request request;
  request.batch_id = batch_id;
  request.status = batch_status::completed;
  batchcast::actors::publish(
      f.system, f.running, std::move(request),
      [answer, seconds = pending->seconds,
       started = pending->started](api_result result) {
        seconds->set_value(
            std::chrono::duration<double>(steady_clock::now() - started)
                .count());
        answer->set_value(std::move(result));
      });
  return pending;
}

bool refused_storage_failed(const api_result& result) {
  auto* failure = std::get_if<api_failure>(&result);
  return failure != nullptr && *failure == api_failure::storage_failed;
}

double limit_seconds() {
  return std::chrono::duration<double>(lock_wait_limit).count();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(locked_store, actors_fixture)

BOOST_AUTO_TEST_CASE(fetch_is_answered_while_a_publish_waits_for_the_lock) {
  publish(other_batch, batch_status::failed);
  write_lock_holder holder{db_path};
  auto waiting = start_publish(*this, batch);
  // Give the publish time to reach the store and find the lock taken.
  std::this_thread::sleep_for(std::chrono::milliseconds{200});

  auto start = steady_clock::now();
  auto fetched = fetch(other_batch);
  BOOST_TEST(
      std::chrono::duration<double>(steady_clock::now() - start).count() < 1.0);
  BOOST_TEST(std::holds_alternative<batch_record>(fetched));

  holder.release();
  BOOST_REQUIRE(waiting->answer.wait_for(wait_limit) ==
                std::future_status::ready);
  auto answer = waiting->answer.get();
  BOOST_TEST(std::holds_alternative<batch_record>(answer), describe(answer));
}

BOOST_AUTO_TEST_CASE(publish_behind_a_refused_one_waits_only_its_own_limit) {
  // The second publish arrives while the first is still waiting for the
  // lock. Each is refused once it has itself waited the limit; it does not
  // wait for the first one's attempt and then a whole limit of its own.
  write_lock_holder holder{db_path};
  auto first = start_publish(*this, batch);
  std::this_thread::sleep_for(lock_wait_limit / 2);
  auto second = start_publish(*this, other_batch);

  for (auto* each : {first.get(), second.get()}) {
    BOOST_REQUIRE(each->answer.wait_for(2 * wait_limit) ==
                  std::future_status::ready);
    auto answer = each->answer.get();
    BOOST_TEST(refused_storage_failed(answer), describe(answer));
    auto took = each->took.get();
    BOOST_TEST(took >= limit_seconds() - 0.1);
    BOOST_TEST(took < limit_seconds() + 1.5);
  }
}

BOOST_AUTO_TEST_SUITE_END()
