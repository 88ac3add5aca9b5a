#include "app/tls_client.hpp"

#include <stdexcept>

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include "common/small_file.hpp"

namespace batchcast::app {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_client_tls_context(
    const std::string& ca_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (ca_file.empty()) {
    context->set_default_verify_paths(ec);
    if (ec)
      throw std::runtime_error("cannot load the system's trusted CAs: " +
                               ec.message());
    return context;
  }
  // Debian's whole bundle is about 200 KiB.
  auto authorities = read_small_file(ca_file, text_file_limit, "CA file");
  context->add_certificate_authority(boost::asio::buffer(authorities), ec);
  if (ec)
    throw std::runtime_error(
        "CA file " + ca_file +
        " holds no usable PEM certificate: " + ec.message());
  return context;
}

namespace {

// SNI must not carry an address, and an address is checked as one.
bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

void expect_server_name(SSL* ssl, const std::string& host) {
  // OpenSSL checks the name (or address) while it verifies the chain, so a
  // certificate for another host fails the handshake itself.
  auto* parameters = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(parameters,
                                  X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  int set = is_ip_literal(host)
                ? X509_VERIFY_PARAM_set1_ip_asc(parameters, host.c_str())
                : X509_VERIFY_PARAM_set1_host(parameters, host.c_str(), 0);
  if (set != 1)
    throw std::runtime_error("cannot verify TLS for host " + host);
  if (!is_ip_literal(host) && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1)
    throw std::runtime_error("cannot send the TLS server name " + host);
}

std::string describe_tls_failure(const boost::beast::error_code& ec) {
  auto text = ec.message();
  if (ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_REASON(ec.value()) == SSL_R_CERTIFICATE_VERIFY_FAILED)
    text +=
        " (the server's certificate is not trusted here, or names another "
        "host; give --ca-file FILE to trust a private CA or a self-signed "
        "certificate)";
  return text;
}

}  // namespace batchcast::app
