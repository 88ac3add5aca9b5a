// The Prometheus text a node exposes, read back with a strict parser:
// the format holds whatever was counted, and each count lands in the
// series an operator would look for.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include "common/metrics.hpp"
#include "common/prometheus_text.hpp"
#include "tests/support/exposition_parser.hpp"

using batchcast::handshake_outcome;
using batchcast::metrics;
using batchcast::node_snapshot;
using batchcast::write_node_metrics;
using batchcast::testing::exposition;
using batchcast::testing::parse_exposition;
using namespace std::chrono_literals;

namespace {

exposition scrape(const metrics& counted, std::int64_t open_websockets = 0) {
  node_snapshot snapshot;
  snapshot.open_websockets = open_websockets;
  return parse_exposition(write_node_metrics(counted, snapshot));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_text)

BOOST_AUTO_TEST_CASE(a_fresh_node_exposes_every_family_at_zero) {
  metrics counted;
  auto parsed = scrape(counted);

  BOOST_CHECK_EQUAL(parsed.types.at("batchcast_handshakes_total"), "counter");
  BOOST_CHECK_EQUAL(parsed.types.at("batchcast_websocket_connections_open"),
                    "gauge");
  BOOST_CHECK_EQUAL(
      parsed.types.at("batchcast_storage_commit_duration_seconds"),
      "histogram");
  for (const char* outcome :
       {"accepted", "forbidden", "not_found", "bad_request", "unavailable",
        "upgrade_required", "timeout", "other"})
    BOOST_CHECK_EQUAL(parsed.at(std::string{"batchcast_handshakes_total{"
                                            "outcome=\""} +
                                outcome + "\"}"),
                      0);
  for (const char* status : {"pending", "processing", "completed", "failed"})
    BOOST_CHECK_EQUAL(parsed.at(std::string{"batchcast_publishes_total{"
                                            "status=\""} +
                                status + "\"}"),
                      0);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_messages_sent_total"), 0);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_session_cache_hits_total"), 0);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_session_cache_misses_total"), 0);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_batch_groups"), 0);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_api_responses_total{code=\"200\"}"),
                    0);
  BOOST_CHECK_EQUAL(
      parsed.at("batchcast_storage_commit_duration_seconds_count"), 0);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_build_info{version=\"0.1.0\"}"), 1);
  // A single node has no peers: the family is left out, not empty.
  BOOST_CHECK_EQUAL(parsed.types.count("batchcast_cluster_peer_up"), 0u);
}

BOOST_AUTO_TEST_CASE(counts_land_in_the_series_named_after_them) {
  metrics counted;
  counted.count_handshake(101u);
  counted.count_handshake(403u);
  counted.count_handshake(403u);
  counted.count_handshake(404u);
  counted.count_handshake(418u);
  counted.count_handshake(handshake_outcome::timeout);
  counted.messages_sent.add(3);
  counted.publishes.add(2);  // completed
  counted.count_api_response(200);
  counted.count_api_response(401);
  counted.count_api_response(299);
  counted.session_cache_hits.add(5);
  counted.session_cache_misses.add(2);
  counted.batch_groups.set(7);

  auto parsed = scrape(counted, 11);
  auto handshakes = [&](const std::string& outcome) {
    return parsed.at("batchcast_handshakes_total{outcome=\"" + outcome + "\"}");
  };
  BOOST_CHECK_EQUAL(handshakes("accepted"), 1);
  BOOST_CHECK_EQUAL(handshakes("forbidden"), 2);
  BOOST_CHECK_EQUAL(handshakes("not_found"), 1);
  BOOST_CHECK_EQUAL(handshakes("other"), 1);
  BOOST_CHECK_EQUAL(handshakes("timeout"), 1);
  BOOST_CHECK_EQUAL(handshakes("unavailable"), 0);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_messages_sent_total"), 3);
  BOOST_CHECK_EQUAL(
      parsed.at("batchcast_publishes_total{status=\"completed\"}"), 1);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_publishes_total{status=\"failed\"}"),
                    0);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_api_responses_total{code=\"200\"}"),
                    1);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_api_responses_total{code=\"401\"}"),
                    1);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_api_responses_total{code=\"other\"}"),
                    1);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_session_cache_hits_total"), 5);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_session_cache_misses_total"), 2);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_batch_groups"), 7);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_websocket_connections_open"), 11);
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative_and_match_the_count) {
  metrics counted;
  counted.commit_duration.observe(300us);  // le=0.0005
  counted.commit_duration.observe(1ms);    // le=0.001, on the bound
  counted.commit_duration.observe(2ms);    // le=0.0025
  counted.commit_duration.observe(3s);     // +Inf only

  auto parsed = scrape(counted);
  auto bucket = [&](const std::string& le) {
    return parsed.at("batchcast_storage_commit_duration_seconds_bucket{le=\"" +
                     le + "\"}");
  };
  BOOST_CHECK_EQUAL(bucket("0.0005"), 1);
  BOOST_CHECK_EQUAL(bucket("0.001"), 2);
  BOOST_CHECK_EQUAL(bucket("0.0025"), 3);
  BOOST_CHECK_EQUAL(bucket("1"), 3);
  BOOST_CHECK_EQUAL(bucket("2.5"), 3);
  BOOST_CHECK_EQUAL(bucket("+Inf"), 4);
  BOOST_CHECK_EQUAL(
      parsed.at("batchcast_storage_commit_duration_seconds_count"), 4);
  BOOST_CHECK_CLOSE(parsed.at("batchcast_storage_commit_duration_seconds_sum"),
                    3.0033, 1e-6);
}

