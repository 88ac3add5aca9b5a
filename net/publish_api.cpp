#include "net/publish_api.hpp"

#include <chrono>
#include <ctime>

#include <boost/beast/core/string.hpp>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "net/cluster_view.hpp"
#include "net/publish_body.hpp"
#include "net/routes.hpp"

namespace batchcast::net {

namespace {

// A publish refused by the store (a full disk, say) is refused again at
// every retry of every producer: a few lines say so, the metrics count
// them all. Shared by every connection.
log_throttle failed_publishes_logged;

const std::shared_ptr<spdlog::logger>& log() {
  static const auto instance = logger("api");
  return instance;
}

publish_api::response json_response(http::status status, std::string body,
                                    unsigned version, bool keep_alive) {
  publish_api::response answer{status, version};
  answer.set(http::field::server, "batchcast");
  answer.set(http::field::content_type, "application/json");
  answer.set(http::field::cache_control, "no-store");
  answer.body() = std::move(body);
  answer.keep_alive(keep_alive);
  answer.prepare_payload();
  return answer;
}

std::string record_json(const storage::batch_record& record) {
  nlohmann::json body{
      {"batch", record.batch_id},
      {"status", std::string{storage::to_string(record.status)}},
      {"updated_at", format_utc_millis(record.updated_at_ms)}};
  return body.dump();
}

// How each failure of the actor side reads to a producer.
struct failure_answer {
  http::status status;
  const char* message;
};

failure_answer answer_for(actors::api_failure failure) {
  using actors::api_failure;
  switch (failure) {
    case api_failure::not_found:
      return {http::status::not_found, "no status stored for this batch"};
    case api_failure::unknown_organization:
      return {http::status::bad_request, "unknown organization"};
    case api_failure::organization_mismatch:
      return {http::status::conflict,
              "the batch belongs to another organization"};
    case api_failure::storage_failed:
      return {http::status::service_unavailable, "storage failed"};
    case api_failure::shutting_down:
      return {http::status::service_unavailable, "shutting down"};
  }
  return {http::status::internal_server_error, "internal error"};
}

// Authorization is a singleton field (RFC 9110, 11.6.2). Of two, this
// server would judge the first while a proxy in front may have judged
// the other, so a request carrying more is refused whole.
bool has_one_authorization_at_most(const http::request_header<>& header) {
  return header.count(http::field::authorization) <= 1;
}

constexpr const char* malformed_id_message =
    "the batch id must be a canonical uuid";

bool is_probe_route(std::string_view target) {
  return is_health_route(target) || is_ready_route(target) ||
         is_metrics_route(target);
}

}  // namespace

bool expects_continue(const http::request_header<>& header) {
  return beast::iequals(header[http::field::expect], "100-continue");
}

std::string format_utc_millis(std::int64_t unix_ms) {
  // Floor division, so times before 1970 still print a valid clock.
  std::int64_t seconds = unix_ms / 1000;
  std::int64_t millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  auto as_time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  ::gmtime_r(&as_time, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                utc.tm_min, utc.tm_sec, static_cast<int>(millis));
  return text;
}

publish_api::publish_api(status_backend backend, std::string_view token,
                         std::size_t max_body_bytes,
                         std::string_view metrics_token)
    : backend_{std::move(backend)},
      token_{token},
      max_body_bytes_{max_body_bytes} {
  if (!metrics_token.empty())
    metrics_token_.emplace(metrics_token);
}

publish_api::response publish_api::error(http::status status,
                                         std::string_view message,
                                         unsigned version, bool keep_alive) {
  nlohmann::json body{{"error", message}};
  return json_response(status, body.dump(), version, keep_alive);
}

std::optional<publish_api::response> publish_api::check_header(
    const http::request_header<>& header,
    std::optional<std::uint64_t> content_length,
    const std::string& peer) const {
  if (content_length && *content_length > max_body_bytes_)
    return error(http::status::payload_too_large, "the body is too large",
                 header.version(), false);
  // The probes are answered once read whole, as they always are.
  auto target = header.target();
  if (!expects_continue(header) || is_probe_route(target))
    return std::nullopt;
  if (auto refused = refusal_before_body(header, peer, false))
    return refused;
  if (parse_api_route(target).kind == api_route::malformed_id)
    return error(http::status::bad_request, malformed_id_message,
                 header.version(), false);
  return std::nullopt;
}

std::optional<publish_api::response> publish_api::refusal_before_body(
    const http::request_header<>& header, const std::string& peer,
    bool keep_alive) const {
  auto version = header.version();
  auto target = header.target();
  if (parse_api_route(target).kind == api_route::other &&
      !is_cluster_route(target))
    return error(http::status::not_found, "not found", version, keep_alive);

  return token_refusal(token_, header, "peer=" + peer, keep_alive);
}

std::optional<publish_api::response> publish_api::token_refusal(
    const bearer_token_check& expected, const http::request_header<>& header,
    const std::string& what, bool keep_alive) const {
  auto version = header.version();
  if (!has_one_authorization_at_most(header))
    return error(http::status::bad_request,
                 "more than one Authorization header", version, keep_alive);
  auto token = parse_bearer_token(header[http::field::authorization]);
  if (token && expected.matches(*token))
    return std::nullopt;
  if (auto held_back = refusals_logged_.admit())
    log()->warn("refused 401 {}: {} bearer token{}", what,
                token ? "wrong" : "missing",
                log_throttle::held_back_note(*held_back));
  auto answer = error(http::status::unauthorized,
                      "missing or wrong bearer token", version, keep_alive);
  answer.set(http::field::www_authenticate, "Bearer");
  return answer;
}

void publish_api::handle(const request& req, const std::string& peer,
                         responder respond) const {
  auto version = req.version();
  bool keep_alive = req.keep_alive();

  if (handle_probe(req, respond))
    return;

  if (auto refused = refusal_before_body(req.base(), peer, keep_alive))
    return respond(std::move(*refused));

  if (is_cluster_route(req.target()))
    return handle_cluster(req, std::move(respond));
  auto route = parse_api_route(req.target());

  if (req.method() != http::verb::get && req.method() != http::verb::post) {
    auto answer = error(http::status::method_not_allowed, "method not allowed",
                        version, keep_alive);
    answer.set(http::field::allow, "GET, POST");
    return respond(std::move(answer));
  }
  if (route.kind == api_route::malformed_id)
    return respond(error(http::status::bad_request, malformed_id_message,
                         version, keep_alive));

  if (req.method() == http::verb::post)
    handle_publish(req, std::move(route.batch_id), peer, std::move(respond));
  else
    handle_fetch(req, std::move(route.batch_id), std::move(respond));
}

bool publish_api::handle_probe(const request& req, responder& respond) const {
  auto target = req.target();
  bool health = is_health_route(target);
  bool ready = !health && is_ready_route(target) && backend_.ready;
  bool scrape =
      !health && !ready && is_metrics_route(target) && backend_.metrics;
  if (!health && !ready && !scrape)
    return false;

  auto version = req.version();
  bool keep_alive = req.keep_alive();
  // The session drops the body of an answer to HEAD.
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    auto answer = error(http::status::method_not_allowed, "method not allowed",
                        version, keep_alive);
    answer.set(http::field::allow, "GET, HEAD");
    respond(std::move(answer));
    return true;
  }
  if (health) {
    respond(json_response(http::status::ok, R"({"status":"ok"})", version,
                          keep_alive));
    return true;
  }

