// The server side of TLS: a certificate (chain) and its private key, both
// PEM files, loaded once at start into the OpenSSL context every TLS
// connection of one listener shares.
//
// The files are read into memory before the service starts any thread, by
// read_tls_files: a key given as a FIFO or a slow pipe then blocks only
// the start, which SIGTERM still ends.
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

// A listener's certificate and key: where they came from, for messages,
// and what they hold. No file names: plain TCP.
struct tls_files {
  std::string certificate_file;
  std::string key_file;
  std::string certificate_pem;  // the server's certificate first, then
                                // any intermediates
  std::string key_pem;          // not encrypted

  bool enabled() const {
    return !certificate_file.empty() || !key_file.empty();
  }
};

// Reads both files (a chain is small: each is refused past 1 MiB). Throws
// std::runtime_error naming the file that cannot be read and why.
tls_files read_tls_files(const std::string& certificate_file,
                         const std::string& key_file);

using tls_context_ptr = std::shared_ptr<boost::asio::ssl::context>;

// Loads `files` into a new server context. Throws std::runtime_error with
// a message naming the file at fault when only one of the two is given, a
// file holds no usable PEM, or the key does not belong to the
// certificate. The key's contents never appear in a message. Logs a
// warning for a certificate outside its validity period: clients will
// refuse it, but the operator may be replacing it right now.
tls_context_ptr make_server_tls_context(const tls_files& files);

}  // namespace batchcast::net
