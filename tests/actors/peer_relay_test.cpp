// The relay of one node's statuses to one peer: pages within the peer's
// credit, a bounded queue, and the fall back to the store that loses
// nothing when the peer is slower than the publishes.
#include "actors/peer_relay.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

using batchcast::actors::peer_relay;
using batchcast::actors::relay_limits;
using batchcast::storage::batch_record;
using batchcast::storage::batch_status;

namespace {

batch_record record_at(std::int64_t ms, const std::string& origin = "a") {
  return {"batch-" + std::to_string(ms), batch_status::completed, ms, origin};
}

relay_limits small_limits() {
  relay_limits limits;
  limits.page_size = 4;
  limits.pages_in_flight = 2;
  limits.queued_records = 8;
  return limits;
}

// A node's state database as far as the relay reads it: every record
// committed so far, by time.
struct fake_store {
  std::map<std::int64_t, batch_record> rows;

  std::vector<batch_record> changed_since(std::int64_t since_ms,
                                          std::size_t limit) const {
    std::vector<batch_record> found;
    for (auto it = rows.lower_bound(since_ms);
         it != rows.end() && found.size() < limit; ++it)
      found.push_back(it->second);
    return found;
  }
};

std::vector<std::int64_t> times_of(const std::vector<batch_record>& page) {
  std::vector<std::int64_t> times;
  for (const auto& record : page)
    times.push_back(record.updated_at_ms);
  return times;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(peer_relay_pages)

BOOST_AUTO_TEST_CASE(live_pages_stay_within_the_peers_credit) {
  peer_relay relay{small_limits(), "a"};
  for (std::int64_t ms = 1; ms <= 7; ++ms)
    relay.push(record_at(ms));

  auto first = relay.next_live_page();
  auto second = relay.next_live_page();
  BOOST_REQUIRE(first && second);
  BOOST_TEST(times_of(*first) == (std::vector<std::int64_t>{1, 2, 3, 4}));
  BOOST_TEST(times_of(*second) == (std::vector<std::int64_t>{5, 6, 7}));
  BOOST_TEST(relay.pages_in_flight() == 2u);

  relay.push(record_at(8));
  BOOST_TEST(!relay.next_live_page());  // credit spent
  relay.page_committed();
  auto third = relay.next_live_page();
  BOOST_REQUIRE(third);
  BOOST_TEST(times_of(*third) == (std::vector<std::int64_t>{8}));
}

BOOST_AUTO_TEST_CASE(a_full_queue_falls_back_to_the_store_from_the_oldest) {
  peer_relay relay{small_limits(), "a"};
  for (std::int64_t ms = 10; ms < 18; ++ms)
    relay.push(record_at(ms));
  BOOST_TEST(relay.queued() == 8u);
  relay.push(record_at(18));  // one too many

  BOOST_TEST(relay.reading_store());
  BOOST_TEST(relay.queued() == 0u);  // the memory is given back
  BOOST_TEST(relay.times_fell_behind() == 1u);
  BOOST_TEST(!relay.next_live_page());
  auto since = relay.next_store_read();
  BOOST_REQUIRE(since);
  BOOST_TEST(*since == 10);
  BOOST_TEST(!relay.next_store_read());  // one read at a time
}

BOOST_AUTO_TEST_CASE(reads_send_only_this_nodes_records_and_move_on) {
  peer_relay relay{small_limits(), "a"};
  for (std::int64_t ms = 1; ms <= 9; ++ms)
    relay.push(record_at(ms));
  auto since = relay.next_store_read();
  BOOST_REQUIRE(since);

  // A full page read back: a record from another node is not sent (that
  // node relays its own), and the next read starts at the newest time.
  auto sent = relay.store_read_done(
      {record_at(1), record_at(2, "b"), record_at(3), record_at(4)});
  BOOST_TEST(times_of(sent) == (std::vector<std::int64_t>{1, 3, 4}));
  BOOST_TEST(relay.pages_in_flight() == 1u);
  auto next = relay.next_store_read();
  BOOST_REQUIRE(next);
  BOOST_TEST(*next == 4);
}

BOOST_AUTO_TEST_CASE(a_short_read_returns_to_live_pages_with_what_queued) {
  peer_relay relay{small_limits(), "a"};
  for (std::int64_t ms = 1; ms <= 9; ++ms)
    relay.push(record_at(ms));
  BOOST_REQUIRE(relay.next_store_read());
  relay.push(record_at(10));  // arrives while the read is out: queued

  auto sent = relay.store_read_done({record_at(8), record_at(9)});
  BOOST_TEST(sent.size() == 2u);
  BOOST_TEST(!relay.reading_store());
  BOOST_TEST(relay.take_caught_up());
  BOOST_TEST(!relay.take_caught_up());
  auto live = relay.next_live_page();
  BOOST_REQUIRE(live);
  BOOST_TEST(times_of(*live) == (std::vector<std::int64_t>{10}));
}

BOOST_AUTO_TEST_CASE(a_status_let_go_during_a_read_is_read_again) {
  auto limits = small_limits();
  limits.queued_records = 2;
  peer_relay relay{limits, "a"};
  for (std::int64_t ms = 20; ms <= 22; ++ms)
    relay.push(record_at(ms));  // the third one overflows: from 20
  BOOST_REQUIRE(relay.next_store_read());
  // While the read is out, the queue overflows again with a record older
  // than anything the read will return (committed late).
  relay.push(record_at(30));
  relay.push(record_at(31));
  relay.push(record_at(15));

  relay.store_read_done({record_at(20), record_at(21)});  // short
  BOOST_TEST(relay.reading_store());  // not live: 15 is not sent yet
  auto again = relay.next_store_read();
  BOOST_REQUIRE(again);
  BOOST_TEST(*again == 15);
}

BOOST_AUTO_TEST_CASE(a_page_the_peer_did_not_store_is_read_again) {
  peer_relay relay{small_limits(), "a"};
  relay.push(record_at(5));
  relay.push(record_at(6));
  BOOST_REQUIRE(relay.next_live_page());
  relay.page_failed(5);
  BOOST_TEST(relay.pages_in_flight() == 0u);
  BOOST_TEST(relay.reading_store());
  // Its queue did not fill: a refusal is not falling behind.
  BOOST_TEST(relay.times_fell_behind() == 0u);
  auto since = relay.next_store_read();
  BOOST_REQUIRE(since);
  BOOST_TEST(*since == 5);
}

// What a link closing now would leave to the next one.
BOOST_AUTO_TEST_CASE(the_store_cursor_shows_only_while_reading_the_store) {
  peer_relay relay{small_limits(), "a"};
  relay.push(record_at(5));
  BOOST_TEST(!relay.store_cursor());
  BOOST_REQUIRE(relay.next_live_page());
  relay.page_failed(5);
  BOOST_TEST(relay.store_cursor().value_or(0) == 5);
  relay.resend_from(3);
  BOOST_TEST(relay.store_cursor().value_or(0) == 3);
}

BOOST_AUTO_TEST_CASE(no_read_while_the_credit_is_spent) {
  peer_relay relay{small_limits(), "a"};
  for (std::int64_t ms = 1; ms <= 8; ++ms)
    relay.push(record_at(ms));
  BOOST_REQUIRE(relay.next_live_page());
  BOOST_REQUIRE(relay.next_live_page());
  for (std::int64_t ms = 9; ms <= 17; ++ms)
    relay.push(record_at(ms));  // the ninth overflows the queue
  BOOST_TEST(relay.reading_store());
  BOOST_TEST(!relay.next_store_read());
  relay.page_committed();
  BOOST_TEST(relay.next_store_read().has_value());
}

// A slow peer and a long burst: whatever the interleaving, the relay holds
// no more than its limits, and every record reaches the peer.
BOOST_AUTO_TEST_CASE(a_burst_to_a_slow_peer_is_bounded_and_complete) {
  auto limits = small_limits();
  peer_relay relay{limits, "a"};
  fake_store store;
  std::set<std::int64_t> delivered;
  std::vector<std::vector<batch_record>> in_flight;

  auto send = [&](std::vector<batch_record> page) {
    in_flight.push_back(std::move(page));
  };
  auto pump = [&] {
    while (auto page = relay.next_live_page())
      send(std::move(*page));
    if (auto since = relay.next_store_read()) {
      auto own =
          relay.store_read_done(store.changed_since(*since, limits.page_size));
      if (!own.empty())
        send(std::move(own));
    }
  };
  auto peer_commits_one_page = [&] {
    if (in_flight.empty())
      return;
    for (const auto& record : in_flight.front())
      delivered.insert(record.updated_at_ms);
    in_flight.erase(in_flight.begin());
    relay.page_committed();
  };

  const std::int64_t total = 5000;
  for (std::int64_t ms = 1; ms <= total; ++ms) {
    auto record = record_at(ms, ms % 5 == 0 ? "b" : "a");
    store.rows.emplace(ms, record);
    if (record.origin == "a")
      relay.push(record);  // only this node's own publishes are relayed
    pump();
    if (ms % 7 == 0)  // the peer commits one page per seven publishes
      peer_commits_one_page();
    BOOST_TEST_REQUIRE(relay.queued() <= limits.queued_records);
    BOOST_TEST_REQUIRE(in_flight.size() <= limits.pages_in_flight);
  }
  for (int round = 0;
       round < 10000 &&
       (relay.reading_store() || relay.queued() > 0 || !in_flight.empty());
       ++round) {
    peer_commits_one_page();
    pump();
  }

  BOOST_TEST(relay.times_fell_behind() > 0u);
  std::size_t missing = 0;
  for (std::int64_t ms = 1; ms <= total; ++ms)
    if (ms % 5 != 0 && delivered.count(ms) == 0)
      ++missing;
  BOOST_TEST(missing == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
