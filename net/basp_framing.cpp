#include "net/basp_framing.hpp"

#include <algorithm>

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
  if (taking_off_)
    ++queries_taken_off_;
  else
    out.insert(out.end(), header_.begin(), header_.end());
  largest_payload_ = std::max(largest_payload_, last_header_.payload_len);
  payload_left_ = last_header_.payload_len;
  in_payload_ = payload_left_ > 0;
  if (!in_payload_)
    ++complete_messages_;
}

}  // namespace batchcast::net
