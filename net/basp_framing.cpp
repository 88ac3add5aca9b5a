#include "net/basp_framing.hpp"

#include <algorithm>
#include <optional>
#include <string_view>

#include <caf/atom.hpp>

namespace batchcast::net {

namespace {

std::uint32_t read_u32_big_endian(const std::uint8_t* bytes) {
  return static_cast<std::uint32_t>(bytes[0]) << 24 |
         static_cast<std::uint32_t>(bytes[1]) << 16 |
         static_cast<std::uint32_t>(bytes[2]) << 8 |
         static_cast<std::uint32_t>(bytes[3]);
}

std::uint64_t read_u64_big_endian(const std::uint8_t* bytes) {
  return static_cast<std::uint64_t>(read_u32_big_endian(bytes)) << 32 |
         read_u32_big_endian(bytes + 4);
}

// caf/message_id.hpp: bits 60 and 61 of an id are its category, and
// categories 2 and 3 are up- and downstream messages.
constexpr std::uint64_t category_offset = 60;
constexpr std::uint64_t category_mask = 3;
constexpr std::uint64_t first_stream_category = 2;

// caf/io/basp/header.hpp: with this flag, dest_actor holds the name (an
// atom) of a registered actor rather than an actor id.
constexpr std::uint8_t named_receiver_flag = 0x01;
constexpr auto spawn_server_name =
    static_cast<std::uint64_t>(caf::atom("SpawnServ"));

// A varint as CAF 0.17's binary serializer writes sizes (7 bits a byte,
// least significant first, the high bit set on all but the last byte),
// read as its deserializer does, which also takes longer spellings of a
// number than needed ("\x89\x00" for 9). Nothing when `size` bytes end
// before it does, or it runs past 5 bytes.
std::optional<std::uint32_t> read_varint(const std::uint8_t* bytes,
                                         std::size_t size, std::size_t& used) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < size && i < 5; ++i) {
    value |= static_cast<std::uint64_t>(bytes[i] & 0x7f) << (7 * i);
    if ((bytes[i] & 0x80) == 0) {
      used = i + 1;
      return static_cast<std::uint32_t>(value);
    }
  }
  return std::nullopt;
}

// The type names of CAF's exit and down messages alone: what the
// receiving runtime acts on itself (caf/type_nr.hpp).
constexpr std::string_view exit_message_types = "@<>+@exit";
constexpr std::string_view down_message_types = "@<>+@down";

}  // namespace

const char* to_string(basp_verdict verdict) {
  switch (verdict) {
    case basp_verdict::ok:
      return "ok";
    case basp_verdict::unknown_operation:
      return "unknown operation";
    case basp_verdict::payload_too_large:
      return "payload too large";
    case basp_verdict::payload_mismatch:
      return "payload length wrong for its operation";
    case basp_verdict::routed_message:
      return "routed message (batchcast nodes connect directly)";
    case basp_verdict::wrong_receiver:
      return "direct message to an actor other than the cluster's";
    case basp_verdict::forwarded_message:
      return "forwarded message (batchcast nodes forward none)";
    case basp_verdict::system_message:
      return "exit or down message (only a node's own runtime makes those)";
    case basp_verdict::stream_message:
      return "stream message (batchcast uses none)";
    case basp_verdict::out_of_order:
      return "operation out of order";
  }
  return "unknown";
}

basp_header_fields read_basp_header(const std::uint8_t* bytes) {
  basp_header_fields fields;
  fields.operation = bytes[0];
  fields.flags = bytes[3];
  fields.payload_len = read_u32_big_endian(bytes + 4);
  fields.operation_data = read_u64_big_endian(bytes + 8);
  fields.dest_actor = read_u64_big_endian(bytes + 24);
  return fields;
}

basp_verdict check_basp_header(const basp_header_fields& header,
                               std::uint32_t max_payload) {
  if (header.operation > basp_last_operation)
    return basp_verdict::unknown_operation;
  if (header.payload_len > max_payload)
    return basp_verdict::payload_too_large;
  bool carries_payload = header.operation != basp_heartbeat;
  if ((header.payload_len > 0) != carries_payload)
    return basp_verdict::payload_mismatch;
  if (header.operation == basp_routed_message)
    return basp_verdict::routed_message;
  bool is_message = header.operation == basp_direct_message ||
                    header.operation == basp_routed_message;
  auto category = header.operation_data >> category_offset & category_mask;
  if (is_message && category >= first_stream_category)
    return basp_verdict::stream_message;
  return basp_verdict::ok;
}

