// Request targets against the routing of net/routes. Beyond not crashing:
//
// - a decoded path starts with '/', is no longer than the raw path, ignores
//   the query string, and is decoded exactly once (re-encoding it gives it
//   back);
// - a target accepted as a route decodes to exactly that route spelled
//   canonically, its batch id is a canonical uuid that round-trips, and the
//   same id with an uppercase hex digit is no route;
// - a fixed route (/healthz, /readyz, /metrics, /cluster) is exactly that
//   path once decoded, and no target is two routes at once.
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "net/routes.hpp"
#include "storage/uuid.hpp"

namespace {

using namespace batchcast;
using fuzz::require;

constexpr std::string_view watch_prefix = "/ws/radius/batch/";
constexpr std::string_view api_prefix = "/api/v1/radius/batch/";
constexpr std::string_view api_suffix = "/status";

// Every route is far shorter than this; a path under it that starts with
// '/' must be read, never refused for its length.
constexpr std::size_t surely_readable_path = 200;

// The routes that are one fixed path.
struct plain_route {
  std::string_view path;
  bool (*matches)(std::string_view target);
};
const plain_route plain_routes[] = {
    {"/healthz", net::is_health_route},
    {"/readyz", net::is_ready_route},
    {"/metrics", net::is_metrics_route},
    {"/cluster", net::is_cluster_route},
};

bool is_plain_route(std::string_view target) {
  for (const auto& route : plain_routes)
    if (route.matches(target))
      return true;
  return false;
}

std::string watch_target(std::string_view id) {
  return std::string{watch_prefix} + std::string{id} + "/";
}

std::string api_target(std::string_view id) {
  return std::string{api_prefix} + std::string{id} + std::string{api_suffix};
}

// "/abc" -> "/%61%62%63": all but the leading '/' escaped, alternating
// upper- and lowercase hex digits since both must decode.
std::string escape_all_but_first(std::string_view path) {
  static constexpr char upper[] = "0123456789ABCDEF";
  static constexpr char lower[] = "0123456789abcdef";
  std::string escaped{path.substr(0, 1)};
  for (std::size_t i = 1; i < path.size(); ++i) {
    auto byte = static_cast<unsigned char>(path[i]);
    const char* digits = i % 2 ? upper : lower;
    escaped += '%';
    escaped += digits[byte >> 4];
    escaped += digits[byte & 0x0f];
  }
  return escaped;
}

// The id with its first hex letter uppercased, or "" when it has none.
std::string with_an_uppercase_letter(std::string id) {
  for (auto& c : id) {
    if (c >= 'a' && c <= 'f') {
      c = static_cast<char>(c - 'a' + 'A');
      return id;
    }
  }
  return {};
}

void check_request_path(std::string_view target) {
  auto raw = target.substr(0, target.find('?'));
  auto path = net::request_path(target);
  if (!path) {
    require(
        raw.empty() || raw.front() != '/' || raw.size() >= surely_readable_path,
        "a short path starting with '/' is always read");
    return;
  }
  require(!path->empty() && path->front() == '/',
          "a decoded path starts with '/'");
  require(path->size() <= raw.size(), "decoding never lengthens a path");
  require(net::request_path(std::string{raw} + "?x=%zz/") == path,
          "the query string never changes the path");
  if (path->size() < surely_readable_path / 3) {
    require(net::request_path(escape_all_but_first(*path)) == path,
            "a path is decoded exactly once");
  }
}

void check_watch_route(std::string_view target) {
  auto id = net::parse_watch_route(target);
  if (!id)
    return;
  require(storage::is_canonical_uuid(*id), "a watched id is canonical");
  require(storage::canonical_uuid(*id) == id, "a watched id round-trips");
  auto canonical = watch_target(*id);
  require(net::request_path(target) == canonical,
          "a watch route decodes to exactly /ws/radius/batch/<id>/");
  require(net::parse_watch_route(canonical) == id,
          "the canonical watch route gives the same id");
  auto upper = with_an_uppercase_letter(*id);
  require(upper.empty() || !net::parse_watch_route(watch_target(upper)),
          "an id with uppercase hex is not a watch route");
  require(net::parse_api_route(target).kind == net::api_route::other &&
              !is_plain_route(target),
          "a watch route is no other route");
}

void check_api_route(std::string_view target) {
  auto route = net::parse_api_route(target);
  if (route.kind != net::api_route::batch_status) {
    require(route.batch_id.empty(), "only a batch route carries an id");
    if (route.kind == net::api_route::malformed_id) {
      auto path = net::request_path(target);
      require(path && path->size() > api_prefix.size() + api_suffix.size() &&
                  path->compare(0, api_prefix.size(), api_prefix) == 0,
              "a malformed id is still on the API route");
    }
    return;
  }
  require(storage::is_canonical_uuid(route.batch_id),
          "an API batch id is canonical");
  auto canonical = api_target(route.batch_id);
  require(net::request_path(target) == canonical,
          "an API route decodes to exactly /api/v1/radius/batch/<id>/status");
  auto again = net::parse_api_route(canonical);
  require(again.kind == net::api_route::batch_status &&
              again.batch_id == route.batch_id,
          "the canonical API route gives the same id");
  auto upper = with_an_uppercase_letter(route.batch_id);
  require(upper.empty() || net::parse_api_route(api_target(upper)).kind ==
                               net::api_route::malformed_id,
          "an id with uppercase hex is a malformed id");
  require(!is_plain_route(target), "an API route is no plain route");
}

void check_plain_routes(std::string_view target) {
  int matches = 0;
  for (const auto& route : plain_routes) {
    if (!route.matches(target))
      continue;
    ++matches;
    require(net::request_path(target) == route.path,
            "a plain route is exactly its path");
  }
  require(matches <= 1, "a target is at most one plain route");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto target = fuzz::as_text(data, size);
  check_request_path(target);
  check_watch_route(target);
  check_api_route(target);
  check_plain_routes(target);
  return 0;
}
