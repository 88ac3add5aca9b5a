#include "net/publish_api.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

using namespace batchcast;
using namespace batchcast::net;

namespace {

const std::string batch = "0f3c5a2e-9b1d-4c6e-8a7f-1234567890ab";
const std::string org = "11111111-2222-4333-8444-555555555555";
const std::string route = "/api/v1/radius/batch/" + batch + "/status";

// A publish API over a fake actor side that records what it was asked and
// answers with whatever the test set.
struct api_fixture {
  std::optional<actors::publish_request> published;
  std::optional<std::string> fetched;
  actors::api_result answer = storage::batch_record{
      batch, storage::batch_status::completed, 1796398900123, "node"};
  actors::api_callback held;  // set when the test answers later
  bool answer_later = false;
  // What GET /cluster hears from the actor side; nothing: no answer.
  std::optional<actors::cluster_report> cluster = peers_report();

  publish_api api{backend(), "s3cret", 128};

  status_backend backend() {
    status_backend result;
    result.publish = [this](actors::publish_request request,
                            actors::api_callback done) {
      published = std::move(request);
      reply(std::move(done));
    };
    result.fetch = [this](std::string id, actors::api_callback done) {
      fetched = std::move(id);
      reply(std::move(done));
    };
    result.cluster = [this](status_backend::cluster_callback done) {
      done(cluster);
    };
    return result;
  }

  static actors::cluster_report peers_report() {
    actors::peer_report up;
    up.address = "127.0.0.1:4101";
    up.name = "b";
    up.state = "up";
    up.state_since_ms = 1796398900123;
    up.last_heard_ms = 1796398905123;
    up.subscribed = true;
    up.relay_queued = 7;
    actors::peer_report never;
    never.address = "127.0.0.1:4102";
    never.state_since_ms = 1796398900123;
    never.reason = "connection refused";
    return {"a", true, {up, never}};
  }

  void reply(actors::api_callback done) {
    if (answer_later)
      held = std::move(done);
    else
      done(answer);
  }

  publish_api::response send(
      http::verb method, const std::string& target,
      const std::string& body = {},
      const std::string& authorization = "Bearer s3cret") {
    publish_api::request request{method, target, 11};
    if (!authorization.empty())
      request.set(http::field::authorization, authorization);
    request.body() = body;
    request.prepare_payload();
    std::optional<publish_api::response> got;
    api.handle(request, "127.0.0.1:1234",
               [&](publish_api::response answer) { got = std::move(answer); });
    BOOST_REQUIRE(got);
    return std::move(*got);
  }

  // A POST header to `target` with these Authorization fields and, when
  // not empty, this Expect field.
  static http::request_header<> header(
      const std::string& target,
      const std::vector<std::string>& authorizations = {"Bearer s3cret"},
      const std::string& expect = {}) {
    http::request_header<> result;
    result.method(http::verb::post);
    result.target(target);
    result.version(11);
    for (const auto& authorization : authorizations)
      result.insert(http::field::authorization, authorization);
    if (!expect.empty())
      result.set(http::field::expect, expect);
    return result;
  }

  publish_api::response post(const std::string& body) {
    return send(http::verb::post, route, body);
  }

