// Where settings come from: the command line beats BATCHCAST_* in the
// environment, which beats the config file, which beats the default.
#define BOOST_TEST_MODULE app_settings
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>

#include "app/settings.hpp"
#include "app/url.hpp"
#include "tests/support/temp_dir.hpp"

using namespace batchcast::app;

namespace {

// A `serve`-like command with two options, parsed from `args`.
struct parsed_command {
  CLI::App app{"test"};
  std::string listen = "default-listen";
  std::string db = "default-db";

  parsed_command(std::vector<std::string> args,
                 const std::map<std::string, std::string>& config) {
    app.add_option("--listen", listen);
    app.add_option("--db", db);
    std::vector<const char*> argv{"test"};
    for (auto& arg : args)
      argv.push_back(arg.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
    apply_environment_and_config(app, config);
  }
};

struct scoped_env {
  std::string name;
  scoped_env(std::string n, const char* value) : name(std::move(n)) {
    ::setenv(name.c_str(), value, 1);
  }
  ~scoped_env() { ::unsetenv(name.c_str()); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_stand_when_nothing_is_given) {
  parsed_command command{{}, {}};
  BOOST_CHECK_EQUAL(command.listen, "default-listen");
}

BOOST_AUTO_TEST_CASE(config_file_beats_default) {
  parsed_command command{{}, {{"listen", "from-config"}}};
  BOOST_CHECK_EQUAL(command.listen, "from-config");
}

BOOST_AUTO_TEST_CASE(environment_beats_config_file) {
  scoped_env env{"BATCHCAST_LISTEN", "from-env"};
  parsed_command command{{}, {{"listen", "from-config"}}};
  BOOST_CHECK_EQUAL(command.listen, "from-env");
}

BOOST_AUTO_TEST_CASE(command_line_beats_environment) {
  scoped_env env{"BATCHCAST_LISTEN", "from-env"};
  parsed_command command{{"--listen", "from-flag"}, {{"listen", "x"}}};
  BOOST_CHECK_EQUAL(command.listen, "from-flag");
}

BOOST_AUTO_TEST_CASE(unknown_config_key_is_an_error) {
  BOOST_CHECK_THROW((parsed_command{{}, {{"lisen", "typo"}}}),
                    std::runtime_error);
}

BOOST_AUTO_TEST_CASE(unknown_config_key_names_its_line) {
  std::map<std::string, std::string> where;
  auto config =
      parse_config_text("listen = x\n\nlisen = typo\n", "c.conf", &where);
  CLI::App app;
  std::string listen;
  app.add_option("--listen", listen);
  try {
    apply_environment_and_config(app, config, where);
    BOOST_FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    std::string text = e.what();
    BOOST_TEST(
        text.find("c.conf:3: unknown setting `lisen`") != std::string::npos,
        text);
  }
}

BOOST_AUTO_TEST_CASE(config_file_reads_names_values_and_comments) {
  batchcast::testing::temp_dir dir;
  std::ofstream{dir.file("c.conf")}
      << "# a comment\n\ninternal_listen = 127.0.0.1:9001\n"
      << "allowed-hosts = \"a.example,b.example\"\n"
      << "listen = 127.0.0.1:9000   # the public side\n"
      << "session-cookie-name = a#b\n";
  auto values = read_config_file(dir.file("c.conf"));
  BOOST_CHECK_EQUAL(values.at("internal-listen"), "127.0.0.1:9001");
  BOOST_CHECK_EQUAL(values.at("allowed-hosts"), "a.example,b.example");
  BOOST_CHECK_EQUAL(values.at("listen"), "127.0.0.1:9000");
  BOOST_CHECK_EQUAL(values.at("session-cookie-name"), "a#b");
}

// A value is read as it looks or refused: `db = "q1.db" # state file`
// once made a state file named `"q1.db" # state file`, and single quotes
// were kept in the value.
BOOST_AUTO_TEST_CASE(config_file_quotes_are_read_as_they_look_or_refused) {
  batchcast::testing::temp_dir dir;
  std::ofstream{dir.file("c.conf")} << "db = \"q1.db\" # state file\n"
                                    << "node-name = \" a # b \"\n"
                                    << "allowed-hosts = # to do\n";
  auto values = read_config_file(dir.file("c.conf"));
  BOOST_CHECK_EQUAL(values.at("db"), "q1.db");
  BOOST_CHECK_EQUAL(values.at("node-name"), " a # b ");
  // A comment where the value goes leaves it empty (and serve refuses
  // an empty list), not the text "# to do".
  BOOST_CHECK_EQUAL(values.at("allowed-hosts"), "");
  for (auto [line, words] :
       {std::pair{"db = 'q2.db'", "single quotes are not read"},
        {"node-name = \"abc", "not closed"},
        {"node-name = \"a\"b", "text after the closing double quote"}}) {
    std::ofstream{dir.file("bad.conf")} << "listen = 127.0.0.1:9000\n"
                                        << line << "\n";
    try {
      read_config_file(dir.file("bad.conf"));
      BOOST_ERROR("taken: " << line);
    } catch (const std::runtime_error& e) {
      BOOST_TEST(std::string{e.what()}.find(":2: ") != std::string::npos,
                 e.what());
      BOOST_TEST(std::string{e.what()}.find(words) != std::string::npos,
                 e.what());
    }
  }
}

BOOST_AUTO_TEST_CASE(config_file_saved_with_a_byte_order_mark_is_read) {
  batchcast::testing::temp_dir dir;
  std::ofstream{dir.file("c.conf")} << "\xEF\xBB\xBF"
                                    << "db = /var/lib/batchcast/state.db\r\n"
                                    << "listen = 127.0.0.1:9000\r\n";
  auto values = read_config_file(dir.file("c.conf"));
  BOOST_CHECK_EQUAL(values.at("db"), "/var/lib/batchcast/state.db");
  BOOST_CHECK_EQUAL(values.at("listen"), "127.0.0.1:9000");
  BOOST_CHECK_EQUAL(values.size(), 2u);
}

BOOST_AUTO_TEST_CASE(config_line_without_equals_names_the_line) {
  batchcast::testing::temp_dir dir;
  std::ofstream{dir.file("c.conf")} << "listen = x\nbroken line\n";
  try {
    read_config_file(dir.file("c.conf"));
    BOOST_FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    BOOST_CHECK(std::string{e.what()}.find(":2:") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_setting_given_twice_names_both_lines) {
  batchcast::testing::temp_dir dir;
  std::ofstream{dir.file("c.conf")}
      << "peers = 127.0.0.1:9101\n# another\nPeers = 127.0.0.1:9102\n";
  try {
    read_config_file(dir.file("c.conf"));
    BOOST_FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string{e.what()}.find(
                   ":3: `peers` is already set on line 1") != std::string::npos,
               e.what());
  }
}

// `[admin]` above a setting once applied it to serve all the same.
BOOST_AUTO_TEST_CASE(a_section_header_is_refused_naming_its_line) {
  try {
    parse_config_text("listen = :8000\n[admin]\nmax-connections = 5\n",
                      "c.conf");
    BOOST_FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(
        std::string{e.what()}.find(
            "c.conf:2: the config file has no [sections]") != std::string::npos,
        e.what());
  }
}

BOOST_AUTO_TEST_CASE(a_config_file_naming_another_is_refused) {
  try {
    parse_config_text("listen = :8000\nconfig = /etc/other.conf\n", "c.conf");
    BOOST_FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string{e.what()}.find(
                   "c.conf:2: config cannot name another config file") !=
                   std::string::npos,
               e.what());
  }
}

BOOST_AUTO_TEST_CASE(a_value_is_found_past_lines_the_parser_refuses) {
  std::string text = "broken line\nlog_format = json\nLog-Format = text\n";
  BOOST_CHECK_THROW(parse_config_text(text, "c.conf"), std::runtime_error);
  BOOST_CHECK_EQUAL(config_value_despite_errors(text, "log-format").value(),
                    "json");
  BOOST_CHECK(!config_value_despite_errors(text, "listen"));
}

BOOST_AUTO_TEST_CASE(an_endless_config_file_is_refused) {
  try {
    read_config_file("/dev/zero");
    BOOST_FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string{e.what()} ==
                   "cannot read config file /dev/zero: larger than 1048576 "
                   "bytes",
               e.what());
  }
}

BOOST_AUTO_TEST_CASE(host_port_accepts_ipv4_ipv6_and_names) {
  BOOST_CHECK_EQUAL(parse_host_port("127.0.0.1:8000", "x").port, 8000);
  BOOST_CHECK_EQUAL(parse_host_port("[::1]:0", "x").host, "::1");
  BOOST_CHECK_EQUAL(parse_host_port("[fe80::1%eth0]:80", "x").host,
                    "fe80::1%eth0");
  BOOST_CHECK_EQUAL(parse_host_port("localhost:65535", "x").port, 65535);
  BOOST_CHECK_EQUAL(parse_host_port("node-b.example.org:4101", "x").host,
                    "node-b.example.org");
}

// The C library reads 127.0.0.010 as 127.0.0.8: a listener bound there,
// and a log line naming the address as typed.
BOOST_AUTO_TEST_CASE(an_ipv4_address_read_otherwise_than_written_is_refused) {
  for (auto address : {"127.0.0.010:8000", "10.0.0.08:80", "0x7f.0.0.1:80",
                       "127.1:80", "2130706433:80"}) {
    try {
      parse_host_port(address, "--listen");
      BOOST_ERROR("taken: " << address);
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string{e.what()}.find("write the four decimal numbers") !=
                     std::string::npos,
                 e.what());
    }
  }
  BOOST_TEST(ambiguous_ipv4_problem("127.0.0.010").find("127.0.0.8") !=
             std::string::npos);
  for (auto fine :
       {"127.0.0.10", "0.0.0.0", "localhost", "3com.example", "node-1"})
    BOOST_TEST(ambiguous_ipv4_problem(fine).empty(), fine);
}

// [::ffff:127.0.0.1] is 127.0.0.1 to the kernel but not to the check
// that two listeners differ: it started, then failed as "Address already
// in use"; [::ffff:127.1] failed as "Host not found".
BOOST_AUTO_TEST_CASE(an_ipv4_mapped_address_is_refused_naming_the_ipv4_one) {
  for (auto [address, words] :
       {std::pair{"[::ffff:127.0.0.1]:80", "is the IPv4 address 127.0.0.1"},
        {"[::FFFF:7f00:2]:80", "is the IPv4 address 127.0.0.2"},
        {"[::ffff:127.1]:80", "is no IPv6 address"},
        {"[1::2::3]:80", "is no IPv6 address"}}) {
    try {
      parse_host_port(address, "--listen");
      BOOST_ERROR("taken: " << address);
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string{e.what()}.find(words) != std::string::npos,
                 e.what());
    }
  }
  BOOST_CHECK_EQUAL(parse_host_port("[::127.0.0.1]:80", "x").host,
                    "::127.0.0.1");
}

