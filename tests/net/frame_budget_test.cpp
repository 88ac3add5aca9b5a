#include "net/frame_budget.hpp"

#include <boost/test/unit_test.hpp>

using namespace batchcast::net;
using namespace std::chrono_literals;

namespace {

struct budget_fixture {
  frame_budget budget;
  frame_budget::clock::time_point now{std::chrono::hours{1}};

  // How many of `frames` sent `gap` apart the budget lets through.
  int allowed(int frames, frame_budget::clock::duration gap) {
    int passed = 0;
    for (int i = 0; i < frames; ++i) {
      if (budget.charge(now))
        ++passed;
      now += gap;
    }
    return passed;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(frame_budget_rules, budget_fixture)

BOOST_AUTO_TEST_CASE(a_burst_of_twenty_passes_the_twenty_first_does_not) {
  BOOST_TEST(allowed(frame_budget::burst, 0ms) == frame_budget::burst);
  BOOST_TEST(!budget.charge(now));
}

BOOST_AUTO_TEST_CASE(thousands_a_second_are_stopped_early) {
  // One second of pings at 5,000 a second: the burst and one second of
  // refill get through, nothing more.
  BOOST_TEST(allowed(5000, 200us) <=
             frame_budget::burst + frame_budget::per_second);
}

BOOST_AUTO_TEST_CASE(the_budget_refills_at_ten_a_second) {
  allowed(frame_budget::burst, 0ms);
  now += 1s;
  BOOST_TEST(allowed(frame_budget::per_second, 0ms) ==
             frame_budget::per_second);
  BOOST_TEST(!budget.charge(now));
}

BOOST_AUTO_TEST_CASE(a_steady_five_a_second_is_never_stopped) {
  BOOST_TEST(allowed(600, 200ms) == 600);  // two minutes of it
}

BOOST_AUTO_TEST_CASE(a_slow_client_gets_no_more_than_the_burst_back) {
  now += 1h;
  BOOST_TEST(allowed(frame_budget::burst + 1, 0ms) == frame_budget::burst);
}

BOOST_AUTO_TEST_SUITE_END()
