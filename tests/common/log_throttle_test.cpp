#include "common/log_throttle.hpp"

#include <boost/test/unit_test.hpp>

using batchcast::log_throttle;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(log_throttle_suite)

BOOST_AUTO_TEST_CASE(
    a_burst_is_written_then_the_rest_counted_until_the_window_ends) {
  log_throttle throttle{3, 10s};
  auto start = log_throttle::clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) {
    auto admitted = throttle.admit(start + std::chrono::seconds{i});
    BOOST_REQUIRE(admitted.has_value());
    BOOST_CHECK_EQUAL(*admitted, 0u);
  }
  for (int i = 0; i < 1000; ++i)
    BOOST_CHECK(!throttle.admit(start + 5s).has_value());
  // The first line of the next window says how many were held back.
  auto next = throttle.admit(start + 10s);
  BOOST_REQUIRE(next.has_value());
  BOOST_CHECK_EQUAL(*next, 1000u);
  BOOST_CHECK_EQUAL(log_throttle::held_back_note(*next),
                    " (1000 more like it held back)");
  auto after = throttle.admit(start + 11s);
  BOOST_REQUIRE(after.has_value());
  BOOST_CHECK_EQUAL(*after, 0u);
  BOOST_CHECK_EQUAL(log_throttle::held_back_note(0), "");
}

BOOST_AUTO_TEST_CASE(a_quiet_client_is_never_held_back) {
  log_throttle throttle{2, 10s};
  auto start = log_throttle::clock::time_point{} + 1h;
  for (int i = 0; i < 50; ++i)
    BOOST_CHECK(throttle.admit(start + std::chrono::seconds{6 * i}));
}

BOOST_AUTO_TEST_SUITE_END()
