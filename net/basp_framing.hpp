// Follows the framing of CAF 0.17's BASP on the bytes a node sends to
// this node's middleman, so that the node gate (node_gate.hpp) can refuse
// a message before the middleman reads it: CAF takes the payload length
// in a message's header on trust and allocates that much before reading
// the payload, so a single header claiming 4 GB is enough to exhaust the
// node's memory.
//
// A BASP message is a 32-byte header and `payload_len` bytes of payload.
// The header, as CAF's binary serializer writes it (integers in network
// byte order, big-endian):
//
//   offset  0  operation       u8   (caf/io/basp/message_type.hpp, 0..6)
//   offset  1  padding         u8 x 2
//   offset  3  flags           u8
//   offset  4  payload_len     u32
//   offset  8  operation_data  u64
//   offset 16  source_actor    u64
//   offset 24  dest_actor      u64
//
// CAF checks little more of a header than the gate does below, and
// dereferences a missing payload: a server_handshake header with a
// payload_len of 0 (and any operation_data) ends the process with a
// segmentation fault, on either end of a connection. So the gates also
// hold every message to the rules CAF's own nodes follow:
//
// - every operation but heartbeat carries a payload, and heartbeat none;
// - no routed message: batchcast nodes talk over direct connections
//   only, and a routed message names its source node itself (one naming
//   the receiving node as its own source cut that node's cluster actor
//   off for good);
// - a direct message goes to the one actor nodes talk to, the cluster
//   actor, when the gate knows its id: CAF delivers a direct message to
//   whichever local actor its header names;
// - but for one direct message CAF's own middleman sends once to each
//   node it links to for the first time: a query for this node's spawn
//   server (to the named receiver SpawnServ), whose answer would go to an
//   actor the other node's gate cannot know and would refuse. The gate
//   takes that query off the connection without closing it; the asking
//   actor gives up after a few minutes, and batchcast spawns nothing
//   remotely;
// - a direct message is never a stream message: CAF 0.17 takes
//   the content of a message whose id (operation_data) has the up- or
//   downstream category for its stream types without checking, and one
//   such message with another content ended a node with a segmentation
//   fault; batchcast does not use CAF's streams;
// - a direct message carries no CAF system message for the receiver's
//   runtime to act on, an exit or a down message: nodes only ever make
//   those for their own actors, and CAF 0.17 ends any actor, whatever
//   its handlers, on an exit message with reason `kill`. The gate holds
//   a direct message's header back until the start of its payload shows
//   its forwarding stack (empty: batchcast forwards nothing across nodes)
//   and the type names of its content;
// - on a connection the node dialed, its first message is a
//   client_handshake (it answers the server_handshake the middleman
//   sends on accept; CAF 0.17 sends the client_handshake more than once),
//   and a server_handshake never comes from it;
// - on a connection the node accepted, the mirror image: its first
//   message is a server_handshake, and a client_handshake never comes
//   from it.
//
// Pure: no I/O, no clock; one instance per connection, used on that
// connection's strand.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace batchcast::net {

inline constexpr std::size_t basp_header_size = 32;

// The operation codes of CAF 0.17 (caf/io/basp/message_type.hpp) the
// gate tells apart.
inline constexpr std::uint8_t basp_server_handshake = 0x00;
inline constexpr std::uint8_t basp_client_handshake = 0x01;
inline constexpr std::uint8_t basp_direct_message = 0x02;
inline constexpr std::uint8_t basp_routed_message = 0x03;
inline constexpr std::uint8_t basp_heartbeat = 0x06;
// The largest BASP operation code CAF 0.17 knows (heartbeat).
inline constexpr std::uint8_t basp_last_operation = basp_heartbeat;

// Which end of the connection the node whose bytes are checked is.
enum class basp_end {
  dialing,    // it connected to this node's port (node_gate.hpp)
  accepting,  // this node connected to it (dial_gate.hpp)
};

enum class basp_verdict {
  ok,                 // a header (or payload bytes) the middleman may read
  unknown_operation,  // an operation code CAF 0.17 does not define
  payload_too_large,  // payload_len above the gate's cap
  payload_mismatch,   // a payload where the operation has none, or none
                      // where it needs one
  stream_message,     // a message of CAF's stream categories
  routed_message,     // a routed message
  wrong_receiver,     // a direct message to another actor than allowed
  forwarded_message,  // a direct message with a forwarding stack
  system_message,     // a direct message carrying an exit or down message
  out_of_order,       // not the handshake its end sends first, or the
                      // other end's handshake
};

