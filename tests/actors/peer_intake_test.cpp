#include "actors/peer_intake.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using batchcast::actors::intake_limits;
using batchcast::actors::peer_intake;

namespace {

intake_limits small_limits() {
  intake_limits limits;
  limits.records_per_node = 10;
  limits.records_total = 25;
  limits.reads_per_node = 1;
  limits.reads_total = 2;
  return limits;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(peer_intake_bounds)

BOOST_AUTO_TEST_CASE(takes_a_peers_credit_of_pages_by_default) {
  // What a batchcast peer keeps unanswered: 4 pages of 256 records.
  peer_intake intake;
  for (int page = 0; page < 4; ++page)
    BOOST_TEST(intake.admit_records("peer", 256));
  BOOST_TEST(!intake.admit_records("peer", 1));
  BOOST_TEST(intake.admit_read("peer"));
  BOOST_TEST(intake.refused() == 1u);
}

BOOST_AUTO_TEST_CASE(refuses_a_node_over_its_own_bound) {
  peer_intake intake{small_limits()};
  BOOST_TEST(intake.admit_records("flooder", 6));
  BOOST_TEST(!intake.admit_records("flooder", 5));
  BOOST_TEST(intake.admit_records("flooder", 4));
  BOOST_TEST(!intake.admit_records("flooder", 1));
  // Another node still gets its share.
  BOOST_TEST(intake.admit_records("honest", 10));
  BOOST_TEST(intake.records_in_flight() == 20u);
  BOOST_TEST(intake.refused() == 2u);
}

BOOST_AUTO_TEST_CASE(refuses_every_node_over_the_total) {
  peer_intake intake{small_limits()};
  BOOST_TEST(intake.admit_records("a", 10));
  BOOST_TEST(intake.admit_records("b", 10));
  BOOST_TEST(!intake.admit_records("c", 6));
  BOOST_TEST(intake.admit_records("c", 5));
  BOOST_TEST(!intake.admit_records("d", 1));
}

BOOST_AUTO_TEST_CASE(a_page_larger_than_a_nodes_bound_is_never_taken) {
  peer_intake intake{small_limits()};
  BOOST_TEST(!intake.admit_records("a", 11));
  BOOST_TEST(intake.records_in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(an_empty_page_is_always_taken) {
  peer_intake intake{small_limits()};
  BOOST_TEST(intake.admit_records("a", 10));
  BOOST_TEST(intake.admit_records("a", 0));
}

BOOST_AUTO_TEST_CASE(finished_work_frees_room) {
  peer_intake intake{small_limits()};
  BOOST_TEST(intake.admit_records("a", 10));
  BOOST_TEST(!intake.admit_records("a", 3));
  intake.records_done("a", 4);
  BOOST_TEST(intake.admit_records("a", 3));
  BOOST_TEST(intake.records_in_flight() == 9u);
  intake.records_done("a", 9);
  BOOST_TEST(intake.records_in_flight() == 0u);
  // Done more than taken, or for a node never seen: nothing goes below 0.
  intake.records_done("a", 5);
  intake.records_done("stranger", 5);
  BOOST_TEST(intake.records_in_flight() == 0u);
  BOOST_TEST(intake.admit_records("a", 10));
}

BOOST_AUTO_TEST_CASE(reads_are_bounded_per_node_and_in_total) {
  peer_intake intake{small_limits()};
  BOOST_TEST(intake.admit_read("a"));
  BOOST_TEST(!intake.admit_read("a"));
  BOOST_TEST(intake.admit_read("b"));
  BOOST_TEST(!intake.admit_read("c"));
  BOOST_TEST(intake.reads_in_flight() == 2u);
  intake.read_done("a");
  BOOST_TEST(intake.admit_read("c"));
  intake.read_done("c");
  intake.read_done("c");  // once too often: ignored
  BOOST_TEST(intake.reads_in_flight() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
