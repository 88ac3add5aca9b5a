// The Boost.Asio and Boost.Beast names the network layer uses, spelled
// once so every file reads the same (`asio::`, `http::`, `websocket::`).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>

// Declared here so the aliases below work in files that include only the
// parts of Beast they use.
namespace boost::beast::http {}
namespace boost::beast::websocket {}

namespace batchcast::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

}  // namespace batchcast::net