const char* to_string(basp_verdict verdict);

struct basp_header_fields {
  std::uint8_t operation = 0;
  std::uint32_t payload_len = 0;
  // A message's id for direct and routed messages (caf/message_id.hpp).
  std::uint64_t operation_data = 0;
  std::uint64_t dest_actor = 0;
  std::uint8_t flags = 0;
};

// Reads the fields the gate checks from the first basp_header_size bytes
// at `bytes`.
basp_header_fields read_basp_header(const std::uint8_t* bytes);

// Whether a header with these fields may pass to the middleman, seen on
// its own: its operation, its payload length against the cap and against
// what the operation carries, and a message's category.
basp_verdict check_basp_header(const basp_header_fields& header,
                               std::uint32_t max_payload);

// Whether a header check_basp_header passed is addressed to
// `only_receiver`, when it is a direct message and that is not 0.
basp_verdict check_basp_receiver(const basp_header_fields& header,
                                 std::uint64_t only_receiver);

// How much of a direct message's payload check_basp_content needs: its
// forwarding stack's length and its type names, each a varint of up to
// 5 bytes, a 2-byte field between, and the longest name it looks for.
inline constexpr std::size_t basp_content_prefix = 5 + 2 + 5 + 9;

// Whether the start of a direct message's payload (`size` bytes, all of
// it when the payload is shorter than basp_content_prefix) may pass: CAF
// 0.17 writes the forwarding stack (a varint count, then its entries),
// a 16-bit field, and the message's type names as one string (a varint
// length, then "@<>+@atom+@str" and the like) before the values. A
// prefix too short or too odd to read is CAF's to refuse.
basp_verdict check_basp_content(const std::uint8_t* prefix, std::size_t size);

// Whether a header is CAF's query for this node's spawn server, which
// the gate takes off the connection (see above).
bool is_spawn_server_query(const basp_header_fields& header);

// Whether a header check_basp_header passed may come at this point of a
// connection, from a node at its `end` of it: `messages_before` complete
// messages came from that node before it.
basp_verdict check_basp_order(const basp_header_fields& header,
                              std::uint64_t messages_before, basp_end end);

class basp_framing {
 public:
  // `only_receiver`: the one local actor direct messages may go to; 0
  // for any.
  basp_framing(std::uint32_t max_payload, basp_end end,
               std::uint64_t only_receiver = 0)
      : max_payload_{max_payload}, end_{end}, only_receiver_{only_receiver} {}

  // Takes `size` bytes the client sent, in order, and appends to `out`
  // the ones that may go on to the middleman: checked headers and the
  // payload bytes behind them. The bytes of a header not yet complete are
  // held back, and a direct message's header until basp_content_prefix
  // bytes of its payload came, so `out` grows by at most `size` +
  // basp_header_size + basp_content_prefix. After a verdict other than ok
  // nothing more is appended, that call's bytes from the refused header on
  // included, and every later call returns the same verdict.
  basp_verdict feed(const std::uint8_t* data, std::size_t size,
                    std::vector<std::uint8_t>& out);

  // Messages whose header and whole payload have been fed, those taken
  // off the connection included.
  std::uint64_t complete_messages() const { return complete_messages_; }
  // Spawn server queries taken off the connection (not appended to `out`).
  std::uint64_t queries_taken_off() const { return queries_taken_off_; }
  // The header that was refused, or the last one taken.
  const basp_header_fields& last_header() const { return last_header_; }
  // The largest payload_len taken so far.
  std::uint32_t largest_payload() const { return largest_payload_; }

 private:
  void take_header(std::vector<std::uint8_t>& out);
  void take_content_prefix(std::vector<std::uint8_t>& out);

  const std::uint32_t max_payload_;
  const basp_end end_;
  const std::uint64_t only_receiver_;
  std::array<std::uint8_t, basp_header_size> header_{};
  std::size_t header_filled_ = 0;
  std::uint32_t payload_left_ = 0;
  bool in_payload_ = false;
  bool taking_off_ = false;  // the payload is a query's, not passed on
  // A direct message's header held back with the start of its payload
  // until check_basp_content has read it.
  std::array<std::uint8_t, basp_content_prefix> prefix_{};
  std::size_t prefix_filled_ = 0;
  std::size_t prefix_wanted_ = 0;
  basp_verdict verdict_ = basp_verdict::ok;
  basp_header_fields last_header_;
  std::uint64_t complete_messages_ = 0;
  std::uint64_t queries_taken_off_ = 0;
  std::uint32_t largest_payload_ = 0;
};

}  // namespace batchcast::net
