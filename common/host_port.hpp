// An address as people and tools write it: host:port, with an IPv6 host
// in brackets ([::1]:8000), so that where the port begins stays clear.
#pragma once

#include <cstdint>
#include <string>

namespace batchcast {

inline std::string host_and_port(const std::string& host, std::uint16_t port) {
  bool bare_ipv6 = host.find(':') != std::string::npos &&
                   !(host.size() > 1 && host.front() == '[');
  return (bare_ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace batchcast
