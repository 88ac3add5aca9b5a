#include "net/cookies.hpp"

#include <string>

#include <boost/test/unit_test.hpp>

using namespace batchcast::net;

namespace {

// The sessionid cookie of one Cookie header; "<none>" when absent.
std::string session_of(std::string_view header) {
  return find_cookie({header}, "sessionid").value_or("<none>");
}

}  // namespace

// Each expected value below was produced once with Debian's Django 3.2:
//   /usr/bin/python3 -c 'from django.http.cookie import parse_cookie;
//                        print(repr(parse_cookie(H).get("sessionid")))'
// for the header H on the left.
BOOST_AUTO_TEST_SUITE(cookie_parsing_matches_django)

BOOST_AUTO_TEST_CASE(plain_pairs) {
  BOOST_TEST(session_of("sessionid=abc123") == "abc123");
  BOOST_TEST(session_of("a=1; sessionid=abc; b=2") == "abc");
  BOOST_TEST(session_of("sessionid=a=b=c") == "a=b=c");
  BOOST_TEST(session_of("sessionid=") == "");
  BOOST_TEST(session_of("sessionid=a b") == "a b");
  // A comma does not separate cookies.
  BOOST_TEST(session_of("sessionid=k, other=v") == "k, other=v");
}

BOOST_AUTO_TEST_CASE(the_last_pair_with_the_name_wins) {
  BOOST_TEST(session_of("sessionid=first; sessionid=second") == "second");
}

BOOST_AUTO_TEST_CASE(names_match_exactly) {
  BOOST_TEST(session_of("SessionID=upper; sessionid=lower") == "lower");
  BOOST_TEST(session_of("xsessionid=no; sessionidx=no") == "<none>");
  BOOST_TEST(session_of("\"sessionid\"=quotedname") == "<none>");
  // Without '=', a chunk is a value with an empty name.
  BOOST_TEST(session_of("sessionid") == "<none>");
  BOOST_TEST(session_of("foo; sessionid=k") == "k");
  BOOST_TEST(session_of("=value; sessionid=k") == "k");
}

BOOST_AUTO_TEST_CASE(whitespace_and_empty_chunks) {
  BOOST_TEST(session_of("  sessionid  =  spaced  ") == "spaced");
  BOOST_TEST(session_of("sessionid=k;") == "k");
  BOOST_TEST(session_of(";;sessionid=k;;") == "k");
  // Python's str.strip also removes NBSP, NEL and the separators 0x1c-0x1f.
  BOOST_TEST(session_of("sessionid=\xa0k\x85") == "k");
  BOOST_TEST(session_of("sessionid=k\x1c") == "k");
}

BOOST_AUTO_TEST_CASE(quoted_values) {
  BOOST_TEST(session_of("sessionid=\"quoted value\"") == "quoted value");
  BOOST_TEST(session_of(R"(sessionid="a\"b\\c")") == R"(a"b\c)");
  BOOST_TEST(session_of(R"(sessionid="\101\102C")") == "ABC");
  BOOST_TEST(session_of(R"(sessionid="\400x")") == "400x");
  BOOST_TEST(session_of(R"(sessionid="x\3")") == "x3");
  BOOST_TEST(session_of(R"(sessionid="a\")") == R"(a\)");
  BOOST_TEST(session_of(R"(sessionid="\\")") == R"(\)");
  BOOST_TEST(session_of("sessionid=\"unterminated") == "\"unterminated");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(several_cookie_headers_read_as_one) {
  BOOST_TEST(find_cookie({"a=1", "sessionid=k"}, "sessionid").value_or("") ==
             "k");
  BOOST_TEST(find_cookie({"sessionid=old", "sessionid=new; b=2"}, "sessionid")
                 .value_or("") == "new");
  BOOST_TEST(find_cookie({"sessionid=k", "b=2"}, "sessionid").value_or("") ==
             "k");
  BOOST_TEST(!find_cookie({}, "sessionid"));
}

BOOST_AUTO_TEST_CASE(the_configured_name_is_used) {
  BOOST_TEST(find_cookie({"sessionid=a; admin_session=b"}, "admin_session")
                 .value_or("") == "b");
}
