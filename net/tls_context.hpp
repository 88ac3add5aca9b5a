// The server side of TLS: a certificate (chain) and its private key, both
// PEM files, loaded once at start into the OpenSSL context every TLS
// connection of one listener shares.
//
// What is supported: TLS 1.2 and 1.3 with OpenSSL's default cipher suites
// and security level; no client certificates; no TLS renegotiation. The
// files are read once: replacing them takes a restart (there is no reload
// on SIGHUP).
#pragma once

#include <memory>
#include <string>

// Declared only: the settings that name the files need not see OpenSSL.
namespace boost::asio::ssl {
class context;
}

namespace batchcast::net {

// Where a listener's certificate and key are. Both empty: plain TCP.
struct tls_files {
  std::string certificate_file;  // PEM; the server's certificate first,
                                 // then any intermediates
  std::string key_file;          // PEM private key, not encrypted

  bool enabled() const {
    return !certificate_file.empty() || !key_file.empty();
  }
};

using tls_context_ptr = std::shared_ptr<boost::asio::ssl::context>;

// Loads `files` into a new server context. Throws std::runtime_error with
// a message naming the file at fault when only one of the two is given, a
// file cannot be read or holds no usable PEM, or the key does not belong
// to the certificate. The key's contents never appear in a message.
tls_context_ptr make_server_tls_context(const tls_files& files);

}  // namespace batchcast::net
