#include "net/bearer_token.hpp"

#include <string>

#include <boost/test/unit_test.hpp>

using namespace batchcast::net;

namespace {

std::string token_of(std::string_view header) {
  return std::string{parse_bearer_token(header).value_or("<none>")};
}

}  // namespace

BOOST_AUTO_TEST_CASE(bearer_scheme_is_case_insensitive) {
  BOOST_TEST(token_of("Bearer abc.DEF-_~+/=") == "abc.DEF-_~+/=");
  BOOST_TEST(token_of("bearer t") == "t");
  BOOST_TEST(token_of("BEARER t") == "t");
  BOOST_TEST(token_of("Bearer    t") == "t");
}

BOOST_AUTO_TEST_CASE(other_schemes_and_shapes_have_no_token) {
  BOOST_TEST(token_of("") == "<none>");
  BOOST_TEST(token_of("Bearer") == "<none>");
  BOOST_TEST(token_of("Bearer ") == "<none>");
  BOOST_TEST(token_of("Basic dXNlcjpwYXNz") == "<none>");
  BOOST_TEST(token_of("Bearerx t") == "<none>");
  BOOST_TEST(token_of("Bearer a b") == "<none>");
  BOOST_TEST(token_of("Bearer a\tb") == "<none>");
  BOOST_TEST(token_of("Bearer caf\xc3\xa9") == "<none>");
  BOOST_TEST(token_of(" Bearer t") == "<none>");
}

BOOST_AUTO_TEST_CASE(only_the_configured_token_matches) {
  bearer_token_check check{"s3cret"};
  BOOST_TEST(check.matches("s3cret"));
  BOOST_TEST(!check.matches("s3cre"));
  BOOST_TEST(!check.matches("s3cret!"));
  BOOST_TEST(!check.matches("S3CRET"));
  BOOST_TEST(!check.matches(""));
}

BOOST_AUTO_TEST_CASE(an_empty_configured_token_matches_nothing) {
  bearer_token_check check{""};
  BOOST_TEST(!check.matches(""));
  BOOST_TEST(!check.matches("anything"));
}

BOOST_AUTO_TEST_CASE(a_token_no_header_can_carry_is_told_apart) {
  BOOST_TEST(!unsendable_token_reason("abc.DEF-_~+/=").has_value());
  BOOST_TEST(unsendable_token_reason("").value() == "it is empty");
  for (const char* edge : {"t0ken\n", " t0ken", "t0ken\r", "\tt0ken"})
    BOOST_TEST(unsendable_token_reason(edge).value() ==
               "it begins or ends with whitespace (a line ending, perhaps)");
  BOOST_TEST(unsendable_token_reason("t0 ken").value() ==
             "it holds a space at character 3");
  BOOST_TEST(unsendable_token_reason("t0\nken").value() ==
             "it holds a control character at character 3");
  BOOST_TEST(unsendable_token_reason("t0\x1b[2Jken").value() ==
             "it holds a control character at character 3");
  BOOST_TEST(unsendable_token_reason("caf\xc3\xa9").value() ==
             "it holds a byte outside visible ASCII at character 4");
}

BOOST_AUTO_TEST_CASE(every_sendable_token_comes_through_the_header) {
  for (std::string token : {"s3cret", "a.b-c_d~e+f/g=", "!#$%&'*"}) {
    BOOST_TEST(!unsendable_token_reason(token).has_value());
    BOOST_TEST(token_of("Bearer " + token) == token);
  }
}
