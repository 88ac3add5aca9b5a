#include "net/node_gate_session.hpp"

#include <algorithm>
#include <exception>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "common/host_port.hpp"
#include "common/log.hpp"
#include "common/throttled_log.hpp"
#include "net/listener.hpp"
#include "net/own_connection.hpp"

namespace batchcast::net {

namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto instance = logger("net");
  return instance;
}

}  // namespace

std::shared_ptr<listener> listen_for_gate(
    asio::io_context& context, const std::string& host, std::uint16_t port,
    std::size_t max_connections, connection_limits::wording words,
    const std::shared_ptr<gate_shared>& shared) {
  // No per-address cap: every peer may sit behind one address (a NAT, or
  // loopback in tests). Refusals are closed at accept, never answered:
  // the middleman's handshake is all a node would understand.
  shared->cap = std::make_shared<connection_limits>(
      connection_limits::caps{max_connections, 0, 0},
      std::function<void(const std::string&)>{},
      std::function<connection_limits::clock::time_point()>{},
      std::move(words));
  auto gate = std::make_shared<listener>(
      context, host, port, shared->name,
      [shared](tcp::socket socket, std::uint64_t id, std::string peer,
               connection_limits::slot slot) {
        std::make_shared<node_gate_session>(
            std::move(socket), id, std::move(peer), std::move(slot), shared)
            ->start();
      });
  gate->cap_connections(
      *shared->cap, std::string{}, [counters = shared->counters] {
        counters->node_gate_closed.add(
            static_cast<std::size_t>(node_gate_close::connection_cap));
      });
  return gate;
}

node_gate_session::node_gate_session(tcp::socket accepted, std::uint64_t id,
                                     std::string peer,
                                     connection_limits::slot slot,
                                     std::shared_ptr<gate_shared> shared)
    : shared_{std::move(shared)},
      slot_{std::move(slot)},
      node_{accepted.get_executor()},
      middleman_{accepted.get_executor()},
      resolver_{accepted.get_executor()},
      timer_{accepted.get_executor()},
      pace_timer_{accepted.get_executor()},
      id_{id},
      // A dial gate's accepted socket is this node's middleman; the log
      // names the peer instead.
      peer_{shared_->accepted == basp_end::dialing
                ? std::move(peer)
                : host_and_port(shared_->target_host, shared_->target_port)},
      framing_{shared_->limits.max_payload, shared_->accepted,
               shared_->limits.cluster_actor} {
  // The socket accepted is the other node on the node gate, this node's
  // middleman on a dial gate; the session connects the other one.
  if (shared_->accepted == basp_end::dialing)
    node_ = std::move(accepted);
  else
    middleman_ = std::move(accepted);
  to_middleman_.reserve(chunk_bytes + basp_header_size);
}

tcp::socket& node_gate_session::connecting_socket() {
  return shared_->accepted == basp_end::dialing ? middleman_ : node_;
}

void node_gate_session::start() {
  started_ = clock::now();
  last_heard_ = started_;
  arm_deadline();
  try {
    greeting_.emplace(shared_->cluster_secret,
                      shared_->accepted == basp_end::dialing
                          ? cluster_handshake::end::dialed
                          : cluster_handshake::end::dialing);
  } catch (const std::exception& e) {
    log()->error("{}: conn={} peer={} cannot greet: {}; closing", shared_->name,
                 id_, peer_, e.what());
    return close(e.what());
  }
  // The node gate greets the node that dialed it before it connects to
  // the middleman; a dial gate connects to the peer first.
  if (shared_->accepted == basp_end::dialing) {
    if (auto pushed = shared_->greetings->enter(shared_from_this()))
      asio::post(pushed->node_.get_executor(),
                 [pushed, room = shared_->greetings->room()] {
                   pushed->push_out(room);
                 });
    read_hello();
  } else if (from_this_process()) {
    // A new attempt: whatever closed the last one no longer explains
    // this one's end unless it happens again.
    note_for_peer({});
    connect();
  }
}

