// --log-format json: every line a log collector reads is one JSON object,
// whatever the message held. --log-format text: every record is one line
// with no terminal escapes, whatever the message quoted.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "tests/support/temp_dir.hpp"

using nlohmann::json;

namespace {

// Runs `write_logs` with stderr sent to a file and returns what it wrote.
template <class Write>
std::string capture_stderr(Write write_logs) {
  batchcast::testing::temp_dir dir;
  auto path = dir.file("stderr.log");
  std::fflush(stderr);
  int saved = ::dup(2);
  FILE* file = std::fopen(path.c_str(), "w");
  ::dup2(::fileno(file), 2);
  write_logs();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(file);
  std::ifstream in{path};
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

std::vector<json> parse_lines(const std::string& text) {
  std::vector<json> lines;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    lines.push_back(json::parse(line));  // throws on a line that is not JSON
  return lines;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_log)

BOOST_AUTO_TEST_CASE(hostile_messages_stay_one_parseable_line) {
  const std::string hostile =
      "relation \"radbatch\" does not exist\\ at line\n2\r\t\x01 caf\xc3\xa9";
  auto line = batchcast::json_log_line(std::chrono::system_clock::now(),
                                       "error", "auth", hostile);
  BOOST_CHECK_EQUAL(line.back(), '\n');
  BOOST_CHECK_EQUAL(line.find('\n'), line.size() - 1);
  auto parsed = json::parse(line);
  BOOST_CHECK_EQUAL(parsed["message"], hostile);
  BOOST_CHECK_EQUAL(parsed["level"], "error");
  BOOST_CHECK_EQUAL(parsed["subsystem"], "auth");
  BOOST_CHECK(parsed["time"].get<std::string>().back() == 'Z');
}

BOOST_AUTO_TEST_CASE(bytes_that_are_not_utf8_become_replacement_characters) {
  const std::string broken =
      "a\xff"
      "b\xc3(c\xed\xa0\x80";
  auto parsed = json::parse(batchcast::json_log_line(
      std::chrono::system_clock::now(), "warning", "net", broken));
  BOOST_CHECK_EQUAL(parsed["message"],
                    "a\xef\xbf\xbd"
                    "b\xef\xbf\xbd(c\xef\xbf\xbd\xef\xbf\xbd"
                    "\xef\xbf\xbd");
}

BOOST_AUTO_TEST_CASE(loggers_write_json_after_configure_logging) {
  auto text = capture_stderr([] {
    batchcast::configure_logging("info", batchcast::log_format::json);
    batchcast::logger("test")->warn("cannot open \"{}\": {}", "/tmp/a b",
                                    "unable to open database file");
    batchcast::logger("test")->info("second line");
    batchcast::logger("test")->debug("below the level, not written");
    batchcast::configure_logging("info", batchcast::log_format::text);
  });
  auto lines = parse_lines(text);
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_CHECK_EQUAL(lines[0]["message"],
                    "cannot open \"/tmp/a b\": unable to open database file");
  BOOST_CHECK_EQUAL(lines[0]["level"], "warning");
  BOOST_CHECK_EQUAL(lines[0]["subsystem"], "test");
  BOOST_CHECK_EQUAL(lines[1]["message"], "second line");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(text_log)

BOOST_AUTO_TEST_CASE(a_quoted_line_feed_or_escape_cannot_forge_a_line) {
  auto text = capture_stderr([] {
    batchcast::configure_logging("info", batchcast::log_format::text);
    batchcast::logger("test")->warn(
        "hello from node={}",
        "evil\n2026-12-05 12:00:00.000 error [app] FAKE \x1b[31mred\r\x7f"
        "\xc2\x9b\xff caf\xc3\xa9");
  });
  BOOST_CHECK_EQUAL(text.find('\n'), text.size() - 1);
  BOOST_CHECK(
      text.find("[test] hello from node=evil\\x0a2026-12-05 12:00:00.000 "
                "error [app] FAKE \\x1b[31mred\\x0d\\x7f\\xc2\\x9b"
                "\\xff caf\xc3\xa9\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(plain_messages_are_written_as_they_are) {
  auto text = capture_stderr([] {
    batchcast::configure_logging("info", batchcast::log_format::text);
    batchcast::logger("test")->info("peer up peer={} ({})", "b", "caf\xc3\xa9");
  });
  BOOST_CHECK(text.find(" info  [test] peer up peer=b (caf\xc3\xa9)\n") !=
              std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
