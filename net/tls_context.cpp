#include "net/tls_context.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/ssl/context.hpp>

namespace batchcast::net {

namespace {

namespace ssl = boost::asio::ssl;

// Fails early, with the operating system's reason, on a file that is
// missing or that the service's user may not read: OpenSSL's own message
// for that case ("system library") says little.
void require_readable(const std::string& path, const char* what) {
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("cannot read TLS " + std::string{what} + " file " +
                             path + ": " + std::strerror(errno));
}

// Whether OpenSSL's last failure was a key that does not belong to the
// certificate (OpenSSL 3 checks that as the key is loaded).
bool last_error_is_mismatch() {
  auto code = ERR_peek_last_error();
  return ERR_GET_LIB(code) == ERR_LIB_X509 &&
         ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH;
}

std::runtime_error mismatch(const tls_files& files) {
  ERR_clear_error();
  return std::runtime_error("TLS key file " + files.key_file +
                            " does not match the certificate in " +
                            files.certificate_file);
}

// OpenSSL's reason for a failure, e.g. "no start line" for a file that is
// not PEM: the first error queued is the cause, later ones only say which
// layer passed it on. The queue is emptied either way.
std::string openssl_reason() {
  auto code = ERR_peek_error();
  ERR_clear_error();
  if (code == 0)
    return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "OpenSSL error " + std::to_string(code);
}

}  // namespace

tls_context_ptr make_server_tls_context(const tls_files& files) {
  if (files.certificate_file.empty())
    throw std::runtime_error("a TLS key file (" + files.key_file +
                             ") was given without a certificate file");
  if (files.key_file.empty())
    throw std::runtime_error("a TLS certificate file (" +
                             files.certificate_file +
                             ") was given without a key file");
  require_readable(files.certificate_file, "certificate");
  require_readable(files.key_file, "key");

  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  auto* native = context->native_handle();
  ERR_clear_error();
  // Older protocols have known weaknesses and no client worth serving
  // still needs them.
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // Renegotiation lets one client make the server redo expensive
  // handshakes on an open connection; nothing here needs it.
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An idle WebSocket holds no read or write buffer of OpenSSL's between
  // records, which keeps thousands of idle TLS sockets affordable.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  // An encrypted key would make OpenSSL prompt on the terminal; with an
  // empty passphrase it fails instead, and the error says so.
  context->set_password_callback(
      [](std::size_t, ssl::context::password_purpose) {
        return std::string{};
      });

  if (SSL_CTX_use_certificate_chain_file(native,
                                         files.certificate_file.c_str()) != 1)
    throw std::runtime_error(
        "TLS certificate file " + files.certificate_file +
        " holds no usable PEM certificate: " + openssl_reason());
  if (SSL_CTX_use_PrivateKey_file(native, files.key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1) {
    if (last_error_is_mismatch())
      throw mismatch(files);
    throw std::runtime_error(
        "TLS key file " + files.key_file +
        " holds no usable PEM private key (an encrypted key is not "
        "supported): " +
        openssl_reason());
  }
  if (SSL_CTX_check_private_key(native) != 1)
    throw mismatch(files);
  return context;
}

}  // namespace batchcast::net
