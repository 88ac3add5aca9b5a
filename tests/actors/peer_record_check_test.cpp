#include "actors/peer_record_check.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>

using batchcast::actors::peer_record_problem;
using batchcast::storage::batch_record;
using batchcast::storage::batch_status;

namespace {

// 2026-12-05 00:00:00 UTC.
constexpr std::int64_t now_ms = 1796428800000;
constexpr std::int64_t day_ms = 24 * 3600 * 1000;

batch_record record_at(std::int64_t stamp,
                       batch_status status = batch_status::completed) {
  return {"6d1f5a3e-3b1c-4c5e-9a7e-2f0c1d2e3f40", status, stamp, "peer"};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(peer_record_check)

BOOST_AUTO_TEST_CASE(takes_what_a_batchcast_node_sends) {
  for (auto status : {batch_status::pending, batch_status::processing,
                      batch_status::completed, batch_status::failed})
    BOOST_TEST(!peer_record_problem(record_at(now_ms, status), now_ms));
  // Old stamps, and a peer whose clock or burst runs ahead within a day.
  BOOST_TEST(!peer_record_problem(record_at(1), now_ms));
  BOOST_TEST(!peer_record_problem(record_at(now_ms + day_ms), now_ms));
}

BOOST_AUTO_TEST_CASE(drops_a_record_without_a_stamp) {
  BOOST_TEST(peer_record_problem(record_at(0), now_ms).has_value());
  BOOST_TEST(peer_record_problem(record_at(-5), now_ms).has_value());
}

// One record stamped near the end of time would win against every later
// publish of its batch, for good.
BOOST_AUTO_TEST_CASE(drops_a_stamp_more_than_a_day_ahead) {
  BOOST_TEST(
      peer_record_problem(record_at(now_ms + day_ms + 1), now_ms).has_value());
  BOOST_TEST(peer_record_problem(
                 record_at(std::numeric_limits<std::int64_t>::max()), now_ms)
                 .has_value());
}

BOOST_AUTO_TEST_CASE(drops_a_status_outside_the_four) {
  for (int raw : {4, 99, -1})
    BOOST_TEST(peer_record_problem(
                   record_at(now_ms, static_cast<batch_status>(raw)), now_ms)
                   .has_value());
}

// Each is stored and sent on to every other peer: megabytes of origin
// made a node send its peers messages over their gates' cap.
BOOST_AUTO_TEST_CASE(drops_an_origin_no_node_could_be_named) {
  for (const auto& origin :
       {std::string{}, std::string(256, 'a'), std::string{"a\nb"},
        std::string{"\x1b[31mred"}, std::string{" padded"}}) {
    auto record = record_at(now_ms);
    record.origin = origin;
    BOOST_TEST(peer_record_problem(record, now_ms).has_value());
  }
  auto longest = record_at(now_ms);
  longest.origin = std::string(255, 'a');
  BOOST_TEST(!peer_record_problem(longest, now_ms));
}

BOOST_AUTO_TEST_CASE(drops_a_batch_id_that_is_no_canonical_uuid) {
  for (const auto& id :
       {std::string{}, std::string{"6D1F5A3E-3B1C-4C5E-9A7E-2F0C1D2E3F40"},
        std::string{"not-a-uuid"}, std::string(3000000, 'a')}) {
    auto record = record_at(now_ms);
    record.batch_id = id;
    BOOST_TEST(peer_record_problem(record, now_ms).has_value());
  }
}

BOOST_AUTO_TEST_SUITE_END()
