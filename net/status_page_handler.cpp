#include "net/status_page_handler.hpp"

#include <cctype>
#include <optional>
#include <utility>

#include "actors/services.hpp"
#include "common/log.hpp"
#include "net/origin.hpp"
#include "net/server_context.hpp"
#include "net/status_page.hpp"

namespace batchcast::net {

namespace {

const std::shared_ptr<spdlog::logger>& log() {
  static const auto instance = logger("net");
  return instance;
}

bool is_domain_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}

bool is_digits(std::string_view text) {
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
  return !text.empty();
}

// "[" hex* ":" (hex | "." | ":")+ "]", as Django's host_validation_re.
bool is_bracketed_ipv6(std::string_view text) {
  if (text.size() < 4 || text.front() != '[' || text.back() != ']')
    return false;
  auto inner = text.substr(1, text.size() - 2);
  auto colon = inner.find(':');
  if (colon == std::string_view::npos || colon + 1 == inner.size())
    return false;
  for (std::size_t i = 0; i < inner.size(); ++i) {
    char c = inner[i];
    bool hex = std::isxdigit(static_cast<unsigned char>(c)) != 0;
    if (!(hex || (i >= colon && (c == ':' || c == '.'))))
      return false;
  }
  return true;
}

// django.http.request.split_domain_port, for a lowercased host: the
// domain without port and trailing dot, or nothing when Django would find
// the host invalid.
std::optional<std::string> domain_of(const std::string& host) {
  std::string_view rest{host};
  if (!rest.empty() && rest.front() == '[') {
    auto end = rest.find(']');
    if (end == std::string_view::npos)
      return std::nullopt;
    auto port = rest.substr(end + 1);
    if (!is_bracketed_ipv6(rest.substr(0, end + 1)) ||
        !(port.empty() || (port.front() == ':' && is_digits(port.substr(1)))))
      return std::nullopt;
    return std::string{rest.substr(0, end + 1)};
  }
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos) {
    if (!is_digits(rest.substr(colon + 1)))
      return std::nullopt;
    rest = rest.substr(0, colon);
  }
  if (rest.empty())
    return std::nullopt;
  for (char c : rest)
    if (!is_domain_char(c))
      return std::nullopt;
  if (rest.back() == '.')
    rest.remove_suffix(1);
  return std::string{rest};
}

page_response make_response(http::status status, unsigned http_version) {
  auto response =
      std::make_unique<http::response<http::string_body>>(status, http_version);
  response->set(http::field::server, "batchcast");
  // The page shows who may see what: no shared or browser cache keeps it.
  response->set(http::field::cache_control, "no-store");
  response->set(http::field::x_frame_options, "DENY");
  response->set("X-Content-Type-Options", "nosniff");
  response->set("Referrer-Policy", "no-referrer");
  response->keep_alive(false);
  return response;
}

// "403 Forbidden" as plain text: the status line says it all, and the
// body never says which check failed.
page_response page_refusal(http::status status, unsigned http_version) {
  auto response = make_response(status, http_version);
  response->set(http::field::content_type, "text/plain");
  response->body() = std::to_string(static_cast<unsigned>(status)) + " " +
                     std::string{http::obsolete_reason(status)} + "\n";
  response->prepare_payload();
  return response;
}

page_response page_document(const status_page_request& request,
                            storage::batch_status status) {
  auto nonce = make_csp_nonce();
  if (!nonce) {
    log()->error(
        "conn={} batch={} page refused 503: no randomness for a "
        "CSP nonce",
        request.connection_id, request.batch_id);
    return page_refusal(http::status::service_unavailable,
                        request.http_version);
  }
  auto response = make_response(http::status::ok, request.http_version);
  response->set(http::field::content_type, "text/html; charset=utf-8");
  response->set("Content-Security-Policy",
                status_page_policy(*nonce, request.host));
  response->body() = render_status_page(request.batch_id, status, *nonce);
  response->prepare_payload();
  return response;
}

// Authorized: the stored status decides what the page shows first.
void show_stored_status(std::shared_ptr<server_context> context,
                        status_page_request request, std::string user_id,
                        std::function<void(page_response)> done) {
  auto batch_id = request.batch_id;
  auto on_record = [request = std::move(request), user_id = std::move(user_id),
                    done = std::move(done)](actors::api_result result) {
    auto status = storage::batch_status::pending;
    if (auto* record = std::get_if<storage::batch_record>(&result)) {
      status = record->status;
    } else if (auto failure = std::get<actors::api_failure>(result);
               failure != actors::api_failure::not_found) {
      log()->warn(
          "conn={} batch={} page refused 503: stored status "
          "unreadable ({})",
          request.connection_id, request.batch_id, actors::to_string(failure));
      done(page_refusal(http::status::service_unavailable,
                        request.http_version));
      return;
    }
    log()->info("page conn={} batch={} user={} status={} peer={}",
                request.connection_id, request.batch_id, user_id,
                storage::to_string(status), request.peer);
    done(page_document(request, status));
  };
  actors::fetch(context->system, context->services, std::move(batch_id),
                std::move(on_record));
}

}  // namespace

bool is_allowed_host(std::string_view host,
                     const std::vector<std::string>& allowed_hosts) {
  std::string lowered;
  for (char c : host)
    lowered.push_back(
        static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  auto domain = domain_of(lowered);
  if (!domain)
    return false;
  for (const auto& pattern : allowed_hosts)
    if (pattern == "*" || is_same_domain(*domain, pattern))
      return true;
  return false;
}

void answer_status_page(std::shared_ptr<server_context> context,
                        status_page_request request,
                        std::function<void(page_response)> done) {
  auto session_key = std::move(request.session_key);
  request.session_key.clear();
  auto batch_id = request.batch_id;
  auto on_verdict = [context, request = std::move(request),
                     done = std::move(done)](actors::auth_verdict verdict) {
    if (verdict.allowed) {
      show_stored_status(context, request, std::move(verdict.user_id), done);
      return;
    }
    // Same mapping as a refused upgrade: our failure is a 503, the
    // client's a 403, and only the log says which check it was.
    auto status = verdict.failure == storage::auth_failure::directory_failed
                      ? http::status::service_unavailable
                      : http::status::forbidden;
    log()->info("conn={} batch={} page refused {}: {} peer={}",
                request.connection_id, request.batch_id,
                static_cast<unsigned>(status),
                storage::to_string(verdict.failure), request.peer);
    done(page_refusal(status, request.http_version));
  };
  actors::authorize(context->system, context->services, std::move(session_key),
                    std::move(batch_id), std::move(on_verdict));
}

}  // namespace batchcast::net