bool node_gate_session::from_this_process() {
  std::string why;
  auto owner = owner_of(middleman_, why);
  if (owner == connection_owner::this_process)
    return true;
  error_code ignored;
  auto client = middleman_.remote_endpoint(ignored);
  if (owner == connection_owner::gone) {
    // The client left before it could be looked up: nothing to relay,
    // and no sign of whose it was (this node's middleman gives up on a
    // connection too when its peer goes away).
    log()->debug("{}: conn={} client left before it was checked: {}",
                 shared_->name, id_, why);
    close("client left");
    return false;
  }
  shared_->counters->node_gate_closed.add(
      static_cast<std::size_t>(node_gate_close::foreign));
  if (owner == connection_owner::another_process)
    warn_or_debug(fmt::format(
        "{}: conn={} a connection from 127.0.0.1:{} that is not this "
        "node's middleman (another process on this machine); closed before "
        "it reached the peer: only this node may greet its peers with the "
        "cluster secret",
        shared_->name, id_, client.port()));
  else
    warn_or_debug(fmt::format(
        "{}: conn={} cannot tell whether the connection from 127.0.0.1:{} "
        "is this node's middleman ({}); closed before it reached the peer",
        shared_->name, id_, client.port(), why));
  close("not this process");
  return false;
}

// ---- the greeting -----------------------------------------------------

void node_gate_session::read_hello() {
  asio::async_read(node_, asio::buffer(hello_),
                   [self = shared_from_this()](error_code ec, std::size_t) {
                     self->on_hello(ec);
                   });
}

void node_gate_session::on_hello(error_code ec) {
  if (closed_)
    return;
  if (ec)
    return close("node closed before its hello: " + ec.message());
  auto verdict = greeting_->answer_hello(hello_, answer_);
  if (verdict != cluster_handshake_verdict::ok)
    return refuse_greeting(verdict);
  asio::async_write(
      node_, asio::buffer(answer_),
      [self = shared_from_this()](error_code write_ec, std::size_t) {
        if (self->closed_)
          return;
        if (write_ec)
          return self->close("answer write failed: " + write_ec.message());
        asio::async_read(self->node_, asio::buffer(self->proof_),
                         [self](error_code read_ec, std::size_t) {
                           self->on_proof(read_ec);
                         });
      });
}

void node_gate_session::on_proof(error_code ec) {
  if (closed_)
    return;
  if (ec)
    return close("node closed before its proof: " + ec.message());
  auto verdict = greeting_->check_proof(proof_);
  if (verdict != cluster_handshake_verdict::ok)
    return refuse_greeting(verdict);
  greeted_ = true;
  shared_->greetings->leave(this);
  connect();
}

void node_gate_session::send_hello() {
  hello_ = greeting_->make_hello();
  asio::async_write(
      node_, asio::buffer(hello_),
      [self = shared_from_this()](error_code ec, std::size_t) {
        if (self->closed_)
          return;
        if (ec)
          return self->close("hello write failed: " + ec.message());
        asio::async_read(self->node_, asio::buffer(self->answer_),
                         [self](error_code read_ec, std::size_t) {
                           self->on_answer(read_ec);
                         });
      });
}

void node_gate_session::on_answer(error_code ec) {
  if (closed_)
    return;
  if (ec) {
    note_for_peer(
        "it closed the connection before answering the greeting (its node "
        "port is full, or what answers there is no batchcast node)");
    return close("peer closed before its answer: " + ec.message());
  }
  auto verdict = greeting_->check_answer(answer_, proof_);
  if (verdict == cluster_handshake_verdict::not_a_node)
    return refuse_greeting(verdict);
  // Sent even when the peer's proof failed: the peer then logs that the
  // secrets differ too, where its operator looks.
  asio::async_write(
      node_, asio::buffer(proof_),
      [self = shared_from_this(), verdict](error_code write_ec, std::size_t) {
        if (self->closed_)
          return;
        if (verdict != cluster_handshake_verdict::ok)
          return self->refuse_greeting(verdict);
        if (write_ec)
          return self->close("proof write failed: " + write_ec.message());
        self->greeted_ = true;
        self->note_for_peer({});
        if (self->shared_->refusals)
          self->shared_->refusals->passed(self->shared_->peer_index);
        self->relay();
      });
}

