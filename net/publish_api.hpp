// The internal HTTP API producers publish through (DESIGN section 2):
//
//   POST /api/v1/radius/batch/<uuid>/status  {"status": "...",
//                                             "organization": "<uuid>"?}
//   GET  /api/v1/radius/batch/<uuid>/status  the stored record
//   GET  /cluster                            the node's view of its peers
//                                            (see cluster_view.hpp)
//   GET  /healthz                            {"status":"ok"}, no token
//   GET  /readyz                             see probes.hpp, no token
//   GET  /metrics                            Prometheus text; the metrics
//                                            token when one is set
//
// Status requests need "Authorization: Bearer <token>". Every answer is JSON;
// errors are {"error":"..."}. A publish is answered 200 only once the
// actor side reports the status committed.
//
// The handler knows nothing of sockets: api_session feeds it parsed
// requests and writes what it answers, so it can be tested alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "actors/services.hpp"
#include "common/log_throttle.hpp"
#include "net/asio.hpp"
#include "net/bearer_token.hpp"
#include "net/probes.hpp"

namespace batchcast::net {

// What the API asks of the actor side. The server binds these to
// actors::publish, actors::fetch and actors::cluster_status; tests bind
// them to fakes. Each takes a callback that may run on any thread,
// exactly once. Without `cluster`, GET /cluster is 404.
struct status_backend {
  using cluster_callback =
      std::function<void(std::optional<actors::cluster_report>)>;

  std::function<void(actors::publish_request, actors::api_callback)> publish;
  std::function<void(std::string batch_id, actors::api_callback)> fetch;
  // GET /readyz and GET /metrics; a route whose function is not set is a
  // 404. `ready` calls back exactly once, on any thread.
  std::function<void(std::function<void(probe_answer)>)> ready;
  std::function<probe_answer()> metrics;
  std::function<void(cluster_callback)> cluster;
};

class publish_api {
 public:
  using request = http::request<http::string_body>;
  using response = http::response<http::string_body>;
  // Receives the answer; may be called on a CAF thread.
  using responder = std::function<void(response)>;

  // `metrics_token` empty: /metrics needs no token.
  publish_api(status_backend backend, std::string_view token,
              std::size_t max_body_bytes, std::string_view metrics_token = {});

  // Decides from the header alone whether to read the body: a 413 when
  // the announced Content-Length (as the parser read it) is over the
  // limit. A client that waits for "100 Continue" before sending its body
  // also gets here the refusals that need no body (an unknown path, two
  // Authorization fields, a missing or wrong token), so a refused
  // producer never sends it. Nothing: read the body. Every refusal closes
  // the connection, since the unread body would be taken for the next
  // request. `peer` is for logs.
  std::optional<response> check_header(
      const http::request_header<>& header,
      std::optional<std::uint64_t> content_length,
      const std::string& peer) const;

  // Answers `req` by calling `respond` exactly once, either before this
  // returns or later from the backend's callback. `peer` is for logs.
  void handle(const request& req, const std::string& peer,
              responder respond) const;

  // {"error": message} with `status`.
  static response error(http::status status, std::string_view message,
                        unsigned version, bool keep_alive);

 private:
  void handle_publish(const request& req, std::string batch_id,
                      const std::string& peer, responder respond) const;
  void handle_fetch(const request& req, std::string batch_id,
                    responder respond) const;
  // The refusals a status or cluster request's header decides alone: a
  // path that is neither (404), two Authorization fields (400), a missing
  // or wrong token (401, logged). Nothing when the request may go on.
  std::optional<response> refusal_before_body(
      const http::request_header<>& header, const std::string& peer,
      bool keep_alive) const;
  // A missing or wrong token for `expected` (401, logged naming `what`)
  // or two Authorization fields (400); nothing when the token is right.
  std::optional<response> token_refusal(const bearer_token_check& expected,
                                        const http::request_header<>& header,
                                        const std::string& what,
                                        bool keep_alive) const;
  // The probe routes; false when `req` is not one of them.
  bool handle_probe(const request& req, responder& respond) const;
  void handle_cluster(const request& req, responder respond) const;

  status_backend backend_;
  bearer_token_check token_;
  std::optional<bearer_token_check> metrics_token_;
  std::size_t max_body_bytes_;
  // Refused tokens are a client's doing: someone guessing thousands a
  // second must not fill the disk with one line each. The 401s are all
  // counted in batchcast_api_responses_total.
  mutable log_throttle refusals_logged_;
};

// Whether the client waits for "100 Continue" before sending its body.
bool expects_continue(const http::request_header<>& header);

// "2026-12-04T15:41:40.123Z" for a unix time in milliseconds.
std::string format_utc_millis(std::int64_t unix_ms);

}  // namespace batchcast::net
