// Which resource a request target names, decided the way Django routes a
// path: the query string is ignored, %XX escapes are decoded first (Daphne
// hands Django a decoded path), and a batch id must be a canonical uuid
// (lowercase hex, dashed 8-4-4-4-12) as Django's `uuid` converter demands.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace batchcast::net {

// The decoded path of a request target ("/a/b?q" -> "/a/b"; the
// absolute form "http://host/a/b?q" names the same). Nothing when the
// path does not start with '/' or is longer than any route we serve (so
// a huge target costs no allocation).
std::optional<std::string> request_path(std::string_view target);

// The batch id of the public WebSocket route /ws/radius/batch/<uuid>/, or
// nothing when `target` is not that route (the caller answers 404).
std::optional<std::string> parse_watch_route(std::string_view target);

// The internal publish API route /api/v1/radius/batch/<id>/status.
struct api_route {
  enum kind_type {
    other,         // not an API route: 404
    malformed_id,  // the route, but <id> is not a canonical uuid: 400
    batch_status,  // the route with a canonical id in batch_id
  };
  kind_type kind = other;
  std::string batch_id;
};

api_route parse_api_route(std::string_view target);

// True for the health check route /healthz (both listeners).
bool is_health_route(std::string_view target);

// True for the readiness route /readyz (both listeners).
bool is_ready_route(std::string_view target);

// True for the Prometheus scrape route /metrics (internal listener only).
bool is_metrics_route(std::string_view target);

// True for /cluster, the node's view of its cluster peers (internal
// listener).
bool is_cluster_route(std::string_view target);

}  // namespace batchcast::net
