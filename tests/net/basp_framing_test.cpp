#include "net/basp_framing.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/system_messages.hpp>
#include <caf/io/basp/header.hpp>
#include <caf/message.hpp>

using namespace batchcast::net;

namespace {

constexpr std::uint32_t cap = 1024;

using bytes = std::vector<std::uint8_t>;

// A header as CAF itself writes it, so the gate reads CAF's byte order
// rather than an order this test assumes.
bytes caf_header(caf::io::basp::message_type operation,
                 std::uint32_t payload_len, std::uint64_t operation_data = 7) {
  caf::io::basp::header header{operation,      0,  payload_len,
                               operation_data, 11, 13};
  std::vector<char> buffer;
  caf::binary_serializer sink{nullptr, buffer};
  auto err = sink(header);
  BOOST_REQUIRE(!err);
  BOOST_REQUIRE_EQUAL(buffer.size(), basp_header_size);
  return bytes(buffer.begin(), buffer.end());
}

// A direct message to a registered actor by name, as CAF's middleman
// writes its spawn server query.
bytes named_message(caf::atom_value receiver, std::uint8_t flags,
                    std::uint32_t size) {
  caf::io::basp::header header{
      caf::io::basp::message_type::direct_message, flags, size, 7, 11,
      static_cast<std::uint64_t>(receiver)};
  std::vector<char> buffer;
  caf::binary_serializer sink{nullptr, buffer};
  BOOST_REQUIRE(!sink(header));
  bytes all(buffer.begin(), buffer.end());
  all.insert(all.end(), size, std::uint8_t{0xcd});
  return all;
}

bytes message(caf::io::basp::message_type operation, std::uint32_t size) {
  auto all = caf_header(operation, size);
  all.insert(all.end(), size, std::uint8_t{0xab});
  return all;
}

constexpr auto dialing = basp_end::dialing;
constexpr auto accepting = basp_end::accepting;

struct framing_fixture {
  basp_framing framing{cap, basp_end::dialing};
  bytes out;

