// The one place I/O errors are reported. The ordinary ways a connection
// ends (our own cancellation, the peer closing or going away) are logged
// at debug only; anything else is a warning an operator may act on.
#pragma once

#include <cstdint>
#include <string>

#include "net/asio.hpp"

namespace batchcast::net {

// True for the errors every connection ends with sooner or later.
bool is_normal_ending(const error_code& ec);

// Logs `what` failed with `ec` for connection `connection_id` on the
// "net" logger.
void fail(std::uint64_t connection_id, const char* what, const error_code& ec);

// Logs a failed TLS handshake at debug: a client that does not trust the
// certificate, a scanner, plain HTTP sent to a TLS port, or a client that
// said nothing before the deadline. They are the client's doing, and one
// line each at warning level would let anyone fill the log.
void tls_handshake_failed(std::uint64_t connection_id, const std::string& peer,
                          const error_code& ec);

}  // namespace batchcast::net
