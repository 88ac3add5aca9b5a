#include "app/publish_command.hpp"

#include <functional>
#include <iostream>
#include <limits>
#include <type_traits>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include "app/request_values.hpp"
#include "app/resolve_url.hpp"
#include "app/settings.hpp"
#include "app/strict_json.hpp"
#include "app/tls_client.hpp"
#include "app/url.hpp"
#include "common/terminal_text.hpp"
#include "net/bearer_token.hpp"
#include "storage/batch_status.hpp"

namespace batchcast::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using request_type = http::request<http::string_body>;

// A reply that came but could not be read is not "no reply": the server
// sent something larger than any answer of the publish API (a few
// hundred bytes), or something that is not HTTP.
std::string describe_read_failure(const beast::error_code& ec) {
  if (ec == http::error::body_limit || ec == http::error::header_limit)
    return "reply too large for an answer of the publish API (" + ec.message() +
           "): is the URL batchcast's internal listener?";
  // end_of_stream: closed before a reply began. Beast's other HTTP
  // errors: bytes came, but not an HTTP response.
  auto http_errors = http::make_error_code(http::error::end_of_stream);
  if (ec != http::error::end_of_stream &&
      ec.category() == http_errors.category())
    return "unreadable reply: " + ec.message();
  return "no reply: " + ec.message();
}

// Over http://, a listener that speaks only TLS answers the request with
// a TLS alert or handshake record (first byte 0x15 or 0x16), or closes
// without a word; either way the read fails with a message that does not
// say why.
template <class Stream>
std::string tls_hint(const beast::error_code& ec,
                     const beast::flat_buffer& received) {
  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    return "";
  } else {
    auto first = static_cast<const unsigned char*>(received.data().data());
    bool tls_record = received.size() > 0 && (*first == 0x15 || *first == 0x16);
    bool closed_at_once =
        received.size() == 0 &&
        (ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset);
    if (tls_record || closed_at_once)
      return "; is the internal listener using TLS? use https://";
    return "";
  }
}

// Connects (and, over TLS, verifies the server), sends `request` and
// reads the answer into `reply`. Each step is bounded by `timeout`.
template <class Stream>
void exchange(asio::io_context& io, Stream& stream, const parsed_url& url,
              const request_type& request, std::chrono::seconds timeout,
              http_reply& reply) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp::resolver resolver{io};
  tcp_layer.expires_after(timeout);
  tcp_layer.async_connect(resolve_url(resolver, url),
                          [&](beast::error_code ec, auto) {
                            if (ec)
                              reply.error = "connect failed: " + ec.message();
                          });
  io.run();
  if (!reply.error.empty())
    return;

  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    expect_server_name(stream.native_handle(), url.host);
    io.restart();
    tcp_layer.expires_after(timeout);
    stream.async_handshake(
        asio::ssl::stream_base::client, [&](beast::error_code ec) {
          if (ec)
            reply.error = "TLS handshake failed: " + describe_tls_failure(ec);
        });
    io.run();
    if (!reply.error.empty())
      return;
  }

  http::response<http::string_body> response;
  beast::flat_buffer buffer;
  // Interim answers (100 Continue, 103 Early Hints) may come before the
  // real one (RFC 9110, 15.2); a few are passed over, within the timeout.
  int interim_left = 8;
  std::function<void()> read_answer = [&] {
    http::async_read(
        stream, buffer, response, [&](beast::error_code read_ec, auto) {
          if (read_ec) {
            reply.error = describe_read_failure(read_ec) +
                          tls_hint<Stream>(read_ec, buffer);
            return;
          }
          auto code = response.result_int();
          if (code >= 100 && code < 200 && code != 101 && interim_left-- > 0) {
            response = {};
            read_answer();
          }
        });
  };
  io.restart();
  tcp_layer.expires_after(timeout);
  http::async_write(stream, request, [&](beast::error_code ec, auto) {
    if (ec) {
      reply.error = "send failed: " + ec.message();
      return;
    }
    read_answer();
  });
  io.run();
  if (!reply.error.empty())
    return;
  reply.status = response.result_int();
  reply.body = response.body();
}

}  // namespace

http_reply publish_status(const publish_options& options) {
  http_reply reply;
  try {
    auto url = parse_url(options.url, "--url");
    if (url.scheme != "http" && url.scheme != "https")
      throw std::invalid_argument("--url: expected http:// or https://");
    // Goes into the request line as it is.
    if (auto problem = batch_id_problem(options.batch_id, "BATCH_ID"))
      throw std::invalid_argument(*problem);

    nlohmann::json body{{"status", options.status}};
    if (!options.organization_id.empty())
      body["organization"] = options.organization_id;

    request_type request{
        http::verb::post,
        url.path + "/api/v1/radius/batch/" + options.batch_id + "/status", 11};
    request.set(http::field::host, url.authority());
    request.set(http::field::user_agent, "batchcast-publish");
    request.set(http::field::content_type, "application/json");
    request.set(http::field::authorization, "Bearer " + options.token);
    request.body() = body.dump();
    request.prepare_payload();

    asio::io_context io;
    std::chrono::seconds timeout{options.timeout_seconds};
    if (url.scheme == "https") {
      auto tls = make_client_tls_context(options.ca_file);
      beast::ssl_stream<beast::tcp_stream> stream{io, *tls};
      exchange(io, stream, url, request, timeout, reply);
    } else {
      beast::tcp_stream stream{io};
      exchange(io, stream, url, request, timeout, reply);
    }
  } catch (const std::exception& e) {
    reply.error = e.what();
  }
  return reply;
}