  basp_verdict feed(const bytes& in) {
    return framing.feed(in.data(), in.size(), out);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(basp_header_check)

BOOST_AUTO_TEST_CASE(reads_the_fields_caf_serializes) {
  auto header =
      caf_header(caf::io::basp::message_type::direct_message, 0xF0000000u);
  auto fields = read_basp_header(header.data());
  BOOST_TEST(fields.operation == 0x02);
  BOOST_TEST(fields.payload_len == 0xF0000000u);
}

BOOST_AUTO_TEST_CASE(takes_every_operation_caf_knows_within_the_cap) {
  for (std::uint8_t operation = 0; operation < basp_heartbeat; ++operation)
    if (operation != basp_routed_message)
      BOOST_TEST(
          (check_basp_header({operation, cap}, cap) == basp_verdict::ok));
  BOOST_TEST((check_basp_header({basp_heartbeat, 0}, cap) == basp_verdict::ok));
}

// CAF reads a missing payload through a null pointer: a server_handshake
// header with no payload crashed the node.
BOOST_AUTO_TEST_CASE(refuses_a_missing_payload_and_a_heartbeat_with_one) {
  for (std::uint8_t operation = 0; operation < basp_heartbeat; ++operation)
    BOOST_TEST((check_basp_header({operation, 0}, cap) ==
                basp_verdict::payload_mismatch));
  BOOST_TEST((check_basp_header({basp_heartbeat, 1}, cap) ==
              basp_verdict::payload_mismatch));
}

BOOST_AUTO_TEST_CASE(takes_a_client_handshake_first) {
  basp_header_fields client_handshake{basp_client_handshake, 10};
  basp_header_fields heartbeat{basp_heartbeat, 0};
  basp_header_fields direct_message{0x02, 10};
  BOOST_TEST(
      (check_basp_order(client_handshake, 0, dialing) == basp_verdict::ok));
  BOOST_TEST((check_basp_order(heartbeat, 1, dialing) == basp_verdict::ok));
  BOOST_TEST(
      (check_basp_order(direct_message, 5, dialing) == basp_verdict::ok));
  BOOST_TEST(
      (check_basp_order(heartbeat, 0, dialing) == basp_verdict::out_of_order));
  BOOST_TEST((check_basp_order(direct_message, 0, dialing) ==
              basp_verdict::out_of_order));
  // As CAF's own nodes send it: once on connect, again later.
  BOOST_TEST(
      (check_basp_order(client_handshake, 1, dialing) == basp_verdict::ok));
}

BOOST_AUTO_TEST_CASE(never_takes_a_server_handshake_from_a_dialing_node) {
  basp_header_fields server_handshake{basp_server_handshake, 10};
  BOOST_TEST((check_basp_order(server_handshake, 0, dialing) ==
              basp_verdict::out_of_order));
  BOOST_TEST((check_basp_order(server_handshake, 3, dialing) ==
              basp_verdict::out_of_order));
}

// The node this node dialed: its server_handshake comes first (a missing
// payload there crashed the dialing node), a client_handshake never.
BOOST_AUTO_TEST_CASE(takes_a_server_handshake_first_from_an_accepting_node) {
  basp_header_fields server_handshake{basp_server_handshake, 10};
  basp_header_fields client_handshake{basp_client_handshake, 10};
  basp_header_fields direct_message{0x02, 10};
  BOOST_TEST(
      (check_basp_order(server_handshake, 0, accepting) == basp_verdict::ok));
  BOOST_TEST(
      (check_basp_order(direct_message, 1, accepting) == basp_verdict::ok));
  BOOST_TEST((check_basp_order(direct_message, 0, accepting) ==
              basp_verdict::out_of_order));
  BOOST_TEST((check_basp_order(client_handshake, 0, accepting) ==
              basp_verdict::out_of_order));
  BOOST_TEST((check_basp_order(client_handshake, 2, accepting) ==
              basp_verdict::out_of_order));
}

// CAF 0.17 reads a stream message's content as its stream types
// unchecked: one with other content crashed a node.
BOOST_AUTO_TEST_CASE(refuses_messages_of_the_stream_categories) {
  constexpr std::uint64_t normal_request = 0x1000000000000007;
  constexpr std::uint64_t urgent_response = 0x8000000000000007;
  constexpr std::uint64_t upstream = 0x2000000000000000;
  constexpr std::uint64_t downstream = 0x3000000000000000;
  constexpr std::uint64_t seen_crashing = 0xff00800000000000;
  for (auto id : {normal_request, urgent_response, std::uint64_t{0}})
    BOOST_TEST((check_basp_header({basp_direct_message, 8, id}, cap) ==
                basp_verdict::ok));
  for (auto id : {upstream, downstream, seen_crashing})
    BOOST_TEST((check_basp_header({basp_direct_message, 8, id}, cap) ==
                basp_verdict::stream_message));
  // Other operations use operation_data for other things.
  BOOST_TEST((check_basp_header({basp_server_handshake, 8, downstream}, cap) ==
              basp_verdict::ok));
}

// A routed message names its source node itself: one naming the
// receiving node cut its cluster actor off.
BOOST_AUTO_TEST_CASE(refuses_every_routed_message) {
  BOOST_TEST((check_basp_header({basp_routed_message, 8, 0}, cap) ==
              basp_verdict::routed_message));
}

BOOST_AUTO_TEST_CASE(takes_direct_messages_only_for_the_allowed_actor) {
  basp_header_fields to_cluster{basp_direct_message, 8, 0, 12};
  basp_header_fields to_other{basp_direct_message, 8, 0, 24};
  basp_header_fields heartbeat{basp_heartbeat, 0, 0, 24};
  BOOST_TEST((check_basp_receiver(to_cluster, 12) == basp_verdict::ok));
  BOOST_TEST(
      (check_basp_receiver(to_other, 12) == basp_verdict::wrong_receiver));
  BOOST_TEST((check_basp_receiver(heartbeat, 12) == basp_verdict::ok));
  BOOST_TEST((check_basp_receiver(to_other, 0) == basp_verdict::ok));
}

BOOST_AUTO_TEST_CASE(reads_the_message_id_of_a_header) {
  auto header = caf_header(caf::io::basp::message_type::direct_message, 4,
                           0xff00800000000000);
  BOOST_TEST(read_basp_header(header.data()).operation_data ==
             0xff00800000000000u);
}

BOOST_AUTO_TEST_CASE(refuses_a_payload_above_the_cap) {
  BOOST_TEST((check_basp_header({1, cap + 1}, cap) ==
              basp_verdict::payload_too_large));
}

BOOST_AUTO_TEST_CASE(refuses_an_unknown_operation) {
  BOOST_TEST(
      (check_basp_header({7, 0}, cap) == basp_verdict::unknown_operation));
  BOOST_TEST(
      (check_basp_header({0xff, 0}, cap) == basp_verdict::unknown_operation));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(basp_framing_stream, framing_fixture)

BOOST_AUTO_TEST_CASE(passes_messages_through_unchanged) {
  auto in = message(caf::io::basp::message_type::client_handshake, 100);
  auto heartbeat = message(caf::io::basp::message_type::heartbeat, 0);
  in.insert(in.end(), heartbeat.begin(), heartbeat.end());
  BOOST_TEST((feed(in) == basp_verdict::ok));
  BOOST_TEST(out == in);
  BOOST_TEST(framing.complete_messages() == 2u);
  BOOST_TEST(framing.largest_payload() == 100u);
}

BOOST_AUTO_TEST_CASE(holds_back_a_partial_header_until_it_is_checked) {
  auto in = message(caf::io::basp::message_type::client_handshake, 10);
  BOOST_TEST((feed(bytes(in.begin(), in.begin() + 31)) == basp_verdict::ok));
  BOOST_TEST(out.empty());
  BOOST_TEST((feed(bytes(in.begin() + 31, in.end())) == basp_verdict::ok));
  BOOST_TEST(out == in);
  BOOST_TEST(framing.complete_messages() == 1u);
}

BOOST_AUTO_TEST_CASE(streams_a_payload_split_across_reads) {
  auto in = message(caf::io::basp::message_type::client_handshake, cap);
  for (std::size_t at = 0; at < in.size(); at += 100) {
    auto end = std::min(in.size(), at + 100);
    BOOST_TEST(
        (feed(bytes(in.begin() + at, in.begin() + end)) == basp_verdict::ok));
    BOOST_TEST(out.size() <= end);
  }
  BOOST_TEST(out == in);
  BOOST_TEST(framing.complete_messages() == 1u);
}

BOOST_AUTO_TEST_CASE(refuses_a_huge_payload_before_passing_its_header) {
  auto first = message(caf::io::basp::message_type::client_handshake, 5);
  auto hostile =
      caf_header(caf::io::basp::message_type::direct_message, 0xF0000000u);
  auto in = first;
  in.insert(in.end(), hostile.begin(), hostile.end());
  BOOST_TEST((feed(in) == basp_verdict::payload_too_large));
  BOOST_TEST(out == first);
  BOOST_TEST(framing.last_header().payload_len == 0xF0000000u);
  out.clear();
  BOOST_TEST((feed(first) == basp_verdict::payload_too_large));
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(refuses_a_server_handshake_without_payload_unpassed) {
  auto in = caf_header(caf::io::basp::message_type::server_handshake, 0);
  BOOST_TEST((feed(in) == basp_verdict::payload_mismatch));
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(refuses_a_server_handshake_after_the_client_one) {
  auto first = message(caf::io::basp::message_type::client_handshake, 5);
  auto server = message(caf::io::basp::message_type::server_handshake, 5);
  auto in = first;
  in.insert(in.end(), server.begin(), server.end());
  BOOST_TEST((feed(in) == basp_verdict::out_of_order));
  BOOST_TEST(out == first);
}

BOOST_AUTO_TEST_CASE(passes_an_accepting_nodes_handshake_and_messages) {
  basp_framing accepting_framing{cap, basp_end::accepting};
  auto in = message(caf::io::basp::message_type::server_handshake, 7);
  auto next = message(caf::io::basp::message_type::direct_message, 3);
  in.insert(in.end(), next.begin(), next.end());
  BOOST_TEST(
      (accepting_framing.feed(in.data(), in.size(), out) == basp_verdict::ok));
  BOOST_TEST(out == in);
  BOOST_TEST(accepting_framing.complete_messages() == 2u);
  auto client = message(caf::io::basp::message_type::client_handshake, 5);
  out.clear();
  BOOST_TEST((accepting_framing.feed(client.data(), client.size(), out) ==
              basp_verdict::out_of_order));
  BOOST_TEST(out.empty());
}

// CAF's middleman asks each node it links to for the first time for its
// spawn server; the answer would go to an actor the asking node's gate
// refuses, so the query is taken off, the connection kept.
BOOST_AUTO_TEST_CASE(takes_a_spawn_server_query_off_and_goes_on) {
  const auto named = caf::io::basp::header::named_receiver_flag;
  basp_framing gated{cap, basp_end::accepting, 13};
  auto handshake = message(caf::io::basp::message_type::server_handshake, 7);
  auto query = named_message(caf::atom("SpawnServ"), named, 45);
  auto to_cluster = message(caf::io::basp::message_type::direct_message, 3);
  auto in = handshake;
  in.insert(in.end(), query.begin(), query.end());
  in.insert(in.end(), to_cluster.begin(), to_cluster.end());
  for (std::size_t at = 0; at < in.size(); at += 10) {
    auto end = std::min(in.size(), at + 10);
    BOOST_TEST((gated.feed(in.data() + at, end - at, out) == basp_verdict::ok));
  }
  auto passed = handshake;
  passed.insert(passed.end(), to_cluster.begin(), to_cluster.end());
  BOOST_TEST(out == passed);
  BOOST_TEST(gated.complete_messages() == 3u);
  BOOST_TEST(gated.queries_taken_off() == 1u);
}

BOOST_AUTO_TEST_CASE(refuses_other_named_receivers_and_a_query_first) {
  const auto named = caf::io::basp::header::named_receiver_flag;
  auto handshake = message(caf::io::basp::message_type::server_handshake, 7);
  for (auto sent : {named_message(caf::atom("ConfigServ"), named, 8),
                    named_message(caf::atom("SpawnServ"), 0, 8)}) {
    basp_framing gated{cap, basp_end::accepting, 13};
    auto in = handshake;
    in.insert(in.end(), sent.begin(), sent.end());
    out.clear();
    BOOST_TEST((gated.feed(in.data(), in.size(), out) ==
                basp_verdict::wrong_receiver));
    BOOST_TEST(out == handshake);
  }
  basp_framing gated{cap, basp_end::accepting, 13};
  auto query = named_message(caf::atom("SpawnServ"), named, 8);
  out.clear();
  BOOST_TEST((gated.feed(query.data(), query.size(), out) ==
              basp_verdict::out_of_order));
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(refuses_an_unknown_operation_in_the_stream) {
  bytes garbage(basp_header_size, 0x41);  // "AAAA..."
  BOOST_TEST((feed(garbage) == basp_verdict::unknown_operation));
  BOOST_TEST(out.empty());
  BOOST_TEST(framing.complete_messages() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// Direct messages whose payloads CAF itself serializes, as its BASP
// instance does: the forwarding stack, then the message.
namespace {

struct content_fixture {
  caf::actor_system_config config;
  caf::actor_system system{config};
  basp_framing framing{cap, basp_end::dialing};
  bytes out;

  bytes payload_of(const caf::message& content,
                   std::vector<caf::strong_actor_ptr> stack = {}) {
    std::vector<char> buffer;
    caf::binary_serializer sink{system, buffer};
    BOOST_REQUIRE(!sink(stack, const_cast<caf::message&>(content)));
    return bytes(buffer.begin(), buffer.end());
  }

  static bytes direct(const bytes& payload) {
    auto all = caf_header(caf::io::basp::message_type::direct_message,
                          static_cast<std::uint32_t>(payload.size()));
    all.insert(all.end(), payload.begin(), payload.end());
    return all;
  }

  basp_verdict feed(const bytes& in) {
    return framing.feed(in.data(), in.size(), out);
  }

  // The connection's opening, so that direct messages may follow.
  void open() {
    BOOST_REQUIRE((feed(message(caf::io::basp::message_type::client_handshake,
                                8)) == basp_verdict::ok));
    out.clear();
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(basp_framing_content, content_fixture)

BOOST_AUTO_TEST_CASE(passes_an_ordinary_message_byte_by_byte) {
  open();
  auto in = direct(payload_of(
      caf::make_message(caf::atom("heartbeat"), std::string{"node"})));
  for (auto byte : in)
    BOOST_REQUIRE((feed(bytes{byte}) == basp_verdict::ok));
  BOOST_TEST(out == in);
  BOOST_TEST(framing.complete_messages() == 2u);
}

BOOST_AUTO_TEST_CASE(passes_a_message_shorter_than_the_prefix_it_reads) {
  open();
  auto in = direct(bytes{0x00, 0x00});
  auto heartbeat = message(caf::io::basp::message_type::heartbeat, 0);
  in.insert(in.end(), heartbeat.begin(), heartbeat.end());
  BOOST_TEST((feed(in) == basp_verdict::ok));
  BOOST_TEST(out == in);
  BOOST_TEST(framing.complete_messages() == 3u);
}

// CAF 0.17 ends the receiving actor on an exit message with reason
// kill, whatever its exit handler says.
BOOST_AUTO_TEST_CASE(refuses_an_exit_message_before_passing_any_of_it) {
  open();
  auto in = direct(
      payload_of(caf::make_message(caf::exit_msg{{}, caf::exit_reason::kill})));
  BOOST_TEST((feed(in) == basp_verdict::system_message));
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(refuses_a_down_message) {
  open();
  auto in = direct(payload_of(
      caf::make_message(caf::down_msg{{}, caf::exit_reason::normal})));
  BOOST_TEST((feed(in) == basp_verdict::system_message));
  BOOST_TEST(out.empty());
}

// An exit message beside another value is an ordinary message to CAF.
BOOST_AUTO_TEST_CASE(passes_an_exit_message_beside_another_value) {
  open();
  auto in = direct(payload_of(caf::make_message(
      caf::exit_msg{{}, caf::exit_reason::kill}, caf::atom("x"))));
  BOOST_TEST((feed(in) == basp_verdict::ok));
  BOOST_TEST(out == in);
}

// CAF's deserializer reads a size spelled in more bytes than needed.
BOOST_AUTO_TEST_CASE(refuses_an_exit_message_with_sizes_spelled_long) {
  open();
  auto payload =
      payload_of(caf::make_message(caf::exit_msg{{}, caf::exit_reason::kill}));
  BOOST_REQUIRE(payload[0] == 0x00 && payload[3] == 9);
  bytes spelled_long{0x80, 0x80, 0x00, payload[1], payload[2], 0x89, 0x00};
  spelled_long.insert(spelled_long.end(), payload.begin() + 4, payload.end());
  BOOST_TEST((feed(direct(spelled_long)) == basp_verdict::system_message));
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(refuses_a_message_with_a_forwarding_stack) {
  open();
  auto payload = payload_of(caf::make_message(caf::atom("x")));
  BOOST_REQUIRE(payload[0] == 0x00);
  payload[0] = 0x01;
  BOOST_TEST((feed(direct(payload)) == basp_verdict::forwarded_message));
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_SUITE_END()
