#include "common/terminal_text.hpp"

#include <boost/test/unit_test.hpp>

using batchcast::one_line;
using batchcast::printable;

BOOST_AUTO_TEST_SUITE(terminal_text)

BOOST_AUTO_TEST_CASE(plain_text_and_utf8_are_left_alone) {
  BOOST_TEST(printable(R"({"status":"completed"})") ==
             R"({"status":"completed"})");
  BOOST_TEST(printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
             "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  BOOST_TEST(printable("two\nlines") == "two\nlines");
  BOOST_TEST(printable("") == "");
}

BOOST_AUTO_TEST_CASE(control_characters_are_written_as_hex) {
  BOOST_TEST(printable("\x1b[2J\x1b]0;title\x07") ==
             "\\x1b[2J\\x1b]0;title\\x07");
  BOOST_TEST(printable("over\rwrite\b") == "over\\x0dwrite\\x08");
  BOOST_TEST(printable(std::string_view{"a\0b", 3}) == "a\\x00b");
  BOOST_TEST(printable("\x7f") == "\\x7f");
  // U+009B, the one-character CSI, in UTF-8.
  BOOST_TEST(printable("\xc2\x9b"
                       "31m") == "\\xc2\\x9b31m");
  // U+00A0 is no control.
  BOOST_TEST(printable("\xc2\xa0") == "\xc2\xa0");
}

BOOST_AUTO_TEST_CASE(bytes_that_are_not_utf8_are_written_as_hex) {
  BOOST_TEST(printable("\x9b"
                       "31m") == "\\x9b31m");
  BOOST_TEST(printable("\xc3") == "\\xc3");
  BOOST_TEST(printable("\xc0\xaf") == "\\xc0\\xaf");           // overlong '/'
  BOOST_TEST(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // surrogate
  BOOST_TEST(printable("\xe2\x82") == "\\xe2\\x82");
}

BOOST_AUTO_TEST_CASE(one_line_escapes_the_line_feed_too) {
  BOOST_TEST(one_line("two\nlines\r") == "two\\x0alines\\x0d");
  BOOST_TEST(one_line("\x1b[31m caf\xc3\xa9 \xc2\x85") ==
             "\\x1b[31m caf\xc3\xa9 \\xc2\\x85");
  BOOST_TEST(one_line("plain") == "plain");
}

BOOST_AUTO_TEST_SUITE_END()
