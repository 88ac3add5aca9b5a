#include "app/url.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <arpa/inet.h>

#include "app/request_values.hpp"
#include "app/settings.hpp"
#include "common/host_port.hpp"
#include "common/terminal_text.hpp"

namespace batchcast::app {

namespace {

std::uint16_t default_port(const std::string& scheme) {
  return scheme == "https" || scheme == "wss" ? 443 : 80;
}

}  // namespace

std::string parsed_url::authority() const {
  return host_and_port(host, port);
}

parsed_url parse_url(const std::string& text, const std::string& what) {
  auto fail = [&](const std::string& why) {
    return std::invalid_argument(what + ": " + why + " in `" + printable(text) +
                                 "`");
  };
  auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos)
    throw fail("expected scheme://host:port");
  parsed_url url;
  url.scheme = text.substr(0, scheme_end);
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (url.scheme != "ws" && url.scheme != "wss" && url.scheme != "http" &&
      url.scheme != "https")
    throw fail("unsupported scheme `" + url.scheme + "`");

  auto rest = text.substr(scheme_end + 3);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (slash != std::string::npos)
    url.path = rest.substr(slash);
  while (!url.path.empty() && url.path.back() == '/')
    url.path.pop_back();

  std::string port_text;
  bool has_port = false;  // a ':' after the host, digits or not
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos)
      throw fail("unterminated [IPv6] host");
    url.host = authority.substr(1, close - 1);
    // Anything else would be looked up as a name.
    in6_addr read{};
    if (::inet_pton(AF_INET6, url.host.c_str(), &read) != 1)
      throw fail("brackets hold an IPv6 address");
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':')
        throw fail("unexpected text after the host");
      port_text = authority.substr(close + 2);
      has_port = true;
    }
  } else {
    auto colon = authority.find(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
  }
  if (url.host.empty())
    throw fail("missing host");
  // Both go into the request as they are: the host in the Host header,
  // the path in the request line.
  if (!is_sendable_host(url.host))
    throw fail(
        "a host holds only letters, digits, '-', '.' and '_' (or an "
        "IPv6 address in brackets)");
  // The resolver reads 127.1 or 0177.0.0.1 as an address other than it
  // looks: the token or session would go there.
  if (auto problem = ambiguous_ipv4_problem(url.host); !problem.empty())
    throw fail(problem);
  if (!is_sendable_path(url.path))
    throw fail(
        "a path holds only what a URL path may (no query, '#', "
        "space, control character, non-ASCII or . or .. segment; "
        "escape others as %XX)");

  url.port = default_port(url.scheme);
  // "host:" names no port; the scheme's would be a guess.
  if (has_port) {
    bool digits = port_text.size() <= 5 &&
                  std::all_of(port_text.begin(), port_text.end(),
                              [](unsigned char c) { return std::isdigit(c); });
    if (!digits || std::stoul(port_text) > 65535 || std::stoul(port_text) == 0)
      throw fail("bad port `" + port_text + "`");
    url.port = static_cast<std::uint16_t>(std::stoul(port_text));
  }
  return url;
}

}  // namespace batchcast::app
