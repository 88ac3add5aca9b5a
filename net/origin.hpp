// The Origin check of a WebSocket upgrade, with the semantics of Channels'
// AllowedHostsOriginValidator over Django's ALLOWED_HOSTS:
//
// - "*" allows every origin, even a missing one;
// - otherwise the Origin must be a URL with a host (so a missing Origin,
//   "null" and garbage are refused), and the host (lowercase, port and
//   IPv6 brackets removed) must equal a pattern, or end with a pattern
//   that starts with '.' (".example.com" matches example.com and every
//   subdomain), as django.utils.http.is_same_domain decides;
// - a pattern written with a scheme ("https://example.com:8443") must also
//   match the Origin's scheme and port (80/443 by default), as Channels'
//   OriginValidator does.
//
// URLs are split like Python's urllib.parse.urlsplit. Where Python would
// raise (unbalanced brackets, a bracketed host that is not IPv6, a port
// that is not a number up to 65535) the Origin is refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace batchcast::net {

enum class origin_verdict {
  allowed,
  missing,      // no Origin header
  no_host,      // "null", or a value without a host
  malformed,    // Python's urlsplit would raise on it
  not_allowed,  // a host that no pattern matches
};

// Short stable name for logs, e.g. "not_allowed".
const char* to_string(origin_verdict verdict);

// Immutable after construction, so one instance serves every thread.
class origin_validator {
 public:
  explicit origin_validator(const std::vector<std::string>& allowed_hosts);

  // `origin` is the Origin header's value, or nothing when absent.
  origin_verdict check(std::optional<std::string_view> origin) const;

 private:
  struct pattern {
    std::string scheme;            // empty for a plain host pattern
    std::string hostname;          // lowercase; empty when it has none
    std::optional<unsigned> port;  // scheme patterns: explicit or default
  };

  bool allow_all_ = false;
  std::vector<pattern> patterns_;
};

// django.utils.http.is_same_domain: `host` equals `pattern`, or `pattern`
// starts with '.' and `host` is that domain or one of its subdomains.
bool is_same_domain(std::string_view host, std::string_view pattern);

}  // namespace batchcast::net