// "2026-12-04T15:41:40.123Z", as the publish API writes every stamp.
bool is_api_timestamp(const std::string& text) {
  constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (text.size() != shape.size())
    return false;
  for (std::size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(text[i]))
                        : text[i] != shape[i])
      return false;
  auto number = [&](std::size_t at, std::size_t digits) {
    return std::stoi(text.substr(at, digits));
  };
  auto month = number(5, 2), day = number(8, 2);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 &&
         number(11, 2) < 24 && number(14, 2) < 60 && number(17, 2) < 60;
}

bool is_acknowledgement(const std::string& body, const std::string& batch_id) {
  auto parsed = parse_strict_object(body);
  if (!parsed || parsed->size() != 3)
    return false;
  auto text_of = [&](const char* key) -> std::optional<std::string> {
    auto found = parsed->find(key);
    if (found == parsed->end() || !found->is_string())
      return std::nullopt;
    return found->get<std::string>();
  };
  auto batch = text_of("batch");
  auto status = text_of("status");
  auto updated_at = text_of("updated_at");
  // The status held may be another than the one sent (a newer publish),
  // but it is one of the four.
  return batch == batch_id && status && storage::parse_batch_status(*status) &&
         updated_at && is_api_timestamp(*updated_at);
}

void add_publish_command(CLI::App& parent, int& exit_code) {
  auto options = std::make_shared<publish_options>();
  auto* command = parent.add_subcommand(
      "publish",
      "Publish a batch status to the internal API and wait until "
      "it is committed");
  command
      ->add_option("BATCH_ID", options->batch_id,
                   "Batch uuid, lowercase and dashed as in the admin "
                   "page's URLs")
      ->required();
  command
      ->add_option("STATUS", options->status,
                   "pending, processing, completed or failed")
      ->required();
  command->add_option("--url", options->url,
                      "Internal listener, e.g. http://127.0.0.1:8001 or "
                      "https://batchcast.internal:8001");
  command->add_option("--ca-file", options->ca_file,
                      "PEM file of the CA (or self-signed certificate) to "
                      "trust for https:// instead of the system's CAs");
  command->add_option("--token", options->token,
                      "Publish API bearer token (or BATCHCAST_TOKEN, "
                      "BATCHCAST_PUBLISH_TOKEN)");
  command->add_option("--organization", options->organization_id,
                      "Organization uuid, to create an unknown batch");
  command
      ->add_option("--timeout", options->timeout_seconds,
                   "Seconds to wait for the reply")
      ->capture_default_str()
      ->transform(whole_number(1, std::numeric_limits<int>::max()));
  describe_environment(*command, "url", false);
  command->callback([command, options, &exit_code] {
    std::string token_source = "--token";
    if (command->get_option("--token")->count() == 0)
      token_source = environment_value("BATCHCAST_TOKEN")
                         ? "BATCHCAST_TOKEN"
                         : "BATCHCAST_PUBLISH_TOKEN";
    apply_environment_and_config(*command, {});
    if (options->token.empty())
      options->token =
          environment_value("BATCHCAST_PUBLISH_TOKEN").value_or("");
    if (options->url.empty() || options->token.empty()) {
      std::cerr << "batchcast publish: --url and --token are required\n";
      exit_code = 2;
      return;
    }
    // Sent as it is, such a token is refused by the server (or breaks the
    // request); not quoted, as it is a secret.
    if (auto reason = net::unsendable_token_reason(options->token)) {
      std::cerr << "batchcast publish: the token in " << token_source
                << " cannot be sent in an Authorization header: " << *reason
                << "\n";
      exit_code = 2;
      return;
    }
    auto reply = publish_status(*options);
    // The body is the server's text, printed escaped: it may hold
    // terminal escape codes.
    if (reply.status == 200 &&
        is_acknowledgement(reply.body, options->batch_id)) {
      std::cout << printable(reply.body) << std::endl;
      exit_code = 0;
      return;
    }
    if (reply.status == 0)
      std::cerr << "batchcast publish: " << reply.error << "\n";
    else if (reply.status == 200)
      std::cerr << "batchcast publish: HTTP 200, but not the stored record "
                   "the publish API answers with, so the status may not be "
                   "stored; is --url the internal listener? Body: "
                << printable(reply.body) << "\n";
    else
      std::cerr << "batchcast publish: HTTP " << reply.status << ": "
                << printable(reply.body) << "\n";
    exit_code = 2;
  });
}

}  // namespace batchcast::app
