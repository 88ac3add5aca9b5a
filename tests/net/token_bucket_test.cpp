#include "net/token_bucket.hpp"

#include <boost/test/unit_test.hpp>

using namespace batchcast::net;
using namespace std::chrono_literals;

namespace {

// Sized like a byte budget: 1,000 at once, 100 a second.
constexpr token_bucket::rate kilobyte_burst{1000, 100};

struct bucket_fixture {
  token_bucket bucket;
  token_bucket::clock::time_point now{std::chrono::hours{1}};
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(token_bucket_rules, bucket_fixture)

BOOST_AUTO_TEST_CASE(a_new_bucket_is_full) {
  BOOST_TEST(bucket.take(now, 1000, kilobyte_burst));
  BOOST_TEST(!bucket.take(now, 1, kilobyte_burst));
}

BOOST_AUTO_TEST_CASE(a_take_too_large_takes_nothing) {
  BOOST_TEST(!bucket.take(now, 1001, kilobyte_burst));
  BOOST_TEST(bucket.take(now, 1000, kilobyte_burst));
}

BOOST_AUTO_TEST_CASE(it_refills_at_the_rate_and_no_further_than_full) {
  BOOST_TEST(bucket.take(now, 1000, kilobyte_burst));
  now += 500ms;
  BOOST_TEST(!bucket.take(now, 51, kilobyte_burst));
  BOOST_TEST(bucket.take(now, 50, kilobyte_burst));
  now += 1h;
  BOOST_TEST(!bucket.take(now, 1001, kilobyte_burst));
  BOOST_TEST(bucket.take(now, 1000, kilobyte_burst));
}

BOOST_AUTO_TEST_CASE(many_small_takes_add_up) {
  // Six-byte frames, as an empty fragment from a client is.
  int taken = 0;
  while (taken < 1000 && bucket.take(now, 6, kilobyte_burst))
    ++taken;
  BOOST_TEST(taken == 1000 / 6);
}

BOOST_AUTO_TEST_SUITE_END()
