// What a client may send once its WebSocket is open, and what happens when
// it misbehaves: floods of pings or tiny messages are closed with 1008
// (policy violation), a flood of bytes that make no message (empty
// fragments) is dropped, invalid UTF-8 closes with 1007; binary frames
// are dropped
// like text ones; permessage-deflate is never agreed to; a client that
// never reads is dropped after the idle timeout. Real sockets, a Beast
// client (tests/support/ws_client).
#define BOOST_TEST_MODULE client_frames
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

#include "tests/integration/service_fixture.hpp"

using namespace batchcast::testing;
using namespace std::chrono_literals;

namespace {

const std::string completed = R"({"status":"completed"})";

// Far more than any budget allows; a flood ends when the server closes.
constexpr int flood_frames = 5000;

}  // namespace

BOOST_FIXTURE_TEST_SUITE(client_frames, service_fixture)

BOOST_AUTO_TEST_CASE(ping_flood_is_closed_with_1008_and_gets_no_status) {
  ws_client flooder;
  BOOST_REQUIRE_EQUAL(connect(flooder, batch_a, manager_of_a), 101);
  for (int i = 0; i < flood_frames && flooder.send_ping(); ++i) {
  }
  // The pongs come first; then the close frame.
  BOOST_CHECK(!flooder.read_message(10s));
  BOOST_CHECK(flooder.closed());
  BOOST_CHECK_EQUAL(flooder.close_code(), 1008);
  BOOST_CHECK(
      eventually([&] { return node().network().open_sessions() == 0; }));
}

BOOST_AUTO_TEST_CASE(stream_of_small_messages_is_closed_with_1008) {
  ws_client flooder;
  BOOST_REQUIRE_EQUAL(connect(flooder, batch_a, manager_of_a), 101);
  for (int i = 0; i < flood_frames && flooder.send_text(8); ++i) {
  }
  BOOST_CHECK(!flooder.read_message(10s));
  BOOST_CHECK(flooder.closed());
  BOOST_CHECK_EQUAL(flooder.close_code(), 1008);
}

// Beast consumes empty fragments without completing the server's read,
// so only the byte count below the WebSocket layer sees them: 6 bytes
// each, 300,000 of them are 1.8 MB against a budget of 82 KB at once.
BOOST_AUTO_TEST_CASE(stream_of_empty_fragments_is_dropped) {
  ws_client flooder;
  BOOST_REQUIRE_EQUAL(connect(flooder, batch_a, manager_of_a), 101);
  ws_client bystander;
  BOOST_REQUIRE_EQUAL(connect(bystander, batch_a, manager_of_a), 101);
  int sent = 0;
  while (sent < 300000 && flooder.send_empty_fragment())
    ++sent;
  BOOST_TEST_MESSAGE("empty fragments sent before the drop: " << sent);

  BOOST_CHECK(
      eventually([&] { return node().network().open_sessions() == 1; }));
  BOOST_CHECK(!flooder.read_message(2s));
  BOOST_CHECK_EQUAL(flooder.close_code(), 0);  // dropped, no close frame

  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_CHECK_EQUAL(bystander.read_message(5s).value_or("<none>"), completed);
}

// The byte budget is the frame budget's worth of the largest messages:
// a client sending those at the frame rate is not cut off by it.
BOOST_AUTO_TEST_CASE(largest_messages_within_the_frame_budget_pass) {
  ws_client client;
  BOOST_REQUIRE_EQUAL(connect(client, batch_a, manager_of_a), 101);
  for (int i = 0; i < 15; ++i)
    BOOST_REQUIRE(client.send_text(4096));
  std::this_thread::sleep_for(1500ms);
  for (int i = 0; i < 10; ++i)
    BOOST_REQUIRE(client.send_text(4096));
  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_CHECK_EQUAL(client.read_message(5s).value_or("<none>"), completed);
}

BOOST_AUTO_TEST_CASE(a_few_pings_and_messages_are_within_the_limit) {
  ws_client chatty;
  BOOST_REQUIRE_EQUAL(connect(chatty, batch_a, manager_of_a), 101);
  for (int i = 0; i < 10; ++i)
    BOOST_REQUIRE(chatty.send_ping());
  // Then five frames a second, half the sustained rate allowed.
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(200ms);
    BOOST_REQUIRE(i % 2 ? chatty.send_ping() : chatty.send_text(100));
  }
  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_CHECK_EQUAL(chatty.read_message(5s).value_or("<none>"), completed);
  BOOST_CHECK(!chatty.read_message(5s));
  BOOST_CHECK_EQUAL(chatty.close_code(), 1000);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_a_text_frame_closes_with_1007) {
  ws_client client;
  BOOST_REQUIRE_EQUAL(connect(client, batch_a, manager_of_a), 101);
  BOOST_REQUIRE(client.send_text_bytes("ok \xC3\x28 not ok"));
  BOOST_CHECK(!client.read_message(10s));
  BOOST_CHECK(client.closed());
  BOOST_CHECK_EQUAL(client.close_code(), 1007);
}

BOOST_AUTO_TEST_CASE(binary_frames_are_read_and_discarded) {
  ws_client client;
  BOOST_REQUIRE_EQUAL(connect(client, batch_a, manager_of_a), 101);
  for (int i = 0; i < 3; ++i)
    BOOST_REQUIRE(client.send_binary(1000));
  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_CHECK_EQUAL(client.read_message(5s).value_or("<none>"), completed);
  BOOST_CHECK(!client.read_message(5s));
  BOOST_CHECK_EQUAL(client.close_code(), 1000);
}

BOOST_AUTO_TEST_CASE(offered_permessage_deflate_is_declined) {
  ws_client client;
  ws_client_options options;
  options.port = public_port();
  options.path = "/ws/radius/batch/" + batch_a + "/";
  options.cookie = "sessionid=" + manager_of_a;
  options.offer_deflate = true;
  BOOST_REQUIRE_EQUAL(client.connect(options), 101);
  BOOST_CHECK_EQUAL(client.response_header("Sec-WebSocket-Extensions"), "");

  // The message arrives uncompressed, which the client can read either way.
  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_CHECK_EQUAL(client.read_message(5s).value_or("<none>"), completed);
}

BOOST_AUTO_TEST_CASE(
    client_that_never_reads_is_dropped_after_the_idle_timeout) {
  idle_timeout = 2s;
  restart();
  ws_client silent;  // never reads, so never answers the server's pings
  BOOST_REQUIRE_EQUAL(connect(silent, batch_a, manager_of_a), 101);
  ws_client reader;  // reads, and so answers them
  BOOST_REQUIRE_EQUAL(connect(reader, batch_a, manager_of_a), 101);
  auto started = std::chrono::steady_clock::now();

  // Reading for longer than the idle timeout keeps `reader` alive.
  bool reader_closed = true;
  std::thread reading{[&] {
    reader.read_message(6s);
    reader_closed = reader.closed();
  }};
  BOOST_CHECK(
      eventually([&] { return node().network().open_sessions() == 1; }, 10s));
  auto took = std::chrono::steady_clock::now() - started;
  reading.join();
  BOOST_CHECK(took >= 1s);  // not dropped before it had a chance to answer
  BOOST_CHECK(!reader_closed);

  BOOST_REQUIRE_EQUAL(publish(batch_a, "completed").status, 200);
  BOOST_CHECK_EQUAL(reader.read_message(5s).value_or("<none>"), completed);
}

BOOST_AUTO_TEST_SUITE_END()
