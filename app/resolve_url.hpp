// The addresses a client command (publish, watch) dials for its --url.
#pragma once

#include <stdexcept>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "app/url.hpp"

namespace batchcast::app {

// Throws std::runtime_error saying in words why the host did not resolve:
// Asio's own exception adds its source file and line to the message.
inline boost::asio::ip::tcp::resolver::results_type resolve_url(
    boost::asio::ip::tcp::resolver& resolver, const parsed_url& url) {
  boost::system::error_code ec;
  auto found = resolver.resolve(url.host, std::to_string(url.port), ec);
  if (ec)
    throw std::runtime_error("cannot resolve " + url.host + ": " +
                             ec.message());
  return found;
}

}  // namespace batchcast::app
