#include "common/small_file.hpp"

#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <sys/stat.h>
#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.hpp"

using batchcast::read_small_file;
using batchcast::testing::temp_dir;

namespace {

// The message of the std::runtime_error `read` throws, after the
// "cannot read test file PATH: " every message starts with; fails the test
// when it throws nothing or names another file.
template <typename Read>
std::string reason_of(const std::string& path, Read read) {
  try {
    read();
  } catch (const std::runtime_error& e) {
    std::string message = e.what();
    auto prefix = "cannot read test file " + path + ": ";
    BOOST_REQUIRE_EQUAL(message.substr(0, prefix.size()), prefix);
    return message.substr(prefix.size());
  }
  BOOST_FAIL("expected an error");
  return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(small_file_suite)

BOOST_AUTO_TEST_CASE(a_file_up_to_the_limit_is_read_whole) {
  temp_dir dir;
  std::string text(100, 'k');
  text += std::string{"\nsecond line\0after a zero byte\n", 31};
  std::ofstream{dir.file("f"), std::ios::binary} << text;
  BOOST_CHECK_EQUAL(read_small_file(dir.file("f"), text.size(), "test file"),
                    text);
  std::ofstream{dir.file("empty")};
  BOOST_CHECK_EQUAL(read_small_file(dir.file("empty"), 10, "test file"), "");
}

BOOST_AUTO_TEST_CASE(one_byte_over_the_limit_is_refused) {
  temp_dir dir;
  std::ofstream{dir.file("f")} << std::string(8193, 'x');
  BOOST_CHECK_EQUAL(
      reason_of(dir.file("f"),
                [&] { read_small_file(dir.file("f"), 8192, "test file"); }),
      "larger than 8192 bytes");
}

BOOST_AUTO_TEST_CASE(an_endless_file_is_refused_at_the_limit) {
  // /dev/zero never ends: without the limit this would read until memory
  // runs out.
  BOOST_CHECK_EQUAL(
      reason_of("/dev/zero",
                [] { read_small_file("/dev/zero", 65536, "test file"); }),
      "larger than 65536 bytes");
}

BOOST_AUTO_TEST_CASE(missing_files_and_folders_are_named_as_such) {
  temp_dir dir;
  BOOST_CHECK_EQUAL(
      reason_of(dir.file("missing"),
                [&] { read_small_file(dir.file("missing"), 10, "test file"); }),
      "No such file or directory");
  BOOST_CHECK_EQUAL(
      reason_of(dir.path(),
                [&] { read_small_file(dir.path(), 10, "test file"); }),
      "it is a folder; name the file inside it");
}

BOOST_AUTO_TEST_CASE(a_fifo_is_read_once_its_writer_is_done) {
  temp_dir dir;
  auto fifo = dir.file("fifo");
  BOOST_REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
  // Written in pieces, as a generator behind `<(...)` would.
  std::thread writer{[&] {
    std::ofstream out{fifo};
    for (int i = 0; i < 3; ++i)
      out << "part" << i << "\n" << std::flush;
  }};
  auto text = read_small_file(fifo, 1024, "test file");
  writer.join();
  BOOST_CHECK_EQUAL(text, "part0\npart1\npart2\n");
}

BOOST_AUTO_TEST_SUITE_END()
