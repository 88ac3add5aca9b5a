#include "common/prometheus_text.hpp"

#include <cmath>

#include <fmt/format.h>

#include "common/process_stats.hpp"

#ifndef BATCHCAST_VERSION
#define BATCHCAST_VERSION "unknown"
#endif

namespace batchcast {

namespace {

const char* type_name(prometheus_text::kind type) {
  switch (type) {
    case prometheus_text::kind::counter:
      return "counter";
    case prometheus_text::kind::gauge:
      return "gauge";
    case prometheus_text::kind::histogram:
      return "histogram";
  }
  return "untyped";
}

std::string escape(std::string_view text, bool quotes) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      escaped += "\\\\";
    else if (c == '\n')
      escaped += "\\n";
    else if (c == '"' && quotes)
      escaped += "\\\"";
    else
      escaped += c;
  }
  return escaped;
}

// Shortest text that reads back as the same double ("1", "0.0005"); Go's
// spellings for the special values.
std::string number(double value) {
  if (std::isnan(value))
    return "NaN";
  if (std::isinf(value))
    return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

using kind = prometheus_text::kind;

void write_public(prometheus_text& out, const metrics& counted,
                  const node_snapshot& snapshot) {
  out.family("batchcast_websocket_connections_open", kind::gauge,
             "WebSocket connections open on the public listener, accepted "
             "or waiting for the upgrade decision.");
  out.sample("batchcast_websocket_connections_open",
             static_cast<double>(snapshot.open_websockets));

  out.family("batchcast_public_connections_open", kind::gauge,
             "Connections open on the public listener of every kind, "
             "requests still arriving and status pages included: what "
             "--max-connections caps.");
  out.sample("batchcast_public_connections_open",
             static_cast<double>(snapshot.open_public_connections));

  out.family("batchcast_handshakes_total", kind::counter,
             "Upgrade requests on the public listener by outcome (every "
             "request but /healthz, /readyz and status pages).");
  for (std::size_t i = 0; i < counted.handshakes.slots(); ++i)
    out.sample("batchcast_handshakes_total", "outcome",
               counted.handshakes.name(i),
               static_cast<double>(counted.handshakes.value(i)));

  out.family("batchcast_messages_sent_total", kind::counter,
             "Status messages written to WebSocket clients.");
  out.sample("batchcast_messages_sent_total",
             static_cast<double>(counted.messages_sent.value()));
}

void write_internal(prometheus_text& out, const metrics& counted) {
  out.family("batchcast_publishes_total", kind::counter,
             "Statuses committed through the publish API, by status.");
  for (std::size_t i = 0; i < counted.publishes.slots(); ++i)
    out.sample("batchcast_publishes_total", "status", counted.publishes.name(i),
               static_cast<double>(counted.publishes.value(i)));

  out.family("batchcast_api_responses_total", kind::counter,
             "Responses of the internal listener by HTTP status code.");
  for (std::size_t i = 0; i < counted.api_responses.slots(); ++i)
    out.sample("batchcast_api_responses_total", "code",
               counted.api_responses.name(i),
               static_cast<double>(counted.api_responses.value(i)));
}

void write_actors(prometheus_text& out, const metrics& counted) {
  out.histogram("batchcast_storage_commit_duration_seconds",
                "Time the storage actor spent in one state database "
                "transaction, fsync included.",
                counted.commit_duration);

  out.family("batchcast_storage_commit_failures_total", kind::counter,
             "State database transactions that failed; their publishes "
             "were answered 503.");
  out.sample("batchcast_storage_commit_failures_total",
             static_cast<double>(counted.commit_failures.value()));

  out.family("batchcast_session_cache_hits_total", kind::counter,
             "Session checks answered from session_auth's cache.");
  out.sample("batchcast_session_cache_hits_total",
             static_cast<double>(counted.session_cache_hits.value()));
  out.family("batchcast_session_cache_misses_total", kind::counter,
             "Session checks that needed the directory (including those "
             "that waited for a lookup already under way).");
  out.sample("batchcast_session_cache_misses_total",
             static_cast<double>(counted.session_cache_misses.value()));

  out.family("batchcast_batch_groups", kind::gauge,
             "Batch group actors alive: batches with watchers or a publish "
             "in flight.");
  out.sample("batchcast_batch_groups",
             static_cast<double>(counted.batch_groups.value()));
}

void write_cluster(prometheus_text& out, const metrics& counted) {
  auto peers = counted.peers();
  if (!peers)
    return;
  out.family("batchcast_cluster_peer_up", kind::gauge,
             "1 while the cluster link to a peer is up, else 0.");
  for (const auto& each : *peers)
    out.sample("batchcast_cluster_peer_up", "peer", each.peer,
               each.up ? 1.0 : 0.0);
  out.family("batchcast_cluster_relay_queued", kind::gauge,
             "This node's statuses waiting to be relayed to a peer (bounded; "
             "beyond the bound the peer is caught up from the store).");
  for (const auto& each : *peers)
    out.sample("batchcast_cluster_relay_queued", "peer", each.peer,
               static_cast<double>(each.relay_queued));
  out.family("batchcast_cluster_gate_closed_total", kind::counter,
             "Connections the node gate and the dial gates closed on their "
             "own, by reason.");
  for (std::size_t i = 0; i < counted.node_gate_closed.slots(); ++i)
    out.sample("batchcast_cluster_gate_closed_total", "reason",
               counted.node_gate_closed.name(i),
               static_cast<double>(counted.node_gate_closed.value(i)));
}

template <class Value>
void write_optional(prometheus_text& out, std::string_view name, kind type,
                    std::string_view help, const std::optional<Value>& value) {
  if (!value)
    return;
  out.family(name, type, help);
  out.sample(name, static_cast<double>(*value));
}

void write_process(prometheus_text& out) {
  auto stats = read_process_stats();
  write_optional(out, "process_resident_memory_bytes", kind::gauge,
                 "Resident memory size in bytes.", stats.resident_memory_bytes);
  write_optional(out, "process_virtual_memory_bytes", kind::gauge,
                 "Virtual memory size in bytes.", stats.virtual_memory_bytes);
  write_optional(out, "process_open_fds", kind::gauge,
                 "Number of open file descriptors.", stats.open_fds);
  write_optional(out, "process_max_fds", kind::gauge,
                 "Maximum number of open file descriptors.", stats.max_fds);
  write_optional(out, "process_cpu_seconds_total", kind::counter,
                 "Total user and system CPU time spent in seconds.",
                 stats.cpu_seconds);
  write_optional(out, "process_start_time_seconds", kind::gauge,
                 "Start time of the process since unix epoch in seconds.",
                 stats.start_time_seconds);
}

}  // namespace