void node_gate_session::refuse_greeting(cluster_handshake_verdict verdict) {
  shared_->counters->node_gate_closed.add(
      static_cast<std::size_t>(node_gate_close::unauthenticated));
  auto closed = shared_->accepted == basp_end::dialing
                    ? "closed before it reached the middleman"
                    : "closed before the middleman read any of it; this "
                      "node will try again with backoff";
  std::string why =
      verdict == cluster_handshake_verdict::not_a_node
          ? "what answers there did not greet as a batchcast node of this "
            "version"
          : "its gate did not prove it holds this node's cluster secret: the "
            "two nodes' secrets differ, another program answers there, or "
            "the greeting's bytes were damaged on the way";
  auto line =
      verdict == cluster_handshake_verdict::not_a_node
          ? fmt::format(
                "{}: conn={} peer={} did not greet as a batchcast node of "
                "this version; {}. Something other than a node at that "
                "address, or a node of another batchcast version",
                shared_->name, id_, peer_, closed)
          : fmt::format(
                "{}: conn={} peer={} did not prove it holds this node's "
                "cluster secret; {}. A node whose cluster secret "
                "(--cluster-secret-file or BATCHCAST_CLUSTER_SECRET) differs "
                "from this one's, something else at that address, or bytes "
                "damaged on the way",
                shared_->name, id_, peer_, closed);
  warn_or_debug(line, why);
  note_for_peer(std::move(why));
  close(to_string(verdict));
}

void node_gate_session::push_out(std::size_t room) {
  if (closed_ || greeted_)
    return;
  shared_->counters->node_gate_closed.add(
      static_cast<std::size_t>(node_gate_close::pushed_out));
  warn_or_debug(
      fmt::format(
          "{}: conn={} peer={} closed while still greeting, to make room: more "
          "than {} connections to the node port were greeting at once and this "
          "was the oldest (many connections that do not greet: a scan, or a "
          "flood meant to keep nodes out)",
          shared_->name, id_, peer_, room),
      "pushed out");
  close("pushed out while greeting");
}

// ---- connecting and relaying ------------------------------------------

void node_gate_session::connect() {
  // A peer's address may be a name; the middleman's is 127.0.0.1.
  resolver_.async_resolve(
      shared_->target_host, std::to_string(shared_->target_port),
      [self = shared_from_this()](error_code ec,
                                  tcp::resolver::results_type endpoints) {
        self->on_resolve(ec, std::move(endpoints));
      });
}

void node_gate_session::on_resolve(error_code ec,
                                   tcp::resolver::results_type endpoints) {
  if (closed_)
    return;
  if (ec)
    return on_connect(ec);
  asio::async_connect(
      connecting_socket(), endpoints,
      [self = shared_from_this()](error_code connect_ec, const tcp::endpoint&) {
        self->on_connect(connect_ec);
      });
}

void node_gate_session::on_connect(error_code ec) {
  if (closed_)
    return;
  if (ec) {
    if (shared_->accepted == basp_end::dialing) {
      log()->warn(
          "{}: conn={} peer={} cannot reach the middleman at {}:{}: {}; "
          "closing the connection",
          shared_->name, id_, peer_, shared_->target_host, shared_->target_port,
          ec.message());
    } else {
      // The peer is down or unreachable: the cluster's connect fails and
      // says so, and retries with backoff.
      note_for_peer("cannot connect to it: " + ec.message());
      log()->debug("{}: conn={} cannot reach {}:{}: {}", shared_->name, id_,
                   shared_->target_host, shared_->target_port, ec.message());
    }
    return close("cannot connect: " + ec.message());
  }
  if (!greeted_)
    return send_hello();  // a dial gate, connected to its peer
  relay();
}

void node_gate_session::relay() {
  log()->debug("{}: conn={} peer={} relaying", shared_->name, id_, peer_);
  do_read_node();
  do_read_middleman();
}

// ---- other node -> middleman: checked, then relayed -------------------

void node_gate_session::do_read_node() {
  node_.async_read_some(
      asio::buffer(from_node_),
      [self = shared_from_this()](error_code ec, std::size_t size) {
        self->on_read_node(ec, size);
      });
}

void node_gate_session::on_read_node(error_code ec, std::size_t size) {
  if (closed_)
    return;
  if (ec)
    return close("node closed: " + ec.message());
  last_heard_ = clock::now();
  to_middleman_.clear();
  auto verdict = framing_.feed(from_node_.data(), size, to_middleman_);
  if (verdict != basp_verdict::ok)
    return refuse(verdict);
  auto messages = framing_.complete_messages() - messages_charged_;
  messages_charged_ = framing_.complete_messages();
  if (to_middleman_.empty())
    return do_read_node();  // only part of a header so far
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
  do_read_node();
}

// ---- middleman -> other node: relayed as is ---------------------------

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
      node_, asio::buffer(from_middleman_.data(), size),
      [self = shared_from_this()](error_code write_ec, std::size_t) {
        self->on_write_node(write_ec);
      });
}

void node_gate_session::on_write_node(error_code ec) {
  if (closed_)
    return;
  writing_since_.reset();
  if (ec)
    return close("node write failed: " + ec.message());
  do_read_middleman();
}

