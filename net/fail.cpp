#include "net/fail.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>

#include "common/log.hpp"

namespace batchcast::net {

bool is_normal_ending(const error_code& ec) {
  return ec == asio::error::operation_aborted || ec == asio::error::eof ||
         ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::not_connected ||
         ec == websocket::error::closed || ec == http::error::end_of_stream ||
         ec == beast::error::timeout ||
         // The client hung up halfway through its request: a tab closed
         // during the handshake, a port scanner. Nothing to act on.
         ec == http::error::partial_message;
}

void fail(std::uint64_t connection_id, const char* what, const error_code& ec) {
  static const auto log = logger("net");
  if (is_normal_ending(ec))
    log->debug("conn={} {}: {}", connection_id, what, ec.message());
  else
    log->warn("conn={} {} failed: {}", connection_id, what, ec.message());
}

}  // namespace batchcast::net
