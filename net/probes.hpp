// The answers to the probes of an orchestrator and a scraper, for both
// listeners:
//
//   GET /readyz   200 {"status":"ready"} when the state database and the
//                 directory answer (see actors/readiness.hpp); otherwise
//                 503 {"status":"not_ready","checks":{"state_store":"ok",
//                 "directory":"timeout"},"reason":"directory did not
//                 answer in time"} (each check "ok", "failed", "timeout",
//                 or for the state store "write_locked"; the reason in
//                 words, see actors::describe_not_ready), or 503
//                 {"status":"shutting_down"} once the server is stopping.
//                 Details stay in the log: the body names no file, host or
//                 error message.
//   GET /metrics  Prometheus text (internal listener only).
//
// /healthz (200 while the process serves at all) is answered by each
// listener itself. These answers know no socket; the listeners wrap them
// in their own responses.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/beast/http/status.hpp>

#include "actors/readiness.hpp"
#include "net/asio.hpp"

namespace batchcast::net {

struct server_context;

struct probe_answer {
  http::status status = http::status::ok;
  std::string content_type = "application/json";
  std::string body;
};

probe_answer readiness_answer(const actors::readiness_report& report);
probe_answer shutting_down_answer();

// Asks the actor side whether the node is ready, unless the server is
// stopping, which answers at once. `done` is called exactly once, on the
// calling thread or a CAF one.
void check_readiness(const std::shared_ptr<server_context>& context,
                     std::function<void(probe_answer)> done);

// The scrape: every counter of the node and the open WebSocket count.
probe_answer metrics_answer(const server_context& context);

}  // namespace batchcast::net
