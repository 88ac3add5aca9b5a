#include "net/probes.hpp"

#include <nlohmann/json.hpp>

#include "common/prometheus_text.hpp"
#include "net/server_context.hpp"

namespace batchcast::net {

probe_answer readiness_answer(const actors::readiness_report& report) {
  probe_answer answer;
  if (report.ready()) {
    answer.body = R"({"status":"ready"})";
    return answer;
  }
  nlohmann::json body{{"status", "not_ready"},
                      {"checks",
                       {{"state_store", actors::to_string(report.state_store)},
                        {"directory", actors::to_string(report.directory)}}},
                      {"reason", actors::describe_not_ready(report)}};
  answer.status = http::status::service_unavailable;
  answer.body = body.dump();
  return answer;
}

probe_answer shutting_down_answer() {
  probe_answer answer;
  answer.status = http::status::service_unavailable;
  answer.body = R"({"status":"shutting_down"})";
  return answer;
}

void check_readiness(const std::shared_ptr<server_context>& context,
                     std::function<void(probe_answer)> done) {
  if (context->stopping.load(std::memory_order_relaxed))
    return done(shutting_down_answer());
  actors::check_ready(
      context->system, context->services,
      [context, done = std::move(done)](actors::readiness_report report) {
        // The server may have begun stopping while the probe ran.
        if (context->stopping.load(std::memory_order_relaxed))
          return done(shutting_down_answer());
        done(readiness_answer(report));
      });
}

probe_answer metrics_answer(const server_context& context) {
  node_snapshot snapshot;
  snapshot.open_websockets = static_cast<std::int64_t>(context.sessions.open());
  snapshot.open_public_connections =
      static_cast<std::int64_t>(context.limits.open());
  probe_answer answer;
  answer.content_type = std::string{prometheus_content_type};
  answer.body = write_node_metrics(*context.counters, snapshot);
  return answer;
}

}  // namespace batchcast::net
