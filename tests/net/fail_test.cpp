// Which I/O errors are a connection's ordinary end (logged at debug) and
// which are worth an operator's warning.
#include <boost/test/unit_test.hpp>

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>

#include "net/fail.hpp"

using batchcast::net::is_normal_ending;
namespace asio = boost::asio;
namespace http = boost::beast::http;

BOOST_AUTO_TEST_SUITE(io_errors)

BOOST_AUTO_TEST_CASE(client_hanging_up_mid_request_is_a_normal_ending) {
  BOOST_TEST(is_normal_ending(http::error::partial_message));
  BOOST_TEST(is_normal_ending(http::error::end_of_stream));
  BOOST_TEST(is_normal_ending(asio::error::connection_reset));
}

BOOST_AUTO_TEST_CASE(a_malformed_request_is_worth_a_warning) {
  BOOST_TEST(!is_normal_ending(http::error::bad_method));
  BOOST_TEST(!is_normal_ending(asio::error::no_descriptors));
}

BOOST_AUTO_TEST_SUITE_END()
