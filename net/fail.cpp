#include "net/fail.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
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
         // A TLS client that closed the connection without saying so in
         // TLS first (no close_notify), as many do.
         ec == asio::ssl::error::stream_truncated ||
         // A TLS alert or protocol error: the client's doing (with TLS
         // 1.3 a client that does not trust the certificate says so only
         // after the server's side of the handshake is done).
         ec.category() == asio::error::get_ssl_category() ||
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

void tls_handshake_failed(std::uint64_t connection_id, const std::string& peer,
                          const error_code& ec) {
  static const auto log = logger("net");
  log->debug("conn={} peer={} TLS handshake failed: {}", connection_id, peer,
             ec.message());
}

}  // namespace batchcast::net
