// The gates' refusal warnings: each kind throttled on its own, so that a
// line's held-back count counts lines of its kind (a flood of pushed-out
// connections once lent its count, 36,327, to a greeting-timeout line
// while only 8 such timeouts had happened).
#include "net/node_gate_session.hpp"

#include <boost/test/unit_test.hpp>

using batchcast::net::gate_shared;

BOOST_AUTO_TEST_SUITE(gate_refusal_log)

BOOST_AUTO_TEST_CASE(each_kind_of_refusal_is_throttled_on_its_own) {
  gate_shared shared;
  auto& pushed_out = shared.refusals_logged("pushed out");
  for (int line = 0; line < 5; ++line)
    BOOST_TEST(pushed_out.admit().has_value());
  BOOST_TEST(!pushed_out.admit());
  BOOST_TEST(&shared.refusals_logged("pushed out") == &pushed_out);
  // Another kind still has its own five lines.
  auto& stalled = shared.refusals_logged("no first message");
  BOOST_TEST(stalled.admit().value_or(1) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