  static std::string error_of(const publish_api::response& answer) {
    return nlohmann::json::parse(answer.body()).at("error").get<std::string>();
  }
};

unsigned status_of(const publish_api::response& answer) {
  return static_cast<unsigned>(answer.result());
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(publish_api_handler, api_fixture)

BOOST_AUTO_TEST_CASE(publish_answers_the_stored_record) {
  auto answer = post(R"({"status": "completed"})");
  BOOST_TEST(status_of(answer) == 200u);
  BOOST_TEST(answer[http::field::content_type] == "application/json");
  auto body = nlohmann::json::parse(answer.body());
  BOOST_TEST(body.at("batch") == batch);
  BOOST_TEST(body.at("status") == "completed");
  BOOST_TEST(body.at("updated_at") == "2026-12-04T15:41:40.123Z");
  BOOST_REQUIRE(published);
  BOOST_TEST(published->batch_id == batch);
  BOOST_TEST(storage::to_string(published->status) == "completed");
  BOOST_TEST(published->organization_id.empty());
}

BOOST_AUTO_TEST_CASE(publish_passes_the_organization_on) {
  post(R"({"status": "processing", "organization": ")" + org + R"("})");
  BOOST_REQUIRE(published);
  BOOST_TEST(published->organization_id == org);
  BOOST_TEST(storage::to_string(published->status) == "processing");
}

BOOST_AUTO_TEST_CASE(publish_waits_for_the_actor_side) {
  answer_later = true;
  publish_api::request request{http::verb::post, route, 11};
  request.set(http::field::authorization, "Bearer s3cret");
  request.body() = R"({"status":"failed"})";
  request.prepare_payload();
  std::optional<publish_api::response> got;
  api.handle(request, "peer",
             [&](publish_api::response answer) { got = std::move(answer); });
  BOOST_TEST(!got);
  BOOST_REQUIRE(held);
  held(answer);
  BOOST_REQUIRE(got);
  BOOST_TEST(status_of(*got) == 200u);
}

BOOST_AUTO_TEST_CASE(bad_bodies_are_400_and_never_published) {
  for (const auto* body :
       {"", "not json", "[]", R"({"status": 3})", R"({"state":"completed"})",
        R"({"status":"done"})", R"({"status":"Completed"})",
        R"({"status":"completed","organization":"nope"})",
        R"({"status":"completed","organization":7})",
        R"({"status":"completed","status":"failed"})",
        R"({"status":"completed","other":1,"other":2})",
        R"({"status":"completed","Organization":null})",
        "{\"status\":\"\xff\"}"}) {
    auto answer = post(body);
    BOOST_TEST(status_of(answer) == 400u, "body: " << body);
    BOOST_TEST(!error_of(answer).empty());
  }
  BOOST_TEST(!published);
}

BOOST_AUTO_TEST_CASE(a_missing_status_is_said_so) {
  BOOST_TEST(error_of(post(R"({"Status":"completed"})")) ==
             "the body has no status member");
  BOOST_TEST(error_of(post(R"({"status":3})")) == "status must be a string");
  BOOST_TEST(!published);
}

// A misspelt optional member would otherwise be acknowledged while
// creating no batch.
BOOST_AUTO_TEST_CASE(a_member_of_another_name_is_said_so) {
  const std::string expected =
      "the body may have only the members status and organization";
  BOOST_TEST(error_of(post(R"({"status":"processing","Organization":")" + org +
                           R"("})")) == expected);
  // Checked at the top level only: the same names deeper down are not
  // taken for duplicates.
  BOOST_TEST(error_of(post(R"({"status":"completed","x":{"a":1},)"
                           R"("y":{"a":1}})")) == expected);
  BOOST_TEST(!published);
}

BOOST_AUTO_TEST_CASE(a_null_organization_is_no_organization) {
  BOOST_TEST(status_of(post(R"({"status":"completed","organization":null})")) ==
             200u);
}

BOOST_AUTO_TEST_CASE(missing_or_wrong_token_is_401_with_challenge) {
  for (const auto* authorization :
       {"", "Bearer wrong", "Bearer s3cret2", "Basic czNjcmV0", "s3cret"}) {
    auto answer = send(http::verb::post, route, R"({"status":"completed"})",
                       authorization);
    BOOST_TEST(status_of(answer) == 401u);
    BOOST_TEST(answer[http::field::www_authenticate] == "Bearer");
  }
  BOOST_TEST(!published);
}

BOOST_AUTO_TEST_CASE(two_authorization_headers_are_400_whichever_comes_first) {
  for (const auto& pair : {std::pair{"Bearer s3cret", "Bearer wrong"},
                           std::pair{"Bearer wrong", "Bearer s3cret"}}) {
    publish_api::request request{http::verb::post, route, 11};
    request.insert(http::field::authorization, pair.first);
    request.insert(http::field::authorization, pair.second);
    request.body() = R"({"status":"completed"})";
    request.prepare_payload();
    std::optional<publish_api::response> got;
    api.handle(request, "127.0.0.1:1234",
               [&](publish_api::response answer) { got = std::move(answer); });
    BOOST_REQUIRE(got);
    BOOST_TEST(status_of(*got) == 400u);
    BOOST_TEST(error_of(*got) == "more than one Authorization header");
  }
  BOOST_TEST(!published);
}

BOOST_AUTO_TEST_CASE(malformed_id_is_400_other_paths_404) {
  BOOST_TEST(
      status_of(send(http::verb::post, "/api/v1/radius/batch/NOT-A-UUID/status",
                     R"({"status":"completed"})")) == 400u);
  BOOST_TEST(status_of(send(http::verb::post, "/api/v1/other")) == 404u);
  BOOST_TEST(status_of(send(http::verb::get, "/")) == 404u);
}

BOOST_AUTO_TEST_CASE(other_methods_are_405_with_allow) {
  auto answer = send(http::verb::delete_, route);
  BOOST_TEST(status_of(answer) == 405u);
  BOOST_TEST(answer[http::field::allow] == "GET, POST");
}

BOOST_AUTO_TEST_CASE(get_fetches_the_record) {
  auto answer = send(http::verb::get, route);
  BOOST_TEST(status_of(answer) == 200u);
  BOOST_TEST(fetched.value_or("") == batch);
  BOOST_TEST(nlohmann::json::parse(answer.body()).at("status") == "completed");
}

BOOST_AUTO_TEST_CASE(get_without_a_record_is_404_json) {
  answer = actors::api_failure::not_found;
  auto answer_got = send(http::verb::get, route);
  BOOST_TEST(status_of(answer_got) == 404u);
  BOOST_TEST(!error_of(answer_got).empty());
}

BOOST_AUTO_TEST_CASE(actor_failures_map_to_statuses) {
  using actors::api_failure;
  std::pair<api_failure, unsigned> cases[] = {
      {api_failure::unknown_organization, 400},
      {api_failure::organization_mismatch, 409},
      {api_failure::storage_failed, 503},
      {api_failure::shutting_down, 503},
  };
  for (auto [failure, expected] : cases) {
    answer = failure;
    BOOST_TEST(status_of(post(R"({"status":"completed"})")) == expected);
  }
}

BOOST_AUTO_TEST_CASE(oversized_bodies_are_413) {
  auto big = R"({"status":"completed","pad":")" + std::string(100, 'x') + "\"}";
  BOOST_TEST(status_of(post(big)) == 413u);

  auto announced = [this](std::optional<std::uint64_t> length) {
    return api.check_header(header(route), length, "127.0.0.1:1234");
  };
  BOOST_REQUIRE(announced(129));
  BOOST_TEST(status_of(*announced(129)) == 413u);
  BOOST_TEST(!announced(129)->keep_alive());
  BOOST_TEST(!announced(128));
  BOOST_TEST(!announced(std::nullopt));
}

BOOST_AUTO_TEST_CASE(a_refused_client_waiting_to_continue_hears_it_first) {
  struct refusal {
    std::string target;
    std::vector<std::string> authorizations;
    unsigned status;
  };
  std::vector<refusal> cases = {
      {route, {}, 401},
      {route, {"Bearer wrong"}, 401},
      {route, {"Bearer s3cret", "Bearer s3cret"}, 400},
      {"/api/v1/other", {"Bearer s3cret"}, 404},
      {"/cluster", {"Bearer wrong"}, 401},
      {"/api/v1/radius/batch/NOT-A-UUID/status", {"Bearer s3cret"}, 400},
  };
  for (const auto& refused : cases) {
    BOOST_TEST_CONTEXT(refused.target << " " << refused.status) {
      auto early = api.check_header(
          header(refused.target, refused.authorizations, "100-continue"), 22,
          "127.0.0.1:1234");
      BOOST_REQUIRE(early);
      BOOST_TEST(status_of(*early) == refused.status);
      // The body was never read, so nothing more can come on this
      // connection.
      BOOST_TEST(!early->keep_alive());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_client_waiting_to_continue_is_let_on_when_it_may) {
  // Its token is right, or the path is a probe, which is judged whole.
  for (const auto& target : {route, std::string{"/cluster"}})
    BOOST_TEST(
        !api.check_header(header(target, {"Bearer s3cret"}, "100-continue"), 22,
                          "127.0.0.1:1234"));
  for (const auto* probe : {"/healthz", "/readyz", "/metrics"})
    BOOST_TEST(!api.check_header(header(probe, {}, "100-continue"), 0,
                                 "127.0.0.1:1234"));
  // Without the Expect field a wrong token is judged with the body, on a
  // connection that stays open.
  BOOST_TEST(
      !api.check_header(header(route, {"Bearer wrong"}), 22, "127.0.0.1:1234"));
}

BOOST_AUTO_TEST_CASE(health_needs_no_token) {
  auto answer = send(http::verb::get, "/healthz", {}, "");
  BOOST_TEST(status_of(answer) == 200u);
  BOOST_TEST(answer.body() == R"({"status":"ok"})");
}

// The session drops the body (net/head_response.hpp).
BOOST_AUTO_TEST_CASE(health_answers_head_as_get) {
  auto head = send(http::verb::head, "/healthz", {}, "");
  BOOST_TEST(status_of(head) == 200u);
  BOOST_TEST(head.body() == send(http::verb::get, "/healthz", {}, "").body());
  auto put = send(http::verb::put, "/healthz", {}, "");
  BOOST_TEST(status_of(put) == 405u);
  BOOST_TEST(put[http::field::allow] == "GET, HEAD");
}

BOOST_AUTO_TEST_CASE(cluster_view_lists_each_peers_state) {
  auto answer = send(http::verb::get, "/cluster");
  BOOST_TEST(status_of(answer) == 200u);
  BOOST_TEST(answer[http::field::content_type] == "application/json");
  auto body = nlohmann::json::parse(answer.body());
  BOOST_TEST(body.at("node") == "a");
  BOOST_TEST(body.at("clustered") == true);
  const auto& peers = body.at("peers");
  BOOST_REQUIRE(peers.size() == 2u);
  BOOST_TEST(peers[0].at("address") == "127.0.0.1:4101");
  BOOST_TEST(peers[0].at("name") == "b");
  BOOST_TEST(peers[0].at("state") == "up");
  BOOST_TEST(peers[0].at("state_since") == "2026-12-04T15:41:40.123Z");
  BOOST_TEST(peers[0].at("last_heard") == "2026-12-04T15:41:45.123Z");
  BOOST_TEST(peers[0].at("silent_ms").get<std::int64_t>() >= 0);
  BOOST_TEST(peers[0].at("subscribed") == true);
  BOOST_TEST(peers[0].at("relay").at("queued") == 7);
  BOOST_TEST(peers[0].at("reason").is_null());
  BOOST_TEST(peers[1].at("name").is_null());
  BOOST_TEST(peers[1].at("state") == "down");
  BOOST_TEST(peers[1].at("reason") == "connection refused");
  BOOST_TEST(peers[1].at("last_heard").is_null());
  BOOST_TEST(peers[1].at("silent_ms").is_null());
}

BOOST_AUTO_TEST_CASE(cluster_view_needs_the_token_and_a_get) {
  BOOST_TEST(status_of(send(http::verb::get, "/cluster", {}, "")) == 401u);
  BOOST_TEST(status_of(send(http::verb::get, "/cluster", {}, "Bearer no")) ==
             401u);
  auto post = send(http::verb::post, "/cluster", "{}");
  BOOST_TEST(status_of(post) == 405u);
  BOOST_TEST(post[http::field::allow] == "GET");
  BOOST_TEST(status_of(send(http::verb::get, "/cluster/")) == 404u);
}

BOOST_AUTO_TEST_CASE(cluster_view_is_503_when_the_cluster_does_not_answer) {
  cluster.reset();
  auto answer = send(http::verb::get, "/cluster");
  BOOST_TEST(status_of(answer) == 503u);
  BOOST_TEST(error_of(answer) == "the cluster did not answer");
}

BOOST_AUTO_TEST_CASE(keep_alive_follows_the_request) {
  BOOST_TEST(post(R"({"status":"completed"})").keep_alive());
  publish_api::request request{http::verb::get, route, 10};
  request.set(http::field::authorization, "Bearer s3cret");
  std::optional<publish_api::response> got;
  api.handle(request, "peer",
             [&](publish_api::response answer) { got = std::move(answer); });
  BOOST_TEST(!got->keep_alive());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(timestamps_are_iso_8601_utc_with_milliseconds) {
  BOOST_TEST(format_utc_millis(0) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(format_utc_millis(1796398900123) == "2026-12-04T15:41:40.123Z");
  BOOST_TEST(format_utc_millis(-1) == "1969-12-31T23:59:59.999Z");
}
