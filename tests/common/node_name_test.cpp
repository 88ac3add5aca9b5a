// Node names: what --node-name accepts and what a peer's hello may carry.
#include <boost/test/unit_test.hpp>

#include <string>

#include "common/node_name.hpp"

using batchcast::node_name_problem;

BOOST_AUTO_TEST_SUITE(node_name)

BOOST_AUTO_TEST_CASE(ordinary_names_are_accepted) {
  BOOST_TEST(!node_name_problem("a"));
  BOOST_TEST(!node_name_problem("web-1.example.org:4312"));
  BOOST_TEST(!node_name_problem("n\xc5\x93ud central"));
  BOOST_TEST(!node_name_problem(std::string(255, 'x')));
}

BOOST_AUTO_TEST_CASE(unshowable_names_are_refused) {
  BOOST_TEST(node_name_problem("").value() == "it is empty");
  BOOST_TEST(node_name_problem(std::string(256, 'x')).has_value());
  BOOST_TEST(node_name_problem("evil\n2026-12-05 error [app] FAKE")
                 .value()
                 .find("control characters") != std::string::npos);
  BOOST_TEST(node_name_problem("red\x1b[31m").has_value());
  BOOST_TEST(node_name_problem("tab\there").has_value());
  BOOST_TEST(node_name_problem("c1\xc2\x9b").has_value());
  BOOST_TEST(node_name_problem("broken\xff").has_value());
  BOOST_TEST(node_name_problem(" a").has_value());
  BOOST_TEST(node_name_problem("a ").has_value());
  BOOST_TEST(node_name_problem(" ").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
