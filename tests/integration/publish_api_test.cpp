// The internal publish API: 200 only after the commit, and every bad
// request answered with a JSON error that changes nothing.
#define BOOST_TEST_MODULE publish_api
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "storage/state_store.hpp"
#include "tests/integration/service_fixture.hpp"

using namespace batchcast::testing;
using nlohmann::json;

namespace {

std::string status_path(const std::string& batch_id) {
  return "/api/v1/radius/batch/" + batch_id + "/status";
}

bool is_json_error(const http_result& reply) {
  auto body = json::parse(reply.body, nullptr, false);
  return body.is_object() && body.contains("error") &&
         body["error"].is_string();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(publish_api, service_fixture)

BOOST_AUTO_TEST_CASE(acknowledged_status_is_already_in_the_database) {
  auto reply = publish(batch_a, "completed");
  BOOST_REQUIRE_EQUAL(reply.status, 200);

  auto body = json::parse(reply.body);
  BOOST_CHECK_EQUAL(body["batch"], batch_a);
  BOOST_CHECK_EQUAL(body["status"], "completed");
  BOOST_CHECK(body["updated_at"].is_string());

  // A second connection to the file sees the committed row right away.
  batchcast::storage::state_store reader{dir.file("state.db")};
  auto stored = reader.load(batch_a);
  BOOST_REQUIRE(stored);
  BOOST_CHECK(stored->status == batchcast::storage::batch_status::completed);
}

BOOST_AUTO_TEST_CASE(get_returns_the_stored_record_or_404) {
  BOOST_CHECK_EQUAL(fetch(batch_a).status, 404);
  BOOST_REQUIRE_EQUAL(publish(batch_a, "processing").status, 200);
  auto reply = fetch(batch_a);
  BOOST_REQUIRE_EQUAL(reply.status, 200);
  BOOST_CHECK_EQUAL(json::parse(reply.body)["status"], "processing");
}

BOOST_AUTO_TEST_CASE(missing_or_wrong_token_is_401_and_stores_nothing) {
  auto target = status_path(batch_a);
  auto body = std::string{R"({"status":"completed"})"};
  for (const auto& authorization :
       {std::string{}, std::string{"Bearer wrong"},
        "Bearer " + fixture_token + "x", std::string{"Basic Zm9vOmJhcg=="},
        fixture_token}) {
    auto reply = http_request("127.0.0.1", internal_port(), "POST", target,
                              body, authorization);
    BOOST_TEST_CONTEXT(authorization) {
      BOOST_CHECK_EQUAL(reply.status, 401);
      BOOST_CHECK(is_json_error(reply));
    }
  }
  BOOST_CHECK_EQUAL(fetch(batch_a).status, 404);
}

BOOST_AUTO_TEST_CASE(bad_bodies_are_400_and_store_nothing) {
  auto target = status_path(batch_a);
  for (const auto& body :
       {std::string{"not json"}, std::string{"{"}, std::string{"[]"},
        std::string{R"({"status":"done"})"},
        std::string{R"({"status":"COMPLETED"})"},
        std::string{R"({"status":1})"}, std::string{R"({})"},
        std::string{R"({"status":null})"}}) {
    auto reply = http_request("127.0.0.1", internal_port(), "POST", target,
                              body, "Bearer " + fixture_token);
    BOOST_TEST_CONTEXT(body) {
      BOOST_CHECK_EQUAL(reply.status, 400);
      BOOST_CHECK(is_json_error(reply));
    }
  }
  BOOST_CHECK_EQUAL(fetch(batch_a).status, 404);
}

BOOST_AUTO_TEST_CASE(malformed_batch_id_is_400) {
  for (const auto& id :
       {std::string{"nope"}, std::string{"1234"}, std::string(36, 'z')}) {
    auto reply =
        http_request("127.0.0.1", internal_port(), "POST", status_path(id),
                     R"({"status":"completed"})", "Bearer " + fixture_token);
    BOOST_TEST_CONTEXT(id) {
      BOOST_CHECK_EQUAL(reply.status, 400);
      BOOST_CHECK(is_json_error(reply));
    }
  }
}

BOOST_AUTO_TEST_CASE(oversized_body_is_413) {
  std::string huge =
      R"({"status":"completed","pad":")" + std::string(1 << 20, 'x') + R"("})";
  auto reply =
      http_request("127.0.0.1", internal_port(), "POST", status_path(batch_a),
                   huge, "Bearer " + fixture_token);
  BOOST_CHECK_EQUAL(reply.status, 413);
  BOOST_CHECK_EQUAL(fetch(batch_a).status, 404);
}

BOOST_AUTO_TEST_CASE(other_paths_are_404) {
  auto reply =
      http_request("127.0.0.1", internal_port(), "POST", "/api/v1/other",
                   R"({"status":"completed"})", "Bearer " + fixture_token);
  BOOST_CHECK_EQUAL(reply.status, 404);
  BOOST_CHECK(is_json_error(reply));
}

BOOST_AUTO_TEST_CASE(unknown_batch_with_organization_is_created) {
  const std::string fresh = "6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
  auto reply = http_request(
      "127.0.0.1", internal_port(), "POST", status_path(fresh),
      R"({"status":"completed","organization":")" + org_a + R"("})",
      "Bearer " + fixture_token);
  BOOST_REQUIRE_EQUAL(reply.status, 200);

  ws_client late;
  BOOST_REQUIRE_EQUAL(connect(late, fresh, manager_of_a), 101);
  BOOST_CHECK_EQUAL(late.read_message(std::chrono::seconds{2}).value_or(""),
                    R"({"status":"completed"})");
}

BOOST_AUTO_TEST_SUITE_END()
