// The publish and fetch calls net's API handler makes: durable before the
// answer, ordered, and refused for the right reasons.
#include <boost/test/unit_test.hpp>

#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "storage/state_store.hpp"
#include "tests/actors/actors_fixture.hpp"

using batchcast::actors::api_failure;
using batchcast::actors::api_result;
using batchcast::actors::publish_request;
using batchcast::storage::batch_record;
using batchcast::storage::batch_status;
using namespace batchcast::actors::testing;

namespace {

bool failed_with(const api_result& result, api_failure expected) {
  auto* failure = std::get_if<api_failure>(&result);
  return failure != nullptr && *failure == expected;
}

publish_request request_for(const std::string& batch_id, batch_status status,
                            const std::string& organization_id = {}) {
  publish_request request;
  request.batch_id = batch_id;
  request.status = status;
  request.organization_id = organization_id;
  return request;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(publishing, actors_fixture)

BOOST_AUTO_TEST_CASE(publish_is_answered_only_after_its_commit) {
  // When the callback runs, a separate connection to the file must already
  // see the record: the answer never precedes the commit.
  struct observed {
    api_result answer;
    std::optional<batch_record> on_disk;
  };
  auto seen = std::make_shared<std::promise<observed>>();
  auto result = seen->get_future();
  auto path = db_path;
  batchcast::actors::publish(
      system, running, request_for(batch, batch_status::completed),
      [seen, path](api_result answer) {
        std::optional<batch_record> on_disk;
        if (auto* record = std::get_if<batch_record>(&answer))
          on_disk =
              batchcast::storage::state_store{path}.load(record->batch_id);
        seen->set_value({std::move(answer), std::move(on_disk)});
      });
  BOOST_REQUIRE(result.wait_for(wait_limit) == std::future_status::ready);

  auto got = result.get();
  BOOST_REQUIRE_MESSAGE(std::holds_alternative<batch_record>(got.answer),
                        describe(got.answer));
  auto& answered = std::get<batch_record>(got.answer);
  BOOST_REQUIRE(got.on_disk.has_value());
  BOOST_TEST(got.on_disk->status == batch_status::completed);
  BOOST_TEST(got.on_disk->updated_at_ms == answered.updated_at_ms);
  BOOST_TEST(answered.origin == "test-node");
}

BOOST_AUTO_TEST_CASE(fetch_returns_the_stored_record) {
  auto stored = publish(batch, batch_status::processing);
  auto fetched = fetch(batch);
  BOOST_REQUIRE(std::holds_alternative<batch_record>(fetched));
  BOOST_TEST(std::get<batch_record>(fetched).updated_at_ms ==
             stored.updated_at_ms);
  BOOST_TEST(std::get<batch_record>(fetched).status ==
             batch_status::processing);
}

BOOST_AUTO_TEST_CASE(fetch_of_a_batch_never_published_is_not_found) {
  BOOST_TEST(failed_with(fetch(batch), api_failure::not_found));
}

BOOST_AUTO_TEST_CASE(quick_successive_publishes_keep_their_order) {
  std::int64_t previous = 0;
  for (int i = 0; i < 20; ++i) {
    auto status = i % 2 ? batch_status::completed : batch_status::processing;
    auto stored = publish(batch, status);
    BOOST_TEST(stored.updated_at_ms > previous);
    BOOST_TEST(stored.status == status);
    previous = stored.updated_at_ms;
  }
  auto fetched = fetch(batch);
  BOOST_TEST(std::get<batch_record>(fetched).status == batch_status::completed);
}

BOOST_AUTO_TEST_CASE(publish_with_organization_adds_an_unknown_batch) {
  auto fresh = std::string{"0b6a8c52-4d1e-4f7a-9c3b-5e2d1a0f9e81"};
  auto result = try_publish(request_for(fresh, batch_status::completed, org));
  BOOST_REQUIRE_MESSAGE(std::holds_alternative<batch_record>(result),
                        describe(result));

  auto w = connect(admin_session, fresh);
  BOOST_TEST(w.socket->wait_for_message());
}

BOOST_AUTO_TEST_CASE(publish_with_an_unknown_organization_is_refused) {
  auto fresh = std::string{"0b6a8c52-4d1e-4f7a-9c3b-5e2d1a0f9e82"};
  auto stranger = std::string{"7d3f0a11-2b4c-4e5d-8f6a-9b0c1d2e3f40"};
  auto result =
      try_publish(request_for(fresh, batch_status::completed, stranger));
  BOOST_TEST(failed_with(result, api_failure::unknown_organization),
             describe(result));
  BOOST_TEST(failed_with(fetch(fresh), api_failure::not_found));
}

BOOST_AUTO_TEST_CASE(publish_under_another_organization_is_refused) {
  auto result =
      try_publish(request_for(batch, batch_status::completed, other_org));
  BOOST_TEST(failed_with(result, api_failure::organization_mismatch),
             describe(result));
  BOOST_TEST(failed_with(fetch(batch), api_failure::not_found));
}

BOOST_AUTO_TEST_CASE(malformed_batch_id_fails_alone_in_a_shared_commit) {
  // Published together, so the storage actor may see both in one window;
  // the bad one must not take the good one down with it.
  auto good = std::async(std::launch::async, [&] {
    return try_publish(request_for(batch, batch_status::completed));
  });
  auto bad = try_publish(request_for("not-a-uuid", batch_status::completed));
  BOOST_TEST(failed_with(bad, api_failure::storage_failed), describe(bad));
  auto good_result = good.get();
  BOOST_TEST(std::holds_alternative<batch_record>(good_result),
             describe(good_result));
}

BOOST_AUTO_TEST_CASE(publish_after_the_services_stopped_reports_shutting_down) {
  stop();
  auto result = try_publish(request_for(batch, batch_status::completed));
  BOOST_TEST(failed_with(result, api_failure::shutting_down), describe(result));
}

BOOST_AUTO_TEST_CASE(every_acknowledged_publish_is_on_disk_after_stop) {
  std::vector<std::string> batches;
  for (int i = 0; i < 50; ++i)
    batches.push_back(add_batch(org));
  std::vector<std::future<api_result>> answers;
  for (const auto& each : batches)
    answers.push_back(std::async(std::launch::async, [&, each] {
      return try_publish(request_for(each, batch_status::failed));
    }));
  std::vector<std::string> acknowledged;
  for (std::size_t i = 0; i < batches.size(); ++i)
    if (std::holds_alternative<batch_record>(answers[i].get()))
      acknowledged.push_back(batches[i]);
  stop();

  BOOST_TEST(acknowledged.size() == batches.size());
  batchcast::storage::state_store fresh{db_path};
  for (const auto& each : acknowledged) {
    auto record = fresh.load(each);
    BOOST_TEST(record.has_value());
  }
}

BOOST_AUTO_TEST_SUITE_END()
