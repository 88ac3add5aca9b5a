#include "benchmarks/loadgen/loopback.hpp"

#include <stdexcept>

namespace batchcast::bench {

namespace asio = boost::asio;

bool is_loopback(const asio::ip::address& address) {
  if (address.is_v4())
    return (address.to_v4().to_uint() >> 24) == 127;
  auto v6 = address.to_v6();
  if (v6.is_loopback())
    return true;
  return v6.is_v4_mapped() &&
         is_loopback(asio::ip::make_address_v4(asio::ip::v4_mapped, v6));
}

loopback_url parse_loopback_url(const std::string& text,
                                const std::string& scheme) {
  auto prefix = scheme + "://";
  if (text.rfind(prefix, 0) != 0)
    throw std::invalid_argument("`" + text + "` does not start with " + prefix);
  auto rest = text.substr(prefix.size());
  if (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  if (rest.find('/') != std::string::npos)
    throw std::invalid_argument("`" + text + "`: give no path, only " + prefix +
                                "HOST:PORT");

  // "[::1]:8000" or "127.0.0.1:8000" or "localhost:8000".
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon + 1 == rest.size())
    throw std::invalid_argument("`" + text + "` has no port");
  auto host = rest.substr(0, colon);
  auto port_text = rest.substr(colon + 1);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);

  loopback_url url;
  boost::system::error_code ec;
  url.address = host == "localhost" ? asio::ip::make_address_v4("127.0.0.1")
                                    : asio::ip::make_address(host, ec);
  if (ec)
    throw std::invalid_argument("`" + host +
                                "` is not an IP address (no name lookups)");
  if (!is_loopback(url.address))
    throw std::invalid_argument("refusing `" + host +
                                "`: only loopback targets are allowed");

  std::size_t used = 0;
  unsigned long port = 0;
  try {
    port = std::stoul(port_text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != port_text.size() || port == 0 || port > 65535)
    throw std::invalid_argument("`" + port_text + "` is not a port");
  url.port = static_cast<std::uint16_t>(port);
  url.host_header = rest;
  return url;
}

std::vector<asio::ip::address> source_addresses(const asio::ip::address& target,
                                                unsigned count) {
  if (!target.is_v4() || count == 0)
    return {target.is_v4() ? asio::ip::address{asio::ip::address_v4{}}
                           : asio::ip::address{asio::ip::address_v6{}}};
  std::vector<asio::ip::address> sources;
  // 127.0.0.1 is skipped so the clients never share the server's own
  // address range of ports; 253 sources is far more than any run needs.
  for (unsigned i = 0; i < count && i < 253; ++i)
    sources.emplace_back(asio::ip::address_v4{(127u << 24) | (2u + i)});
  return sources;
}

}  // namespace batchcast::bench
