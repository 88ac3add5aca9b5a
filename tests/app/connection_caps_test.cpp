#include "app/connection_caps.hpp"

#include <cstdint>
#include <limits>

#include <sys/resource.h>
#include <boost/test/unit_test.hpp>

using namespace batchcast::app;

BOOST_AUTO_TEST_SUITE(connection_caps)

BOOST_AUTO_TEST_CASE(file_limit_minus_the_reserve_is_the_room_left) {
  BOOST_TEST(connections_within(65536) == 65536 - reserved_descriptors);
  BOOST_TEST(connections_within(1024) == 1024 - reserved_descriptors);
  // A tiny limit still leaves half of it rather than nothing.
  BOOST_TEST(connections_within(300) == 150u);
  BOOST_TEST(connections_within(std::numeric_limits<std::uint64_t>::max()) >
             1'000'000'000u);
}

BOOST_AUTO_TEST_CASE(cap_above_the_open_file_limit_is_lowered) {
  rlimit saved{};
  BOOST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  rlimit lowered = saved;
  lowered.rlim_cur = 600;  // the soft limit only; restored below
  BOOST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);

  auto fitted = fit_to_file_limit(50000, true);
  auto kept = fit_to_file_limit(100, true);
  auto uncapped = fit_to_file_limit(0, true);
  ::setrlimit(RLIMIT_NOFILE, &saved);

  BOOST_TEST(fitted == 600 - reserved_descriptors);
  BOOST_TEST(kept == 100u);
  // "No cap" would let public sockets take every descriptor.
  BOOST_TEST(uncapped == 600 - reserved_descriptors);
}

BOOST_AUTO_TEST_SUITE_END()