  auto as_response = [version, keep_alive](probe_answer answer) {
    auto built = json_response(answer.status, std::move(answer.body), version,
                               keep_alive);
    built.set(http::field::content_type, answer.content_type);
    return built;
  };
  if (ready) {
    backend_.ready(
        [respond = std::move(respond), as_response](probe_answer answer) {
          respond(as_response(std::move(answer)));
        });
    return true;
  }

  if (metrics_token_)
    if (auto refused = token_refusal(*metrics_token_, req.base(), "/metrics",
                                     keep_alive)) {
      respond(std::move(*refused));
      return true;
    }
  respond(as_response(backend_.metrics()));
  return true;
}

void publish_api::handle_publish(const request& req, std::string batch_id,
                                 const std::string& peer,
                                 responder respond) const {
  auto version = req.version();
  bool keep_alive = req.keep_alive();
  if (req.body().size() > max_body_bytes_)
    return respond(error(http::status::payload_too_large,
                         "the body is too large", version, false));

  auto body = parse_publish_body(req.body());
  if (body.problem) {
    log()->info("publish batch={} peer={} refused 400: {}", batch_id, peer,
                body.problem);
    return respond(
        error(http::status::bad_request, body.problem, version, keep_alive));
  }

  actors::publish_request publish;
  publish.batch_id = batch_id;
  publish.status = *body.status;
  publish.organization_id = std::move(body.organization_id);
  auto status_name = std::string{storage::to_string(*body.status)};

  backend_.publish(
      std::move(publish),
      [batch_id, status_name, peer, version, keep_alive,
       respond = std::move(respond)](actors::api_result result) {
        if (auto record = std::get_if<storage::batch_record>(&result)) {
          // Committed, but a status stamped later was already held (a
          // peer's, for one): the answer carries that one, and so does
          // this line.
          if (storage::to_string(record->status) != status_name)
            log()->info(
                "publish batch={} status={} peer={} outcome=superseded "
                "held={} from={} updated_at={}",
                batch_id, status_name, peer, storage::to_string(record->status),
                record->origin, format_utc_millis(record->updated_at_ms));
          else
            log()->info("publish batch={} status={} peer={} outcome=stored",
                        batch_id, status_name, peer);
          return respond(json_response(http::status::ok, record_json(*record),
                                       version, keep_alive));
        }
        auto failure = std::get<actors::api_failure>(result);
        if (auto held_back = failed_publishes_logged.admit())
          log()->info("publish batch={} status={} peer={} outcome={}{}",
                      batch_id, status_name, peer, actors::to_string(failure),
                      log_throttle::held_back_note(*held_back));
        auto answer = answer_for(failure);
        respond(error(answer.status, answer.message, version, keep_alive));
      });
}

