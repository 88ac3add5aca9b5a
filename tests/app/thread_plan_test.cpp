// Automatic thread counts: what an operator gets without --io-threads or
// --actor-threads, and that explicit counts are kept.
#define BOOST_TEST_MODULE app_thread_plan
#include <boost/test/unit_test.hpp>

#include "app/thread_plan.hpp"

using batchcast::app::plan_threads;

BOOST_AUTO_TEST_CASE(two_cores_get_one_thread_per_pool) {
  auto plan = plan_threads(0, 0, 2);
  BOOST_TEST(plan.io_threads == 1);
  BOOST_TEST(plan.actor_threads == 1);
}

BOOST_AUTO_TEST_CASE(larger_machines_split_the_cores) {
  auto plan = plan_threads(0, 0, 16);
  BOOST_TEST(plan.io_threads == 8);
  BOOST_TEST(plan.actor_threads == 8);
  auto odd = plan_threads(0, 0, 5);
  BOOST_TEST(odd.io_threads == 2);
  BOOST_TEST(odd.actor_threads == 2);
}

BOOST_AUTO_TEST_CASE(one_core_still_runs_both_pools) {
  auto plan = plan_threads(0, 0, 1);
  BOOST_TEST(plan.io_threads == 1);
  BOOST_TEST(plan.actor_threads == 1);
}

BOOST_AUTO_TEST_CASE(explicit_counts_are_kept) {
  auto plan = plan_threads(3, 5, 2);
  BOOST_TEST(plan.io_threads == 3);
  BOOST_TEST(plan.actor_threads == 5);
  auto io_only = plan_threads(4, 0, 8);
  BOOST_TEST(io_only.io_threads == 4);
  BOOST_TEST(io_only.actor_threads == 4);
}
