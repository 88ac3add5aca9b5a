// The counters an operator scrapes from GET /metrics on the internal
// listener (see prometheus_text.hpp for how they are written out).
//
// One `metrics` object belongs to one running node: start_services makes
// it, and the actors and the network layer that count into it hold it by
// shared_ptr, so it outlives whichever of them ends last. There is no
// global instance: two nodes in one process (tests) count apart.
//
// Every increment is a relaxed atomic add on a fixed slot: no lock, no
// allocation, safe from any thread. Relaxed is enough because each value
// is read on its own; a scrape may see one counter a moment ahead of
// another, which Prometheus tolerates by design.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace batchcast {

// Only ever goes up.
class counter {
 public:
  void add(std::uint64_t amount = 1) noexcept {
    value_.fetch_add(amount, std::memory_order_relaxed);
  }
  std::uint64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down, or is set outright.
class gauge {
 public:
  void set(std::int64_t value) noexcept {
    value_.store(value, std::memory_order_relaxed);
  }
  void add(std::int64_t amount) noexcept {
    value_.fetch_add(amount, std::memory_order_relaxed);
  }
  std::int64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Counters told apart by one label whose values are fixed in advance (an
// enum indexes the slots), so counting never looks a label up or
// allocates. `names[i]` is the label value of slot i.
template <std::size_t size>
class labeled_counter {
 public:
  explicit constexpr labeled_counter(std::array<const char*, size> names)
      : names_{names} {}

  void add(std::size_t slot, std::uint64_t amount = 1) noexcept {
    slots_[slot < size ? slot : size - 1].add(amount);
  }
  std::uint64_t value(std::size_t slot) const noexcept {
    return slots_[slot].value();
  }
  const char* name(std::size_t slot) const noexcept { return names_[slot]; }
  static constexpr std::size_t slots() { return size; }

 private:
  std::array<const char*, size> names_;
  std::array<counter, size> slots_;
};

// Observations counted into fixed buckets. Each bucket holds only its own
// observations (not cumulative), so observe() is one add per slot touched;
// the writer sums them into Prometheus's cumulative `le` buckets.
class duration_histogram {
 public:
  // Upper bounds in seconds, ascending; +Inf is implicit.
  static constexpr std::array<double, 12> bounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

  void observe(std::chrono::nanoseconds elapsed) noexcept;

  // Non-cumulative count of bucket i; i == bounds.size() is +Inf.
  std::uint64_t bucket(std::size_t i) const noexcept {
    return buckets_[i].value();
  }
  double sum_seconds() const noexcept {
    return static_cast<double>(sum_ns_.value()) / 1e9;
  }

 private:
  std::array<counter, bounds.size() + 1> buckets_;
  counter sum_ns_;
};

// The outcome of an upgrade request on the public listener, named after
// the HTTP status it was answered with.
enum class handshake_outcome : std::size_t {
  accepted,            // 101
  bad_request,         // 400
  forbidden,           // 403
  not_found,           // 404
  method_not_allowed,  // 405
  upgrade_required,    // 426
  too_many_requests,   // 429
  header_too_large,    // 431
  unavailable,         // 503
  timeout,             // the request did not arrive within the deadline
  tls_failed,          // the TLS handshake failed before any request
  other,               // any other status
};

handshake_outcome handshake_outcome_of(unsigned http_status) noexcept;

// The status codes the internal listener answers with, each a slot of
// metrics::api_responses; one more slot after them counts any other code.
inline constexpr std::array<unsigned, 11> api_response_codes = {
    200, 400, 401, 404, 405, 409, 413, 429, 431, 500, 503};

std::size_t api_response_slot(unsigned http_status) noexcept;

// Why the node gate (net/node_gate.hpp) closed a connection on its own:
// the slots of metrics::node_gate_closed.
enum class node_gate_close : std::size_t {
  payload_too_large,  // a BASP header claimed more than the gate's cap
  unknown_operation,  // a BASP header with an operation CAF does not know
  malformed,          // a payload where the operation has none or none
                      // where it needs one, operations out of order, or
                      // a stream message
  connection_cap,     // over the gate's cap on open connections, at accept
  no_first_message,   // no complete message within the first deadline
  idle,               // nothing from the node for the idle limit
  not_reading,        // the node read none of its answers for the idle
                      // limit
  unauthenticated,    // failed the greeting: no batchcast node, or one
                      // with another cluster secret
  pushed_out,         // still greeting when too many newer connections
                      // were (net/greeting_room.hpp)
  foreign,            // a dial gate's client that is not this process
};

// One cluster peer as the cluster sees it, for the batchcast_cluster_*
// families.
struct peer_state {
  std::string peer;  // "host:port", as configured
  bool up = false;
  std::uint64_t relay_queued = 0;  // statuses waiting to be sent to it
};

struct metrics {
  // Public listener.
  labeled_counter<12> handshakes{
      {"accepted", "bad_request", "forbidden", "not_found",
       "method_not_allowed", "upgrade_required", "too_many_requests",
       "header_too_large", "unavailable", "timeout", "tls_failed", "other"}};
  counter messages_sent;  // status messages written to a WebSocket

  // Internal listener and the publish path.
  labeled_counter<api_response_codes.size() + 1> api_responses{
      {"200", "400", "401", "404", "405", "409", "413", "429", "431", "500",
       "503", "other"}};
  // Publishes committed, by the status published (order of batch_status).
  labeled_counter<4> publishes{
      {"pending", "processing", "completed", "failed"}};

  // Actor side.
  duration_histogram commit_duration;  // storage actor transactions
  counter commit_failures;
  counter session_cache_hits;
  counter session_cache_misses;
  gauge batch_groups;  // live batch_group actors the registry routes to

  void count_handshake(unsigned http_status) noexcept {
    handshakes.add(static_cast<std::size_t>(handshake_outcome_of(http_status)));
  }
  void count_handshake(handshake_outcome outcome) noexcept {
    handshakes.add(static_cast<std::size_t>(outcome));
  }
  void count_api_response(unsigned http_status) noexcept {
    api_responses.add(api_response_slot(http_status));
  }

  // Connections to the node port the node gate closed, by reason.
  labeled_counter<10> node_gate_closed{
      {"payload_too_large", "unknown_operation", "malformed", "connection_cap",
       "no_first_message", "idle", "not_reading", "unauthenticated",
       "pushed_out", "foreign"}};

  // Cluster peers. The cluster actor pushes a copy of its peers' states
  // whenever one changes and once per heartbeat; a scrape reads the last
  // copy. Pushing, rather than asking the actor at scrape time, keeps the
  // I/O thread that answers the scrape from ever waiting on an actor.
  void set_peers(std::vector<peer_state> peers);
  // A stopped cluster (or a single node): the families are left out.
  void clear_peers();
  // The last copy pushed; nothing on a single node, so that the metrics
  // are left out rather than empty.
  std::optional<std::vector<peer_state>> peers() const;

 private:
  mutable std::mutex peer_mutex_;  // guards peers_ only
  std::optional<std::vector<peer_state>> peers_;
};

}  // namespace batchcast
