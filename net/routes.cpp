#include "net/routes.hpp"

#include "common/ascii_case.hpp"
#include "storage/uuid.hpp"

namespace batchcast::net {

namespace {

constexpr std::string_view watch_prefix = "/ws/radius/batch/";
constexpr std::string_view api_prefix = "/api/v1/radius/batch/";
constexpr std::string_view api_suffix = "/status";

// No route is longer than this once decoded; an escape triples a byte, so
// anything longer than three times this cannot be a route.
constexpr std::size_t longest_route = 128;

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Like Python's urllib.parse.unquote on the bytes: a '%' that is not
// followed by two hex digits stays as it is.
std::string percent_decode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        decoded.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    decoded.push_back(text[i]);
  }
  return decoded;
}

// The part of `text` between `prefix` and `suffix`, or nothing when `text`
// does not start with the one and end with the other. The two may not
// overlap: "/ws/radius/batch/" ends with "/" only by reusing the prefix's
// own slash, and has nothing between them.
std::optional<std::string_view> between(std::string_view text,
                                        std::string_view prefix,
                                        std::string_view suffix) {
  if (text.size() < prefix.size() + suffix.size() ||
      text.substr(0, prefix.size()) != prefix ||
      text.substr(text.size() - suffix.size()) != suffix)
    return std::nullopt;
  return text.substr(prefix.size(),
                     text.size() - prefix.size() - suffix.size());
}

// An absolute-form target ("http://host:8000/a/b?q"), which a server must
// accept though clients send it only to proxies (RFC 9112, 3.2.2), names
// the path of its origin form ("/a/b?q"; "/" when it has none). The
// authority is not judged here: no route depends on the host.
std::string_view origin_form(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!starts_with_ignoring_case(target, scheme))
      continue;
    auto rest = target.substr(scheme.size());
    auto path = rest.find_first_of("/?#");
    if (path == std::string_view::npos || rest[path] != '/')
      return "/";
    return rest.substr(path);
  }
  return target;
}

}  // namespace

std::optional<std::string> request_path(std::string_view target) {
  target = origin_form(target);
  auto path = target.substr(0, target.find('?'));
  if (path.empty() || path.front() != '/' || path.size() > 3 * longest_route)
    return std::nullopt;
  return percent_decode(path);
}

std::optional<std::string> parse_watch_route(std::string_view target) {
  auto path = request_path(target);
  if (!path)
    return std::nullopt;

  auto id = between(*path, watch_prefix, "/");
  if (!id || !storage::is_canonical_uuid(*id))
    return std::nullopt;
  return std::string{*id};
}

api_route parse_api_route(std::string_view target) {
  auto path = request_path(target);
  if (!path)
    return {};

  auto id = between(*path, api_prefix, api_suffix);
  // Only one path segment may stand where the id goes; "/a/b/status" is
  // some other path, not a malformed id.
  if (!id || id->empty() || id->find('/') != std::string_view::npos)
    return {};
  if (!storage::is_canonical_uuid(*id))
    return {api_route::malformed_id, {}};
  return {api_route::batch_status, std::string{*id}};
}

bool is_health_route(std::string_view target) {
  auto path = request_path(target);
  return path && *path == "/healthz";
}

bool is_ready_route(std::string_view target) {
  auto path = request_path(target);
  return path && *path == "/readyz";
}

bool is_metrics_route(std::string_view target) {
  auto path = request_path(target);
  return path && *path == "/metrics";
}

bool is_cluster_route(std::string_view target) {
  auto path = request_path(target);
  return path && *path == "/cluster";
}

}  // namespace batchcast::net
