// TLS for the commands that dial the service (publish, watch): the
// server's certificate is always verified, against the system's trust
// store, or against only the certificates in a CA file the user names
// (a private CA, or a self-signed server certificate). There is no way to
// switch verification off.
#pragma once

#include <memory>
#include <string>

#include <openssl/ssl.h>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>

namespace batchcast::app {

// A client context for TLS 1.2 and later that verifies the peer. With an
// empty `ca_file` it trusts what the system trusts (Debian:
// /etc/ssl/certs); otherwise only that PEM file. Throws
// std::runtime_error naming the file when it cannot be read or holds no
// certificate.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(
    const std::string& ca_file);

// Makes the connection `ssl` (a stream's native_handle()) send `host` as
// the server name (SNI, unless it is an IP address) and accept only a
// certificate issued for that name or address. Call before the
// handshake. Throws std::runtime_error if OpenSSL refuses the name.
void expect_server_name(SSL* ssl, const std::string& host);

// "certificate verify failed", with a hint at --ca-file when that is
// what went wrong.
std::string describe_tls_failure(const boost::beast::error_code& ec);

}  // namespace batchcast::app