void publish_api::handle_fetch(const request& req, std::string batch_id,
                               responder respond) const {
  auto version = req.version();
  bool keep_alive = req.keep_alive();
  backend_.fetch(
      std::move(batch_id), [version, keep_alive, respond = std::move(respond)](
                               actors::api_result result) {
        if (auto record = std::get_if<storage::batch_record>(&result))
          return respond(json_response(http::status::ok, record_json(*record),
                                       version, keep_alive));
        auto answer = answer_for(std::get<actors::api_failure>(result));
        respond(error(answer.status, answer.message, version, keep_alive));
      });
}

void publish_api::handle_cluster(const request& req, responder respond) const {
  auto version = req.version();
  bool keep_alive = req.keep_alive();
  if (req.method() != http::verb::get) {
    auto answer = error(http::status::method_not_allowed, "method not allowed",
                        version, keep_alive);
    answer.set(http::field::allow, "GET");
    return respond(std::move(answer));
  }
  if (!backend_.cluster)
    return respond(
        error(http::status::not_found, "not found", version, keep_alive));
  backend_.cluster([version, keep_alive, respond = std::move(respond)](
                       std::optional<actors::cluster_report> report) {
    if (!report)
      return respond(error(http::status::service_unavailable,
                           "the cluster did not answer", version, keep_alive));
    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    respond(json_response(http::status::ok,
                          cluster_report_json(*report, now_ms), version,
                          keep_alive));
  });
}

}  // namespace batchcast::net
