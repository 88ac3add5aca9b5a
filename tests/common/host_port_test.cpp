// Addresses in logs, GET /cluster and metric labels: an IPv6 host in
// brackets, so the port can be told from the address.
#include <boost/test/unit_test.hpp>

#include "common/host_port.hpp"

using batchcast::host_and_port;

BOOST_AUTO_TEST_SUITE(host_port)

BOOST_AUTO_TEST_CASE(names_and_ipv4_addresses_stand_as_they_are) {
  BOOST_TEST(host_and_port("127.0.0.1", 8000) == "127.0.0.1:8000");
  BOOST_TEST(host_and_port("node-b.example.org", 4101) ==
             "node-b.example.org:4101");
}

BOOST_AUTO_TEST_CASE(ipv6_addresses_go_in_brackets_once) {
  BOOST_TEST(host_and_port("::1", 24101) == "[::1]:24101");
  BOOST_TEST(host_and_port("fe80::1%eth0", 80) == "[fe80::1%eth0]:80");
  BOOST_TEST(host_and_port("[::1]", 9) == "[::1]:9");
}

BOOST_AUTO_TEST_SUITE_END()