BOOST_AUTO_TEST_CASE(a_port_with_leading_zeros_is_decimal) {
  BOOST_CHECK_EQUAL(parse_host_port("127.0.0.1:08000", "x").port, 8000);
  BOOST_CHECK_EQUAL(parse_host_port("127.0.0.1:000", "x").port, 0);
  BOOST_CHECK_THROW(parse_host_port("127.0.0.1:065536", "x"),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(host_port_refuses_garbage) {
  for (auto bad :
       {"", "8000", "host:", ":80", "host:65536", "host:8o", "host:123456",
        "::1", "::1:80", "[::1]", "[::1]80", "[host]:80", "[]:80", "a b:1",
        "a\tb:1", "h\xc3\xa9:1", "[::1%]:80"})
    BOOST_CHECK_THROW(parse_host_port(bad, "--listen"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(an_ipv6_address_without_brackets_is_told_how) {
  try {
    parse_host_port("::1:8000", "--peer");
    BOOST_FAIL("accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string{e.what()}.find("goes in brackets, as in "
                                          "[::1]:8000") != std::string::npos,
               e.what());
  }
}

BOOST_AUTO_TEST_CASE(url_parsing_fills_defaults_and_strips_slashes) {
  auto url = parse_url("WS://127.0.0.1:8000/", "--url");
  BOOST_CHECK_EQUAL(url.scheme, "ws");
  BOOST_CHECK_EQUAL(url.port, 8000);
  BOOST_CHECK_EQUAL(url.path, "");
  BOOST_CHECK_EQUAL(parse_url("http://h/prefix/", "x").path, "/prefix");
  BOOST_CHECK_EQUAL(parse_url("https://h", "x").port, 443);
  BOOST_CHECK_EQUAL(parse_url("ws://[::1]:9/", "x").authority(), "[::1]:9");
}

BOOST_AUTO_TEST_CASE(url_parsing_refuses_bad_urls) {
  for (auto bad : {"127.0.0.1:8000", "ftp://h", "ws://", "ws://h:0",
                   "ws://h:99999", "ws://[::1"})
    BOOST_CHECK_THROW(parse_url(bad, "--url"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(secret_file_gives_the_first_line_and_refuses_empty) {
  batchcast::testing::temp_dir dir;
  std::ofstream{dir.file("key")} << "s3cret\r\n";
  BOOST_CHECK_EQUAL(read_secret_file(dir.file("key")), "s3cret");
  std::ofstream{dir.file("bare")} << "s3cret";
  BOOST_CHECK_EQUAL(read_secret_file(dir.file("bare")), "s3cret");
  std::ofstream{dir.file("trailing")} << "s3cret\n\n \r\n\t\n";
  BOOST_CHECK_EQUAL(read_secret_file(dir.file("trailing")), "s3cret");
  std::ofstream{dir.file("empty")} << "\n";
  BOOST_CHECK_THROW(read_secret_file(dir.file("empty")), std::runtime_error);
  std::ofstream{dir.file("blank")} << "  \t \n";
  BOOST_CHECK_THROW(read_secret_file(dir.file("blank")), std::runtime_error);
  BOOST_CHECK_THROW(read_secret_file(dir.file("missing")), std::runtime_error);
  // A long first line is still read; the file as a whole is bounded.
  std::ofstream{dir.file("long")} << std::string(4000, 'k') << "\n";
  BOOST_CHECK_EQUAL(read_secret_file(dir.file("long")).size(), 4000u);
  BOOST_CHECK_THROW(read_secret_file("/dev/zero"), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(secret_file_of_several_lines_is_refused_unechoed) {
  batchcast::testing::temp_dir dir;
  for (auto text : {"line1-s3cret\nline2-s3cret\n", "line1-s3cret\r\nline2",
                    "\nline2-s3cret\n", "line1-s3cret\n\nline3-s3cret"}) {
    std::ofstream{dir.file("key")} << text;
    try {
      read_secret_file(dir.file("key"));
      BOOST_ERROR("a secret file of several lines was read: " << text);
    } catch (const std::runtime_error& e) {
      std::string what = e.what();
      BOOST_TEST(what.find(dir.file("key") + " holds more than one line") !=
                     std::string::npos,
                 what);
      BOOST_TEST(what.find("s3cret") == std::string::npos, what);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_folder_given_as_secret_file_is_named_as_one) {
  batchcast::testing::temp_dir dir;
  try {
    read_secret_file(dir.path());
    BOOST_FAIL("a folder was read as a secret");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string{e.what()}.find("is a folder") != std::string::npos,
               e.what());
  }
}

BOOST_AUTO_TEST_CASE(secret_file_on_command_line_beats_secret_in_env) {
  batchcast::testing::temp_dir dir;
  std::ofstream{dir.file("key")} << "from-file\n";
  scoped_env env{"BATCHCAST_TEST_SECRET", "from-env"};
  BOOST_CHECK_EQUAL(
      resolve_secret(true, dir.file("key"), "BATCHCAST_TEST_SECRET", "secret"),
      "from-file");
  // A file named only by the environment or config loses to the secret.
  BOOST_CHECK_EQUAL(
      resolve_secret(false, dir.file("key"), "BATCHCAST_TEST_SECRET", "secret"),
      "from-env");
}

BOOST_AUTO_TEST_CASE(blank_secret_in_the_environment_is_refused) {
  scoped_env blank{"BATCHCAST_TEST_BLANK_SECRET", "   "};
  BOOST_CHECK_THROW(
      resolve_secret(false, "", "BATCHCAST_TEST_BLANK_SECRET", "secret"),
      std::runtime_error);
}

BOOST_AUTO_TEST_CASE(missing_secret_names_both_ways_to_give_it) {
  try {
    resolve_secret(false, "", "BATCHCAST_TEST_UNSET_SECRET", "secret-key");
    BOOST_FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    BOOST_CHECK(what.find("--secret-key-file") != std::string::npos);
    BOOST_CHECK(what.find("BATCHCAST_TEST_UNSET_SECRET") != std::string::npos);
  }
}