std::string escape_label_value(std::string_view text) {
  return escape(text, true);
}

std::string escape_help(std::string_view text) {
  return escape(text, false);
}

void prometheus_text::family(std::string_view name, kind type,
                             std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  text_ += escape_help(help);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type_name(type);
  text_ += '\n';
}

void prometheus_text::value(double number_value) {
  text_ += ' ';
  text_ += number(number_value);
  text_ += '\n';
}

void prometheus_text::sample(std::string_view name, double number_value) {
  text_ += name;
  value(number_value);
}

void prometheus_text::sample(std::string_view name, std::string_view label,
                             std::string_view label_value,
                             double number_value) {
  text_ += name;
  text_ += '{';
  text_ += label;
  text_ += "=\"";
  text_ += escape_label_value(label_value);
  text_ += "\"}";
  value(number_value);
}

void prometheus_text::histogram(std::string_view name, std::string_view help,
                                const duration_histogram& observed) {
  family(name, kind::histogram, help);
  std::string bucket_name{name};
  bucket_name += "_bucket";
  std::uint64_t cumulative = 0;
  const auto& bounds = duration_histogram::bounds;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += observed.bucket(i);
    auto le = i < bounds.size() ? number(bounds[i]) : std::string{"+Inf"};
    sample(bucket_name, "le", le, static_cast<double>(cumulative));
  }
  sample(std::string{name} + "_sum", observed.sum_seconds());
  sample(std::string{name} + "_count", static_cast<double>(cumulative));
}

std::string write_node_metrics(const metrics& counted,
                               const node_snapshot& snapshot) {
  prometheus_text out;
  out.family("batchcast_build_info", kind::gauge,
             "Always 1; the version label names the running build.");
  out.sample("batchcast_build_info", "version", BATCHCAST_VERSION, 1);
  write_public(out, counted, snapshot);
  write_internal(out, counted);
  write_actors(out, counted);
  write_cluster(out, counted);
  write_process(out);
  return out.text();
}

}  // namespace batchcast