basp_verdict check_basp_content(const std::uint8_t* prefix, std::size_t size) {
  std::size_t used = 0;
  auto stack = read_varint(prefix, size, used);
  if (!stack)
    return basp_verdict::ok;
  if (*stack != 0)
    return basp_verdict::forwarded_message;
  std::size_t at = used + 2;  // the 16-bit field
  if (at > size)
    return basp_verdict::ok;
  auto name_size = read_varint(prefix + at, size - at, used);
  if (!name_size)
    return basp_verdict::ok;
  at += used;
  if (at + *name_size > size)
    return basp_verdict::ok;  // longer than any name looked for
  std::string_view types{reinterpret_cast<const char*>(prefix + at),
                         *name_size};
  if (types == exit_message_types || types == down_message_types)
    return basp_verdict::system_message;
  return basp_verdict::ok;
}

bool is_spawn_server_query(const basp_header_fields& header) {
  return header.operation == basp_direct_message &&
         (header.flags & named_receiver_flag) != 0 &&
         header.dest_actor == spawn_server_name;
}

basp_verdict check_basp_receiver(const basp_header_fields& header,
                                 std::uint64_t only_receiver) {
  if (header.operation == basp_direct_message && only_receiver != 0 &&
      header.dest_actor != only_receiver)
    return basp_verdict::wrong_receiver;
  return basp_verdict::ok;
}

basp_verdict check_basp_order(const basp_header_fields& header,
                              std::uint64_t messages_before, basp_end end) {
  auto own =
      end == basp_end::dialing ? basp_client_handshake : basp_server_handshake;
  auto other =
      end == basp_end::dialing ? basp_server_handshake : basp_client_handshake;
  if (header.operation == other ||
      (messages_before == 0 && header.operation != own))
    return basp_verdict::out_of_order;
  return basp_verdict::ok;
}

basp_verdict basp_framing::feed(const std::uint8_t* data, std::size_t size,
                                std::vector<std::uint8_t>& out) {
  std::size_t used = 0;
  while (verdict_ == basp_verdict::ok && used < size) {
    if (prefix_wanted_ > 0) {
      auto take = std::min(prefix_wanted_ - prefix_filled_, size - used);
      std::copy_n(data + used, take, prefix_.begin() + prefix_filled_);
      prefix_filled_ += take;
      used += take;
      if (prefix_filled_ == prefix_wanted_)
        take_content_prefix(out);
      continue;
    }
    if (in_payload_) {
      auto take = std::min<std::size_t>(payload_left_, size - used);
      if (!taking_off_)
        out.insert(out.end(), data + used, data + used + take);
      used += take;
      payload_left_ -= static_cast<std::uint32_t>(take);
      if (payload_left_ == 0) {
        in_payload_ = false;
        ++complete_messages_;
      }
      continue;
    }
    auto take = std::min(basp_header_size - header_filled_, size - used);
    std::copy_n(data + used, take, header_.begin() + header_filled_);
    header_filled_ += take;
    used += take;
    if (header_filled_ == basp_header_size)
      take_header(out);
  }
  return verdict_;
}

void basp_framing::take_header(std::vector<std::uint8_t>& out) {
  header_filled_ = 0;
  last_header_ = read_basp_header(header_.data());
  verdict_ = check_basp_header(last_header_, max_payload_);
  taking_off_ =
      verdict_ == basp_verdict::ok && is_spawn_server_query(last_header_);
  if (verdict_ == basp_verdict::ok && !taking_off_)
    verdict_ = check_basp_receiver(last_header_, only_receiver_);
  if (verdict_ == basp_verdict::ok)
    verdict_ = check_basp_order(last_header_, complete_messages_, end_);
  if (verdict_ != basp_verdict::ok)
    return;
  largest_payload_ = std::max(largest_payload_, last_header_.payload_len);
  payload_left_ = last_header_.payload_len;
  in_payload_ = payload_left_ > 0;
  if (taking_off_) {
    ++queries_taken_off_;
  } else if (last_header_.operation == basp_direct_message) {
    // Held back with the start of its payload (a direct message has one).
    prefix_filled_ = 0;
    prefix_wanted_ = std::min<std::size_t>(payload_left_, basp_content_prefix);
    return;
  } else {
    out.insert(out.end(), header_.begin(), header_.end());
  }
  if (!in_payload_)
    ++complete_messages_;
}

void basp_framing::take_content_prefix(std::vector<std::uint8_t>& out) {
  auto taken = prefix_wanted_;
  prefix_wanted_ = 0;
  verdict_ = check_basp_content(prefix_.data(), taken);
  if (verdict_ != basp_verdict::ok)
    return;
  out.insert(out.end(), header_.begin(), header_.end());
  out.insert(out.end(), prefix_.begin(), prefix_.begin() + taken);
  payload_left_ -= static_cast<std::uint32_t>(taken);
  if (payload_left_ == 0) {
    in_payload_ = false;
    ++complete_messages_;
  }
}

}  // namespace batchcast::net