// ---- deadlines --------------------------------------------------------

// Until the first message is complete the other node has
// first_message_timeout from the start; then idle_timeout from its last
// bytes; and a write to it may stay pending for idle_timeout. The timer
// is not moved on every read or write: when it fires early it is set
// again.
node_gate_session::clock::time_point node_gate_session::deadline() const {
  const auto& limits = shared_->limits;
  auto end = last_heard_ + limits.idle_timeout;
  if (framing_.complete_messages() == 0)
    end = std::min(end, started_ + limits.first_message_timeout);
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
    warn_or_debug(
        fmt::format(
            "{}: conn={} peer={} read nothing of what this node sent it for {} "
            "ms; closed (a batchcast node reads all the time; this one is "
            "stuck, or sends requests without reading the answers)",
            shared_->name, id_, peer_, shared_->limits.idle_timeout.count()),
        "not reading");
    return close("not reading");
  }
  if (framing_.complete_messages() == 0) {
    shared_->counters->node_gate_closed.add(
        static_cast<std::size_t>(node_gate_close::no_first_message));
    warn_or_debug(
        fmt::format(
            "{}: conn={} peer={} {} within {} ms of connecting; closed (not a "
            "batchcast node, or one that stalled)",
            shared_->name, id_, peer_,
            greeted_ ? "no complete BASP message from the other node"
                     : "the other node did not complete the cluster greeting",
            shared_->limits.first_message_timeout.count()),
        "no first message");
    return close("no first message");
  }
  shared_->counters->node_gate_closed.add(
      static_cast<std::size_t>(node_gate_close::idle));
  // A frozen or cut-off peer ends this way too; its link is let go by the
  // cluster's own silence check, which says so at info.
  log()->info(
      "{}: conn={} peer={} the other node sent nothing for {} ms; closed "
      "(heartbeats keep a live node's connection busy)",
      shared_->name, id_, peer_, shared_->limits.idle_timeout.count());
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
  note_for_peer(std::string{"what answers there broke BASP's rules ("} +
                to_string(verdict) + "); see the log");
  auto where = shared_->accepted == basp_end::dialing
                   ? "reaches the node port"
                   : "answers at this peer's address";
  warn_or_debug(
      fmt::format(
          "{}: conn={} peer={} refused after {} messages: {} (operation {}, "
          "payload_len {} bytes, cap {}); closed before the middleman read it. "
          "Something that is not a batchcast node of this version {}",
          shared_->name, id_, peer_, framing_.complete_messages(),
          to_string(verdict), static_cast<unsigned>(header.operation),
          header.payload_len, shared_->limits.max_payload, where),
      std::string{"basp "} + to_string(verdict));
  close(to_string(verdict));
}

void node_gate_session::note_for_peer(std::string why) {
  if (shared_->refusals)
    shared_->refusals->set(shared_->peer_index, std::move(why));
}

bool node_gate_session::refusal_is_news(const std::string& why) {
  return !shared_->refusals ||
         shared_->refusals->news(shared_->peer_index, why);
}

void node_gate_session::warn_or_debug(const std::string& line,
                                      const std::string& kind) {
  // A dial gate meets the same refusal at every retry of its peer, every
  // few seconds for as long as the node runs: said once until the kind
  // changes or a connection passes.
  if (!kind.empty() && !refusal_is_news(kind)) {
    log()->debug("{} (again)", line);
    return;
  }
  log_throttled(*log(), spdlog::level::warn, shared_->refusals_logged(kind),
                line);
}

log_throttle& gate_shared::refusals_logged(const std::string& kind) {
  std::lock_guard<std::mutex> guard{throttles_mutex_};
  // A map's elements stay where they are: the reference outlives the lock.
  return throttles_.try_emplace(kind).first->second;
}

void node_gate_session::close(const std::string& why) {
  if (closed_)
    return;
  closed_ = true;
  if (shared_->greetings)
    shared_->greetings->leave(this);
  log()->debug(
      "{}: conn={} peer={} closed after {} messages (largest payload {} "
      "bytes): {}",
      shared_->name, id_, peer_, framing_.complete_messages(),
      framing_.largest_payload(), why);
  error_code ignored;
  resolver_.cancel();
  timer_.cancel();
  pace_timer_.cancel();
  node_.shutdown(tcp::socket::shutdown_both, ignored);
  node_.close(ignored);
  middleman_.shutdown(tcp::socket::shutdown_both, ignored);
  middleman_.close(ignored);
}

}  // namespace batchcast::net
