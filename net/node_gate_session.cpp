#include "net/node_gate_session.hpp"

#include <algorithm>

#include <boost/asio/write.hpp>

#include "common/log.hpp"

namespace batchcast::net {

namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto instance = logger("net");
  return instance;
}

}  // namespace

node_gate_session::node_gate_session(tcp::socket client, std::uint64_t id,
                                     std::string peer,
                                     connection_limits::slot slot,
                                     std::shared_ptr<gate_shared> shared)
    : shared_{std::move(shared)},
      slot_{std::move(slot)},
      client_{std::move(client)},
      middleman_{client_.get_executor()},
      timer_{client_.get_executor()},
      pace_timer_{client_.get_executor()},
      id_{id},
      peer_{std::move(peer)},
      framing_{shared_->limits.max_payload} {
  to_middleman_.reserve(chunk_bytes + basp_header_size);
}

void node_gate_session::start() {
  accepted_ = clock::now();
  last_heard_ = accepted_;
  arm_deadline();
  tcp::endpoint middleman{asio::ip::address_v4::loopback(),
                          shared_->limits.middleman_port};
  middleman_.async_connect(
      middleman,
      [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
}

void node_gate_session::on_connect(error_code ec) {
  if (closed_)
    return;
  if (ec) {
    log()->warn(
        "node gate: conn={} peer={} cannot reach the middleman at "
        "127.0.0.1:{}: {}; closing the connection",
        id_, peer_, shared_->limits.middleman_port, ec.message());
    return close("middleman unreachable");
  }
  log()->debug("node gate: conn={} peer={} relayed to the middleman", id_,
               peer_);
  do_read_client();
  do_read_middleman();
}

// ---- node -> middleman: checked, then relayed -------------------------

void node_gate_session::do_read_client() {
  client_.async_read_some(
      asio::buffer(from_client_),
      [self = shared_from_this()](error_code ec, std::size_t size) {
        self->on_read_client(ec, size);
      });
}

void node_gate_session::on_read_client(error_code ec, std::size_t size) {
  if (closed_)
    return;
  if (ec)
    return close("node closed: " + ec.message());
  last_heard_ = clock::now();
  to_middleman_.clear();
  auto verdict = framing_.feed(from_client_.data(), size, to_middleman_);
  if (verdict != basp_verdict::ok)
    return refuse(verdict);
  auto messages = framing_.complete_messages() - messages_charged_;
  messages_charged_ = framing_.complete_messages();
  if (to_middleman_.empty())
    return do_read_client();  // only part of a header so far
  forward_when_allowed(messages);
}

void node_gate_session::forward_when_allowed(std::uint64_t messages) {
  const auto& rate = shared_->limits.messages;
  if (messages > 0 &&
      !message_rate_.take(clock::now(), static_cast<float>(messages), rate)) {
    // Waiting here is not the node's silence: its bytes wait in the
    // socket for this node to read them.
    auto wait = std::chrono::duration<double>(messages / rate.per_second);
    pace_timer_.expires_after(
        std::chrono::duration_cast<clock::duration>(wait));
    pace_timer_.async_wait(
        [self = shared_from_this(), messages](error_code ec) {
          if (self->closed_ || ec == asio::error::operation_aborted)
            return;
          self->last_heard_ = clock::now();
          self->forward_when_allowed(messages);
        });
    return;
  }
  asio::async_write(
      middleman_, asio::buffer(to_middleman_),
      [self = shared_from_this()](error_code write_ec, std::size_t) {
        self->on_write_middleman(write_ec);
      });
}

void node_gate_session::on_write_middleman(error_code ec) {
  if (closed_)
    return;
  if (ec)
    return close("middleman write failed: " + ec.message());
  do_read_client();
}

// ---- middleman -> node: relayed as is ---------------------------------

void node_gate_session::do_read_middleman() {
  middleman_.async_read_some(
      asio::buffer(from_middleman_),
      [self = shared_from_this()](error_code ec, std::size_t size) {
        self->on_read_middleman(ec, size);
      });
}

void node_gate_session::on_read_middleman(error_code ec, std::size_t size) {
  if (closed_)
    return;
  if (ec)
    return close("middleman closed: " + ec.message());
  writing_since_ = clock::now();
  asio::async_write(
      client_, asio::buffer(from_middleman_.data(), size),
      [self = shared_from_this()](error_code write_ec, std::size_t) {
        self->on_write_client(write_ec);
      });
}

void node_gate_session::on_write_client(error_code ec) {
  if (closed_)
    return;
  writing_since_.reset();
  if (ec)
    return close("node write failed: " + ec.message());
  do_read_middleman();
}

// ---- deadlines --------------------------------------------------------

// Until the first message is complete the node has first_message_timeout
// from the accept; then idle_timeout from its last bytes; and a write to
// it may stay pending for idle_timeout. The timer is not moved on every
// read or write: when it fires early it is set again.
node_gate_session::clock::time_point node_gate_session::deadline() const {
  const auto& limits = shared_->limits;
  auto end = last_heard_ + limits.idle_timeout;
  if (framing_.complete_messages() == 0)
    end = std::min(end, accepted_ + limits.first_message_timeout);
  if (writing_since_)
    end = std::min(end, *writing_since_ + limits.idle_timeout);
  return end;
}

void node_gate_session::arm_deadline() {
  timer_.expires_at(deadline());
  timer_.async_wait(
      [self = shared_from_this()](error_code ec) { self->on_deadline(ec); });
}

void node_gate_session::on_deadline(error_code ec) {
  if (closed_ || ec == asio::error::operation_aborted)
    return;
  auto now = clock::now();
  if (now < deadline())
    return arm_deadline();
  if (writing_since_ && now >= *writing_since_ + shared_->limits.idle_timeout) {
    shared_->counters->node_gate_closed.add(
        static_cast<std::size_t>(node_gate_close::not_reading));
    warn_or_debug(fmt::format(
        "node gate: conn={} peer={} read nothing of what this node sent it "
        "for {} ms; closed (a batchcast node reads all the time; this one "
        "is stuck, or sends requests without reading the answers)",
        id_, peer_, shared_->limits.idle_timeout.count()));
    return close("not reading");
  }
  if (framing_.complete_messages() == 0) {
    shared_->counters->node_gate_closed.add(
        static_cast<std::size_t>(node_gate_close::no_first_message));
    warn_or_debug(fmt::format(
        "node gate: conn={} peer={} sent no complete BASP message within "
        "{} ms of connecting; closed (not a batchcast node, or one that "
        "stalled)",
        id_, peer_, shared_->limits.first_message_timeout.count()));
    return close("no first message");
  }
  shared_->counters->node_gate_closed.add(
      static_cast<std::size_t>(node_gate_close::idle));
  // A frozen or cut-off peer ends this way too; its link is let go by the
  // cluster's own silence check, which says so at info.
  log()->info(
      "node gate: conn={} peer={} sent nothing for {} ms; closed "
      "(heartbeats keep a live node's connection busy)",
      id_, peer_, shared_->limits.idle_timeout.count());
  close("idle");
}

// ---- refusing and closing ---------------------------------------------

void node_gate_session::refuse(basp_verdict verdict) {
  const auto& header = framing_.last_header();
  auto reason = verdict == basp_verdict::payload_too_large
                    ? node_gate_close::payload_too_large
                : verdict == basp_verdict::unknown_operation
                    ? node_gate_close::unknown_operation
                    : node_gate_close::malformed;
  shared_->counters->node_gate_closed.add(static_cast<std::size_t>(reason));
  warn_or_debug(fmt::format(
      "node gate: conn={} peer={} refused after {} messages: {} (operation "
      "{}, payload_len {} bytes, cap {}); closed before the middleman read "
      "it. Something that is not a batchcast node of this version reaches "
      "the node port",
      id_, peer_, framing_.complete_messages(), to_string(verdict),
      static_cast<unsigned>(header.operation), header.payload_len,
      shared_->limits.max_payload));
  close(to_string(verdict));
}

void node_gate_session::warn_or_debug(const std::string& line) {
  if (auto held_back = shared_->refusals_logged.admit())
    log()->warn("{}{}", line, log_throttle::held_back_note(*held_back));
  else
    log()->debug("{}", line);
}

void node_gate_session::close(const std::string& why) {
  if (closed_)
    return;
  closed_ = true;
  log()->debug(
      "node gate: conn={} peer={} closed after {} messages (largest payload "
      "{} bytes): {}",
      id_, peer_, framing_.complete_messages(), framing_.largest_payload(),
      why);
  error_code ignored;
  timer_.cancel();
  pace_timer_.cancel();
  client_.shutdown(tcp::socket::shutdown_both, ignored);
  client_.close(ignored);
  middleman_.shutdown(tcp::socket::shutdown_both, ignored);
  middleman_.close(ignored);
}

}  // namespace batchcast::net