BOOST_AUTO_TEST_CASE(peer_names_are_escaped_and_read_back_whole) {
  metrics counted;
  std::string odd = "node \"b\"\\east\nrack:4101";
  counted.set_peers({{"10.0.0.2:4101", true, 0}, {odd, false, 17}});
  auto parsed = scrape(counted);
  BOOST_CHECK_EQUAL(parsed.types.at("batchcast_cluster_peer_up"), "gauge");
  BOOST_CHECK_EQUAL(
      parsed.at("batchcast_cluster_peer_up{peer=\"10.0.0.2:4101\"}"), 1);
  BOOST_CHECK_EQUAL(
      parsed.at("batchcast_cluster_peer_up{peer=\"" + odd + "\"}"), 0);
  BOOST_CHECK_EQUAL(
      parsed.at("batchcast_cluster_relay_queued{peer=\"" + odd + "\"}"), 17);

  counted.clear_peers();
  BOOST_CHECK_EQUAL(scrape(counted).types.count("batchcast_cluster_peer_up"),
                    0u);
}

BOOST_AUTO_TEST_CASE(process_figures_come_from_proc) {
  metrics counted;
  auto parsed = scrape(counted);
  BOOST_CHECK_GT(parsed.at("process_resident_memory_bytes"), 1024 * 1024);
  BOOST_CHECK_GT(parsed.at("process_open_fds"), 2);  // at least stdio
  BOOST_CHECK_GT(parsed.at("process_max_fds"), parsed.at("process_open_fds"));
  BOOST_CHECK_GE(parsed.at("process_cpu_seconds_total"), 0);
  BOOST_CHECK_GT(parsed.at("process_start_time_seconds"), 1.6e9);
}

BOOST_AUTO_TEST_CASE(concurrent_counting_loses_nothing) {
  metrics counted;
  constexpr int threads = 4;
  constexpr int per_thread = 100000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        counted.count_handshake(403u);
        counted.messages_sent.add();
        counted.commit_duration.observe(1us);
      }
    });
  for (auto& each : workers)
    each.join();
  auto parsed = scrape(counted);
  BOOST_CHECK_EQUAL(
      parsed.at("batchcast_handshakes_total{outcome=\"forbidden\"}"),
      threads * per_thread);
  BOOST_CHECK_EQUAL(parsed.at("batchcast_messages_sent_total"),
                    threads * per_thread);
  BOOST_CHECK_EQUAL(
      parsed.at("batchcast_storage_commit_duration_seconds_count"),
      threads * per_thread);
}

BOOST_AUTO_TEST_CASE(the_parser_refuses_what_a_scraper_would_choke_on) {
  // Guards the guard: each of these breaks one rule the node must keep.
  for (const char* bad : {
           "# HELP a_total x\n# TYPE a_total counter\na_total 1",  // no \n
           "# TYPE a_total counter\na_total 1\n",     // TYPE without HELP
           "# HELP a x\n# TYPE a counter\na 1\n",     // counter without _total
           "# HELP a x\n# TYPE a gauge\nb 1\n",       // sample of no family
           "# HELP a x\n# TYPE a gauge\na 1\na 2\n",  // series repeated
           "# HELP a x\n# TYPE a gauge\na{l=\"x} 1\n",      // unterminated
           "# HELP a x\n# TYPE a gauge\na 1 1700000000\n",  // timestamp
           "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
           "h_bucket{le=\"0.5\"} 2\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\n"
           "h_count 2\n",  // buckets not ascending
           "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
           "h_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 2\n",  // count differs
       }) {
    BOOST_TEST_CONTEXT(bad) {
      BOOST_CHECK_THROW(parse_exposition(bad), std::runtime_error);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
