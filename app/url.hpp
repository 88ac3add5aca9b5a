// The small URL subset the command-line clients accept:
// scheme://host[:port][/path], with an IPv6 host in brackets.
#pragma once

#include <cstdint>
#include <string>

namespace batchcast::app {

struct parsed_url {
  std::string scheme;      // lowercase: ws, wss, http, https
  std::string host;        // without brackets
  std::uint16_t port = 0;  // the scheme's default when absent
  std::string path;        // without a trailing slash; empty for the root
  // host[:port] as it goes in a Host header.
  std::string authority() const;
};

// Throws std::invalid_argument with a message naming `what` for an
// unsupported scheme, a missing host, a bad port, a host or path that
// cannot be sent as it is (see is_sendable_host and is_sendable_path),
// or a number read as another IPv4 address (see ambiguous_ipv4_problem).
parsed_url parse_url(const std::string& text, const std::string& what);

}  // namespace batchcast::app
