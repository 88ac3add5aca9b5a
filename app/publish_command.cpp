#include "app/publish_command.hpp"

#include <iostream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "app/settings.hpp"
#include "app/url.hpp"

namespace batchcast::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

http_reply publish_status(const publish_options& options) {
  http_reply reply;
  try {
    auto url = parse_url(options.url, "--url");
    if (url.scheme != "http")
      throw std::invalid_argument("--url: only http:// is supported");

    nlohmann::json body{{"status", options.status}};
    if (!options.organization_id.empty())
      body["organization"] = options.organization_id;

    http::request<http::string_body> request{
        http::verb::post,
        url.path + "/api/v1/radius/batch/" + options.batch_id + "/status", 11};
    request.set(http::field::host, url.authority());
    request.set(http::field::user_agent, "batchcast-publish");
    request.set(http::field::content_type, "application/json");
    request.set(http::field::authorization, "Bearer " + options.token);
    request.body() = body.dump();
    request.prepare_payload();

    asio::io_context io;
    beast::tcp_stream stream{io};
    tcp::resolver resolver{io};
    stream.expires_after(std::chrono::seconds{options.timeout_seconds});
    stream.async_connect(resolver.resolve(url.host, std::to_string(url.port)),
                         [&](beast::error_code ec, auto) {
                           if (ec)
                             reply.error = "connect failed: " + ec.message();
                         });
    io.run();
    if (!reply.error.empty())
      return reply;

    http::response<http::string_body> response;
    beast::flat_buffer buffer;
    io.restart();
    stream.expires_after(std::chrono::seconds{options.timeout_seconds});
    http::async_write(stream, request, [&](beast::error_code ec, auto) {
      if (ec) {
        reply.error = "send failed: " + ec.message();
        return;
      }
      http::async_read(stream, buffer, response,
                       [&](beast::error_code read_ec, auto) {
                         if (read_ec)
                           reply.error = "no reply: " + read_ec.message();
                       });
    });
    io.run();
    if (!reply.error.empty())
      return reply;
    reply.status = response.result_int();
    reply.body = response.body();
  } catch (const std::exception& e) {
    reply.error = e.what();
  }
  return reply;
}

void add_publish_command(CLI::App& parent, int& exit_code) {
  auto options = std::make_shared<publish_options>();
  auto* command = parent.add_subcommand(
      "publish",
      "Publish a batch status to the internal API and wait until "
      "it is committed");
  command->add_option("BATCH_ID", options->batch_id, "Batch uuid")->required();
  command
      ->add_option("STATUS", options->status,
                   "pending, processing, completed or failed")
      ->required();
  command->add_option("--url", options->url,
                      "Internal listener, e.g. http://127.0.0.1:8001");
  command->add_option("--token", options->token,
                      "Publish API bearer token (or BATCHCAST_TOKEN, "
                      "BATCHCAST_PUBLISH_TOKEN)");
  command->add_option("--organization", options->organization_id,
                      "Organization uuid, to create an unknown batch");
  command
      ->add_option("--timeout", options->timeout_seconds,
                   "Seconds to wait for the reply")
      ->capture_default_str();
  describe_environment(*command);
  command->callback([command, options, &exit_code] {
    apply_environment_and_config(*command, {});
    if (options->token.empty())
      options->token =
          environment_value("BATCHCAST_PUBLISH_TOKEN").value_or("");
    if (options->url.empty() || options->token.empty()) {
      std::cerr << "batchcast publish: --url and --token are required\n";
      exit_code = 2;
      return;
    }
    auto reply = publish_status(*options);
    if (reply.status == 200) {
      std::cout << reply.body << std::endl;
      exit_code = 0;
      return;
    }
    if (reply.status == 0)
      std::cerr << "batchcast publish: " << reply.error << "\n";
    else
      std::cerr << "batchcast publish: HTTP " << reply.status << ": "
                << reply.body << "\n";
    exit_code = 2;
  });
}

}  // namespace batchcast::app
