// Where the load goes. The load generator talks to loopback only: a target
// outside 127.0.0.0/8 or ::1 is refused before any socket is opened, so a
// typo can never point a load test at another machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace batchcast::bench {

// A parsed `ws://` or `http://` URL whose host is a loopback address.
struct loopback_url {
  boost::asio::ip::address address;
  std::uint16_t port = 0;
  std::string host_header;  // "127.0.0.1:8000", sent as Host
};

// Parses `scheme://HOST:PORT[/]` where HOST is a loopback literal or
// `localhost`. Throws std::invalid_argument for anything else, including a
// path (the loadgen builds its own paths) and non-loopback hosts.
loopback_url parse_loopback_url(const std::string& text,
                                const std::string& scheme);

// True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
bool is_loopback(const boost::asio::ip::address& address);

// The local addresses the clients bind before connecting: 127.0.0.2,
// 127.0.0.3, ... (`count` of them) for an IPv4 target. Each has its own
// ephemeral port range towards the server, so `count` sources allow about
// `count` times as many concurrent connections as one. For an IPv6 target
// there is only ::1, returned alone.
std::vector<boost::asio::ip::address> source_addresses(
    const boost::asio::ip::address& target, unsigned count);

}  // namespace batchcast::bench
