#include "net/tls_context.hpp"

#include <memory>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/ssl/context.hpp>

#include "common/log.hpp"
#include "common/small_file.hpp"

namespace batchcast::net {

namespace {

namespace ssl = boost::asio::ssl;

struct bio_deleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct x509_deleter {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
struct pkey_deleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

bio_ptr read_only_bio(const std::string& text) {
  // The files were checked to be at most text_file_limit bytes.
  return bio_ptr{BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))};
}

// An encrypted key would make OpenSSL ask for a passphrase on the
// terminal; answering with none makes it fail instead.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

// Whether the error queue ends with PEM's "no start line": how reading a
// PEM text past its last block ends.
bool last_error_is_end_of_pem() {
  auto code = ERR_peek_last_error();
  return ERR_GET_LIB(code) == ERR_LIB_PEM &&
         ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
}

// The server's certificate and then its intermediates, as
// SSL_CTX_use_certificate_chain_file reads them from a file.
bool use_certificate_chain(SSL_CTX* native, const std::string& pem) {
  auto bio = read_only_bio(pem);
  x509_ptr leaf{
      PEM_read_bio_X509_AUX(bio.get(), nullptr, no_passphrase, nullptr)};
  if (!leaf || SSL_CTX_use_certificate(native, leaf.get()) != 1)
    return false;
  SSL_CTX_clear_chain_certs(native);
  while (x509_ptr link{
      PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)}) {
    if (SSL_CTX_add0_chain_cert(native, link.get()) != 1)
      return false;
    link.release();  // the context owns it now
  }
  if (!last_error_is_end_of_pem())
    return false;
  ERR_clear_error();
  return true;
}

bool use_private_key(SSL_CTX* native, const std::string& pem) {
  auto bio = read_only_bio(pem);
  pkey_ptr key{
      PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)};
  return key && SSL_CTX_use_PrivateKey(native, key.get()) == 1;
}

// A certificate clients will refuse still lets the service start: the
// operator may be renewing it, and the plain-HTTP probes keep working.
// But it is worth a line that says so.
void warn_outside_validity(SSL_CTX* native, const std::string& file) {
  X509* certificate = SSL_CTX_get0_certificate(native);
  if (certificate == nullptr)
    return;
  static const auto log = logger("net");
  if (X509_cmp_current_time(X509_get0_notAfter(certificate)) < 0)
    log->warn(
        "the TLS certificate in {} has expired; clients will refuse "
        "it until it is renewed",
        file);
  else if (X509_cmp_current_time(X509_get0_notBefore(certificate)) > 0)
    log->warn(
        "the TLS certificate in {} is not valid yet; clients will "
        "refuse it until then (is the clock right?)",
        file);
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

tls_files read_tls_files(const std::string& certificate_file,
                         const std::string& key_file) {
  tls_files files;
  files.certificate_file = certificate_file;
  files.key_file = key_file;
  files.certificate_pem = read_small_file(certificate_file, text_file_limit,
                                          "TLS certificate file");
  files.key_pem = read_small_file(key_file, text_file_limit, "TLS key file");
  return files;
}

tls_context_ptr make_server_tls_context(const tls_files& files) {
  if (files.certificate_file.empty())
    throw std::runtime_error("a TLS key file (" + files.key_file +
                             ") was given without a certificate file");
  if (files.key_file.empty())
    throw std::runtime_error("a TLS certificate file (" +
                             files.certificate_file +
                             ") was given without a key file");

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

  if (!use_certificate_chain(native, files.certificate_pem))
    throw std::runtime_error(
        "TLS certificate file " + files.certificate_file +
        " holds no usable PEM certificate: " + openssl_reason());
  if (!use_private_key(native, files.key_pem)) {
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
  warn_outside_validity(native, files.certificate_file);
  return context;
}

}  // namespace batchcast::net
