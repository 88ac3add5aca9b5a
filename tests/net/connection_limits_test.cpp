#include "net/connection_limits.hpp"
#include "net/listener.hpp"

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

using namespace batchcast::net;
using namespace std::chrono_literals;

namespace {

// A limiter with its own clock and a record of what it logs.
struct limits_fixture {
  connection_limits::clock::time_point now{std::chrono::hours{1}};
  std::vector<std::string> lines;
  connection_limits limits{
      {5, 3},
      [this](const std::string& line) { lines.push_back(line); },
      [this] { return now; }};

  static asio::ip::address address(const char* text) {
    return asio::ip::make_address(text);
  }

  // A refusal as the session answers it: counted and reported.
  connection_limits::slot refused_from(const char* text) {
    auto slot = limits.try_acquire(address(text));
    BOOST_REQUIRE(!slot);
    limits.refused(slot.refused_by(), std::string{text} + ":40000");
    return slot;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(connection_limits_caps, limits_fixture)

BOOST_AUTO_TEST_CASE(per_address_cap_refuses_only_that_address) {
  std::vector<connection_limits::slot> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(limits.try_acquire(address("10.0.0.2")));
  auto fourth = limits.try_acquire(address("10.0.0.2"));
  BOOST_TEST(!fourth);
  BOOST_TEST((fourth.refused_by() == limit_reached::per_address));
  BOOST_TEST(static_cast<bool>(limits.try_acquire(address("10.0.0.3"))));
  BOOST_TEST(limits.open_from(address("10.0.0.2")) == 3u);
  // And is named so in the log lines that name the peer.
  BOOST_TEST(describe(asio::ip::tcp::endpoint{address("::ffff:10.0.0.2"),
                                              4101}) == "10.0.0.2:4101");
  BOOST_TEST(describe(asio::ip::tcp::endpoint{address("::1"), 4101}) ==
             "[::1]:4101");
}

BOOST_AUTO_TEST_CASE(process_cap_refuses_everybody) {
  std::vector<connection_limits::slot> held;
  for (auto* each :
       {"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"})
    held.push_back(limits.try_acquire(address(each)));
  auto sixth = limits.try_acquire(address("10.0.0.7"));
  BOOST_TEST((sixth.refused_by() == limit_reached::process));
  BOOST_TEST(limits.open() == 5u);
  BOOST_TEST(limits.open_from(address("10.0.0.7")) == 0u);
}

BOOST_AUTO_TEST_CASE(released_and_moved_slots_count_once) {
  auto first = limits.try_acquire(address("10.0.0.2"));
  auto moved = std::move(first);
  BOOST_TEST(!first);
  BOOST_TEST(limits.open() == 1u);
  moved.release();
  moved.release();
  BOOST_TEST(limits.open() == 0u);
  {
    auto scoped = limits.try_acquire(address("10.0.0.2"));
    BOOST_TEST(limits.open_from(address("10.0.0.2")) == 1u);
  }
  BOOST_TEST(limits.open() == 0u);
  BOOST_TEST(limits.open_from(address("10.0.0.2")) == 0u);
}

BOOST_AUTO_TEST_CASE(ipv4_mapped_ipv6_counts_as_ipv4) {
  std::vector<connection_limits::slot> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(limits.try_acquire(address("::ffff:10.0.0.2")));
  BOOST_TEST(!limits.try_acquire(address("10.0.0.2")));
  BOOST_TEST(limits.open_from(address("10.0.0.2")) == 3u);
}

BOOST_AUTO_TEST_CASE(zero_means_no_cap) {
  connection_limits unlimited{{0, 0}, [](const std::string&) {}};
  std::vector<connection_limits::slot> held;
  for (int i = 0; i < 100; ++i)
    held.push_back(unlimited.try_acquire(address("10.0.0.2")));
  BOOST_TEST(static_cast<bool>(held.back()));
  BOOST_TEST(unlimited.open() == 100u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(connection_limits_logging, limits_fixture)

BOOST_AUTO_TEST_CASE(refusals_beyond_max_refusing_are_closed_at_accept) {
  connection_limits small{
      {1, 0, 2},
      [this](const std::string& line) { lines.push_back(line); },
      [this] { return now; }};
  auto counted = small.try_acquire(address("10.0.0.2"));
  BOOST_REQUIRE(static_cast<bool>(counted));
  auto first = small.try_acquire(address("10.0.0.3"));
  auto second = small.try_acquire(address("10.0.0.4"));
  auto third = small.try_acquire(address("10.0.0.5"));
  for (auto* answered : {&first, &second}) {
    BOOST_TEST(!*answered);
    BOOST_TEST(!answered->closes_at_once());
    BOOST_TEST((answered->refused_by() == limit_reached::process));
  }
  BOOST_TEST(!third);
  BOOST_TEST(third.closes_at_once());
  BOOST_TEST(small.refusing() == 2u);
  BOOST_TEST(small.open() == 1u);

  // Once a refusal has been answered, the next one is answered again.
  first.release();
  BOOST_TEST(small.refusing() == 1u);
  auto fourth = small.try_acquire(address("10.0.0.6"));
  BOOST_TEST(!fourth.closes_at_once());
  BOOST_TEST(small.refusing() == 2u);

  // The ones closed unanswered show in the next summary.
  small.refused(second.refused_by(), "10.0.0.4:40000");
  now += connection_limits::report_interval + 1s;
  small.refused(fourth.refused_by(), "10.0.0.6:40000");
  auto closed = small.try_acquire(address("10.0.0.7"));
  BOOST_TEST(closed.closes_at_once());
  now += connection_limits::report_interval + 1s;
  counted.release();
  BOOST_REQUIRE(!lines.empty());
  BOOST_TEST(lines.back().find("closed unanswered at accept") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_burst_of_refusals_is_one_line_then_a_summary) {
  std::vector<connection_limits::slot> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(limits.try_acquire(address("10.0.0.2")));
  for (int i = 0; i < 1000; ++i) {
    refused_from("10.0.0.2");
    now += 1ms;
  }
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0].find("10.0.0.2:40000") != std::string::npos);
  BOOST_TEST(lines[0].find("--max-connections-per-address") !=
             std::string::npos);

  // The rest is summed up once the interval has passed, by whatever the
  // limiter does next.
  now += connection_limits::report_interval;
  held.pop_back();
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_TEST(lines[1].find("999 more") != std::string::npos);
  held.push_back(limits.try_acquire(address("10.0.0.2")));
  BOOST_TEST(lines.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_long_burst_is_summarized_once_per_interval) {
  std::vector<connection_limits::slot> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(limits.try_acquire(address("10.0.0.2")));
  // 35 s of refusals, ten a second.
  for (int i = 0; i < 350; ++i) {
    refused_from("10.0.0.2");
    now += 100ms;
  }
  // The opening line and one summary per 10 s.
  BOOST_TEST(lines.size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_refusal_after_quiet_starts_a_new_burst) {
  std::vector<connection_limits::slot> held;
  for (auto* each :
       {"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"})
    held.push_back(limits.try_acquire(address(each)));
  refused_from("10.0.0.7");
  refused_from("10.0.0.8");
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0].find("--max-connections is 5") != std::string::npos);

  now += connection_limits::report_interval + 1s;
  refused_from("10.0.0.9");
  // The last burst's remainder, then the new burst's opening line.
  BOOST_REQUIRE_EQUAL(lines.size(), 3u);
  BOOST_TEST(lines[1].find("1 more") != std::string::npos);
  BOOST_TEST(lines[2].find("limit reached") != std::string::npos);
}

// Refused connections that never send a request are never answered; those
// beyond max_refusing are closed at accept. Such a burst still opens with
// the limit-reached line, and its summaries span what they count.
BOOST_AUTO_TEST_CASE(silent_bursts_open_with_the_limit_and_span_forward) {
  connection_limits small{
      {0, 2, 4},
      [this](const std::string& line) { lines.push_back(line); },
      [this] { return now; }};
  std::vector<connection_limits::slot> counted;
  for (int i = 0; i < 2; ++i)
    counted.push_back(small.try_acquire(address("127.0.0.1")));
  for (int burst = 0; burst < 3; ++burst) {
    std::vector<connection_limits::slot> held;
    for (int i = 0; i < 120; ++i) {
      held.push_back(small.try_acquire(address("127.0.0.1")));
      now += 10ms;
    }
    now += 2s;
    held.clear();
    now += 12s;
  }
  // Whatever is left is flushed by the next connection's release.
  counted.pop_back();

  BOOST_REQUIRE(!lines.empty());
  BOOST_TEST(lines[0] ==
             "public connection limit reached: 127.0.0.1 has "
             "--max-connections-per-address (2) open; answering new "
             "upgrades with 503 until some close (further refusals are "
             "summarized every 10 s)");
  std::size_t openings = 0;
  for (const auto& line : lines) {
    BOOST_TEST_INFO(line);
    BOOST_TEST(line.find("within -") == std::string::npos);
    BOOST_TEST(line.find(" 0 more") == std::string::npos);
    if (line.find("limit reached") != std::string::npos)
      ++openings;
  }
  BOOST_TEST(openings == 3u);
  // Each burst: 116 closed at accept besides the one that opened it, all
  // within 1.2 s.
  BOOST_TEST(lines[1] ==
             "public connection limit: 115 more connections closed "
             "unanswered at accept (4 refusals were being answered) within "
             "2 s; 2 open now");
}

// The node gate's limits: no refusal is ever answered, each one is closed
// at accept and reported once, through refused().
BOOST_AUTO_TEST_CASE(refusals_never_answered_are_summarized_once) {
  connection_limits gate{
      {1, 0, 0},
      [this](const std::string& line) { lines.push_back(line); },
      [this] { return now; }};
  auto counted = gate.try_acquire(address("127.0.0.1"));
  BOOST_REQUIRE(static_cast<bool>(counted));
  for (int i = 0; i < 30; ++i) {
    auto slot = gate.try_acquire(address("127.0.0.1"));
    BOOST_REQUIRE(!slot);
    gate.refused(slot.refused_by(), "127.0.0.1:40000");
    now += 100ms;
  }
  now += 20s;
  counted.release();
  BOOST_REQUIRE(lines.size() == 2u);
  BOOST_TEST_INFO(lines[1]);
  BOOST_TEST(lines[1].find("29 more") != std::string::npos);
  BOOST_TEST(lines[1].find("unanswered") == std::string::npos);
}

// The internal listener's limits: no per-address cap, refusals answered
// one after another at accept, and log lines in its own words.
BOOST_AUTO_TEST_CASE(a_listener_answering_at_accept_logs_in_its_own_words) {
  connection_limits::wording names;
  names.listener = "internal";
  names.process_cap = "the internal listener's cap";
  names.refusing = "answering new connections with 503 at accept";
  names.refused = "connections answered 503 at accept";
  connection_limits internal{
      {2, 0, 1},
      [this](const std::string& line) { lines.push_back(line); },
      [this] { return now; },
      names};
  std::vector<connection_limits::slot> held;
  for (int i = 0; i < 2; ++i)
    held.push_back(internal.try_acquire(address("127.0.0.1")));
  // Each refusal is answered and let go before the next accept, so one
  // being answered at a time never closes another unanswered.
  for (int i = 0; i < 50; ++i) {
    auto refused = internal.try_acquire(address("127.0.0.1"));
    BOOST_REQUIRE(!refused);
    BOOST_REQUIRE(!refused.closes_at_once());
    internal.refused(refused.refused_by(), "127.0.0.1:40000");
    now += 100ms;
  }
  BOOST_TEST(internal.refusing() == 0u);
  BOOST_TEST(internal.open() == 2u);

  now += connection_limits::report_interval;
  held.pop_back();
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_TEST(
      lines[0] ==
      "internal connection limit reached: 2 open, the internal "
      "listener's cap is 2; answering new connections with 503 at accept "
      "until some close (further refusals are summarized every 10 s)");
  BOOST_TEST(lines[1] ==
             "internal connection limit: 49 more connections answered 503 at "
             "accept within 5 s; 1 open now");
}

BOOST_AUTO_TEST_SUITE_END()
