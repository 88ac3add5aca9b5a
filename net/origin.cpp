#include "net/origin.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace batchcast::net {

namespace {

// The parts of urllib.parse.urlsplit's result that the check reads.
struct url_parts {
  std::string scheme;                   // lowercase
  std::optional<std::string> hostname;  // lowercase but for an IPv6 zone
  std::optional<std::string> port;      // the text after the host's ':'
};

std::string lowercase(std::string_view text) {
  std::string result{text};
  for (auto& c : result)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' ||
         c == '.';
}

// Python checks a bracketed host with ipaddress (or the IPvFuture form).
bool is_valid_bracketed_host(std::string_view host) {
  if (!host.empty() && host.front() == 'v') {
    auto dot = host.find('.');
    return dot != std::string_view::npos && dot > 1 && dot + 1 < host.size() &&
           std::all_of(host.begin() + 1, host.begin() + dot, [](char c) {
             return std::isxdigit(static_cast<unsigned char>(c)) != 0;
           });
  }
  std::string address{host.substr(0, host.find('%'))};
  unsigned char bytes[16];
  return ::inet_pton(AF_INET6, address.c_str(), bytes) == 1;
}

// urllib.parse.urlsplit, reduced to scheme, hostname and port; nothing
// where Python raises ValueError.
std::optional<url_parts> split_url(std::string_view url) {
  while (!url.empty() && static_cast<unsigned char>(url.front()) <= 0x20)
    url.remove_prefix(1);
  std::string cleaned;
  for (char c : url) {
    if (c != '\t' && c != '\r' && c != '\n')
      cleaned.push_back(c);
  }
  std::string_view rest{cleaned};

  url_parts parts;
  auto colon = rest.find(':');
  if (colon != std::string_view::npos && colon > 0 &&
      std::isalpha(static_cast<unsigned char>(rest.front())) &&
      std::all_of(rest.begin(), rest.begin() + colon, is_scheme_char)) {
    parts.scheme = lowercase(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  if (rest.substr(0, 2) != "//")
    return parts;

  rest.remove_prefix(2);
  auto netloc = rest.substr(0, rest.find_first_of("/?#"));
  bool open = netloc.find('[') != std::string_view::npos;
  bool close = netloc.find(']') != std::string_view::npos;
  if (open != close)
    return std::nullopt;

  auto at = netloc.rfind('@');
  auto hostinfo = at == std::string_view::npos ? netloc : netloc.substr(at + 1);
  std::string_view host;
  std::string_view port;
  auto bracket = hostinfo.find('[');
  if (bracket != std::string_view::npos) {
    auto bracketed = hostinfo.substr(bracket + 1);
    auto end = bracketed.find(']');
    host = bracketed.substr(0, end);
    if (end != std::string_view::npos) {
      auto after = bracketed.substr(end + 1);
      auto port_colon = after.find(':');
      if (port_colon != std::string_view::npos)
        port = after.substr(port_colon + 1);
    }
  } else {
    auto port_colon = hostinfo.find(':');
    host = hostinfo.substr(0, port_colon);
    if (port_colon != std::string_view::npos)
      port = hostinfo.substr(port_colon + 1);
  }
  if (open) {
    // Python checks the host between the netloc's first brackets.
    auto first = netloc.substr(netloc.find('[') + 1);
    if (!is_valid_bracketed_host(first.substr(0, first.find(']'))))
      return std::nullopt;
  }

  if (!host.empty()) {
    auto zone = host.find('%');
    parts.hostname = lowercase(host.substr(0, zone));
    if (zone != std::string_view::npos)
      parts.hostname->append(host.substr(zone));
  }
  if (!port.empty())
    parts.port = std::string{port};
  return parts;
}

// SplitResult.port: a number up to 65535, or nothing when absent. Python
// raises for anything else; so do we (by returning false).
bool read_port(const url_parts& parts, std::optional<unsigned>& port) {
  port.reset();
  if (!parts.port)
    return true;
  const auto& text = *parts.port;
  if (text.size() > 5 || !std::all_of(text.begin(), text.end(), [](char c) {
        return c >= '0' && c <= '9';
      }))
    return false;
  auto value = static_cast<unsigned>(std::stoul(text));
  if (value > 65535)
    return false;
  port = value;
  return true;
}

// Channels' get_origin_port: the explicit port, else 80 or 443 by scheme.
std::optional<unsigned> effective_port(const std::string& scheme,
                                       std::optional<unsigned> port) {
  if (port)
    return port;
  if (scheme == "http")
    return 80u;
  if (scheme == "https")
    return 443u;
  return std::nullopt;
}

}  // namespace

const char* to_string(origin_verdict verdict) {
  switch (verdict) {
    case origin_verdict::allowed:
      return "allowed";
    case origin_verdict::missing:
      return "missing";
    case origin_verdict::no_host:
      return "no_host";
    case origin_verdict::malformed:
      return "malformed";
    case origin_verdict::not_allowed:
      return "not_allowed";
  }
  return "unknown";
}

bool is_same_domain(std::string_view host, std::string_view pattern) {
  if (pattern.empty())
    return false;
  auto lowered = lowercase(pattern);
  std::string_view p{lowered};
  if (p.front() == '.') {
    bool subdomain =
        host.size() >= p.size() && host.substr(host.size() - p.size()) == p;
    if (subdomain || host == p.substr(1))
      return true;
  }
  return host == p;
}

origin_validator::origin_validator(
    const std::vector<std::string>& allowed_hosts) {
  for (const auto& text : allowed_hosts) {
    if (text == "*") {
      allow_all_ = true;
      continue;
    }
    // A pattern Python cannot split raises inside Channels on every
    // request; here it simply matches nothing.
    auto parsed = split_url(lowercase(text));
    if (!parsed)
      continue;

    pattern entry;
    if (parsed->scheme.empty()) {
      // Channels: urlparse("//" + pattern).hostname or pattern.
      auto as_host = split_url("//" + text);
      if (!as_host)
        continue;
      entry.hostname = as_host->hostname ? *as_host->hostname : text;
    } else {
      std::optional<unsigned> port;
      if (!read_port(*parsed, port))
        continue;
      entry.scheme = parsed->scheme;
      entry.hostname = parsed->hostname.value_or("");
      entry.port = effective_port(entry.scheme, port);
    }
    patterns_.push_back(std::move(entry));
  }
}

origin_verdict origin_validator::check(
    std::optional<std::string_view> origin) const {
  if (allow_all_)
    return origin_verdict::allowed;
  if (!origin)
    return origin_verdict::missing;

  auto parsed = split_url(*origin);
  std::optional<unsigned> port;
  if (!parsed || !read_port(*parsed, port))
    return origin_verdict::malformed;
  if (!parsed->hostname)
    return origin_verdict::no_host;

  const auto& host = *parsed->hostname;
  auto origin_port = effective_port(parsed->scheme, port);
  for (const auto& each : patterns_) {
    if (each.scheme.empty()) {
      if (is_same_domain(host, each.hostname))
        return origin_verdict::allowed;
    } else if (each.scheme == parsed->scheme && each.port == origin_port &&
               is_same_domain(host, each.hostname)) {
      return origin_verdict::allowed;
    }
  }
  return origin_verdict::not_allowed;
}

}  // namespace batchcast::net
