#include "app/request_values.hpp"

#include <algorithm>

#include "storage/uuid.hpp"

namespace batchcast::app {

namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool in(char c, std::string_view set) {
  return set.find(c) != std::string_view::npos;
}

bool all_of(std::string_view text, bool (*accepted)(char)) {
  return std::all_of(text.begin(), text.end(), accepted);
}

// RFC 3986 pchar, but for '%', which must start an escape.
bool is_path_char(char c) {
  return is_alnum(c) || in(c, "-._~!$&'()*+,;=:@");
}

}  // namespace

std::optional<std::string> batch_id_problem(std::string_view id,
                                            std::string_view what) {
  if (storage::is_canonical_uuid(id))
    return std::nullopt;
  std::string reason = std::string{what} +
                       ": not a batch uuid (lowercase hex, dashed "
                       "8-4-4-4-12, as in the admin page's URLs)";
  if (auto canonical = storage::canonical_uuid(id))
    reason += "; the server takes this one only as " + *canonical;
  return reason;
}

std::optional<std::string> session_key_problem(std::string_view key) {
  if (key.empty())
    return "the session key is empty";
  if (key.size() > 256)
    return "the session key is longer than 256 characters; Django's have "
           "32";
  if (!all_of(key, [](char c) { return is_alnum(c) || in(c, "-_."); }))
    return "the session key holds a character other than a letter, a "
           "digit, '-', '_' or '.' (Django's keys are 32 of a-z and 0-9); "
           "copy only the sessionid cookie's value";
  return std::nullopt;
}

std::optional<std::string> cookie_name_problem(std::string_view name) {
  if (name.empty())
    return "the session cookie name is empty";
  if (!all_of(name,
              [](char c) { return is_alnum(c) || in(c, "!#$%&'*+-.^_`|~"); }))
    return "the session cookie name holds a character a cookie name cannot "
           "(a space, a control character, non-ASCII or one of "
           "()<>@,;:\\\"/[]?={})";
  return std::nullopt;
}

bool is_sendable_host(std::string_view host) {
  if (host.empty())
    return false;
  if (host.find(':') != std::string_view::npos)
    return all_of(host, [](char c) { return is_hex(c) || in(c, ":."); });
  return all_of(host, [](char c) { return is_alnum(c) || in(c, "-._"); });
}

// "." or "..", also escaped (%2e, %2E): servers and proxies decode the
// path before they route it, and the segment then moves it.
bool is_dot_segment(std::string_view segment) {
  std::string decoded;
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment.substr(i, 3) == "%2e" || segment.substr(i, 3) == "%2E") {
      decoded += '.';
      i += 2;
    } else {
      decoded += segment[i];
    }
  }
  return decoded == "." || decoded == "..";
}

bool is_sendable_path(std::string_view path) {
  std::size_t segment_start = 0;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      auto segment = path.substr(segment_start, i - segment_start);
      if (is_dot_segment(segment))
        return false;
      segment_start = i + 1;
      continue;
    }
    if (path[i] == '%') {
      if (i + 2 >= path.size() || !is_hex(path[i + 1]) || !is_hex(path[i + 2]))
        return false;
      continue;
    }
    if (!is_path_char(path[i]))
      return false;
  }
  return true;
}

std::optional<std::string> origin_problem(std::string_view origin) {
  const std::string expected =
      "--origin: expected scheme://host[:port], as a browser sends it, "
      "such as https://admin.example.com";
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0)
    return expected;
  auto scheme = origin.substr(0, scheme_end);
  if (!all_of(scheme, [](char c) { return is_alnum(c) || in(c, "+-."); }))
    return expected + " (the scheme holds other characters)";
  auto authority = origin.substr(scheme_end + 3);
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return expected + " (unterminated [IPv6] host)";
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return expected + " (text after the host)";
      port = after.substr(1);
      if (port.empty())
        return expected + " (empty port)";
    }
    if (host.find(':') == std::string_view::npos)
      return expected + " (only an IPv6 address goes in brackets)";
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty())
        return expected + " (empty port)";
    }
    if (host.find(':') != std::string_view::npos)
      return expected;
  }
  if (!is_sendable_host(host))
    return expected +
           " (the host is empty or holds a space, a control character, "
           "non-ASCII, a path or other characters no host has)";
  if (port.size() > 5 || !all_of(port, is_digit))
    return expected + " (the port is not a number)";
  return std::nullopt;
}

}  // namespace batchcast::app
