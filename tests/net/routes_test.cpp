#include "net/routes.hpp"

#include <string>

#include <boost/test/unit_test.hpp>

using namespace batchcast::net;

namespace {

const std::string batch = "0f3c5a2e-9b1d-4c6e-8a7f-1234567890ab";

std::string watch(const std::string& id) {
  return "/ws/radius/batch/" + id + "/";
}
std::string api(const std::string& id) {
  return "/api/v1/radius/batch/" + id + "/status";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(watch_route)

BOOST_AUTO_TEST_CASE(canonical_id_is_the_route) {
  BOOST_TEST(parse_watch_route(watch(batch)).value_or("") == batch);
}

BOOST_AUTO_TEST_CASE(query_string_is_ignored) {
  BOOST_TEST(parse_watch_route(watch(batch) + "?a=b/c/").value_or("") == batch);
  BOOST_TEST(parse_watch_route(watch(batch) + "?").value_or("") == batch);
}

BOOST_AUTO_TEST_CASE(query_string_cannot_supply_the_path) {
  BOOST_TEST(!parse_watch_route("/ws/radius/batch/?" + batch + "/"));
  BOOST_TEST(!parse_watch_route("/ws/radius/batch/" + batch + "?/"));
}

BOOST_AUTO_TEST_CASE(uppercase_id_is_not_a_route) {
  BOOST_TEST(!parse_watch_route(watch("0F3C5A2E-9B1D-4C6E-8A7F-1234567890AB")));
  BOOST_TEST(!parse_watch_route(watch("0f3c5a2e-9b1d-4c6e-8a7f-1234567890aB")));
}

BOOST_AUTO_TEST_CASE(trailing_slash_is_required) {
  BOOST_TEST(!parse_watch_route("/ws/radius/batch/" + batch));
  BOOST_TEST(!parse_watch_route(watch(batch) + "/"));
}

BOOST_AUTO_TEST_CASE(other_spellings_of_the_id_are_not_routes) {
  BOOST_TEST(!parse_watch_route(watch("0f3c5a2e9b1d4c6e8a7f1234567890ab")));
  BOOST_TEST(!parse_watch_route(watch("{" + batch + "}")));
  BOOST_TEST(!parse_watch_route(watch(batch.substr(1))));
  BOOST_TEST(!parse_watch_route(watch(batch + "0")));
  BOOST_TEST(!parse_watch_route(watch("0f3c5a2e-9b1d-4c6e-8a7f-1234567890ag")));
  BOOST_TEST(!parse_watch_route(watch("0f3c5a2e-9b1d4-c6e-8a7f-1234567890ab")));
  BOOST_TEST(!parse_watch_route(watch("")));
}

BOOST_AUTO_TEST_CASE(extra_segments_are_not_routes) {
  BOOST_TEST(!parse_watch_route(watch(batch) + "extra/"));
  BOOST_TEST(!parse_watch_route("/prefix" + watch(batch)));
  BOOST_TEST(!parse_watch_route("/ws/radius/batch/x/" + batch + "/"));
  BOOST_TEST(!parse_watch_route("//ws/radius/batch/" + batch + "/"));
  BOOST_TEST(!parse_watch_route("/ws/radius/batch/../batch/" + batch + "/"));
}

BOOST_AUTO_TEST_CASE(percent_escapes_are_decoded_as_django_sees_the_path) {
  // Daphne unquotes the path before Django resolves it.
  BOOST_TEST(parse_watch_route("/ws/radius/batch/%30f3c5a2e-9b1d-4c6e-8a7f-"
                               "1234567890ab%2F")
                 .value_or("") == batch);
  BOOST_TEST(
      parse_watch_route("/%77s/radius/batch/" + batch + "/").value_or("") ==
      batch);
}

BOOST_AUTO_TEST_CASE(escapes_that_decode_to_something_else_do_not_match) {
  // %41 is 'A': the decoded id is not lowercase.
  BOOST_TEST(
      !parse_watch_route("/ws/radius/batch/%41f3c5a2e-9b1d-4c6e-8a7f-"
                         "1234567890ab/"));
  BOOST_TEST(!parse_watch_route(watch(batch) + "%3Fx"));  // a literal '?'
  BOOST_TEST(!parse_watch_route(watch(batch) + "%"));
  BOOST_TEST(!parse_watch_route(watch(batch) + "%2"));
  BOOST_TEST(!parse_watch_route(watch(batch).substr(0, 53) + "%zz"));
}

BOOST_AUTO_TEST_CASE(targets_without_a_path_are_not_routes) {
  BOOST_TEST(!parse_watch_route(""));
  BOOST_TEST(!parse_watch_route("*"));
  BOOST_TEST(!parse_watch_route("localhost" + watch(batch)));
  BOOST_TEST(!parse_watch_route("ftp://localhost" + watch(batch)));
}

// RFC 9112, 3.2.2: a server must accept the absolute form.
BOOST_AUTO_TEST_CASE(absolute_form_names_the_path_it_carries) {
  BOOST_TEST(
      parse_watch_route("http://localhost" + watch(batch)).value_or("") ==
      batch);
  BOOST_TEST(
      parse_watch_route("HTTPS://example.com:8443" + watch(batch) + "?a=b")
          .value_or("") == batch);
  BOOST_TEST(request_path("http://localhost").value_or("") == "/");
  BOOST_TEST(request_path("http://localhost?/healthz").value_or("") == "/");
  BOOST_TEST(request_path("http://localhost#/healthz").value_or("") == "/");
  BOOST_TEST(!is_health_route("http://h?/healthz"));
  BOOST_TEST(is_health_route("http://h/healthz"));
  // The authority cannot carry the path: "@" and ":" are part of it.
  BOOST_TEST(!parse_watch_route("http://u@localhost:80" + watch(batch) + "x"));
  BOOST_TEST(!parse_watch_route("http:/" + watch(batch)));
}

BOOST_AUTO_TEST_CASE(huge_targets_are_refused_without_decoding) {
  BOOST_TEST(!parse_watch_route(watch(batch) + std::string(100000, 'a')));
  BOOST_TEST(!parse_watch_route(std::string(100000, '/')));
  BOOST_TEST(!request_path("/" + std::string(100000, '%')));
  // A long query string is fine: it is ignored.
  BOOST_TEST(parse_watch_route(watch(batch) + "?" + std::string(100000, 'q'))
                 .value_or("") == batch);
}

// The prefix's last '/' must not double as the trailing slash: reading it
// so once trimmed more than the path held (found by fuzz/routes_fuzz.cpp).
BOOST_AUTO_TEST_CASE(the_prefix_alone_is_not_a_route) {
  BOOST_TEST(!parse_watch_route("/ws/radius/batch/"));
  BOOST_TEST(!parse_watch_route("/ws/radius/batch"));
  BOOST_TEST(!parse_watch_route("/ws/radius/batch%2F"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(api_route_parsing)

// "/api/v1/radius/batch/" and "/status" share a slash here, and nothing
// stands between them. This once read past the end of the path (found by
// fuzz/routes_fuzz.cpp under ASan).
BOOST_AUTO_TEST_CASE(prefix_and_suffix_sharing_a_slash_are_not_a_route) {
  BOOST_TEST(parse_api_route("/api/v1/radius/batch/status").kind ==
             api_route::other);
  BOOST_TEST(parse_api_route("/api/v1/radius/batch%2Fstatus?x=1").kind ==
             api_route::other);
  BOOST_TEST(parse_api_route("/api/v1/radius/batch/status").batch_id.empty());
}

BOOST_AUTO_TEST_CASE(canonical_id_names_a_batch) {
  auto route = parse_api_route(api(batch));
  BOOST_TEST(route.kind == api_route::batch_status);
  BOOST_TEST(route.batch_id == batch);
  BOOST_TEST(parse_api_route(api(batch) + "?x=1").kind ==
             api_route::batch_status);
}

BOOST_AUTO_TEST_CASE(a_bad_id_under_the_prefix_is_malformed) {
  BOOST_TEST(parse_api_route(api("not-a-uuid")).kind ==
             api_route::malformed_id);
  BOOST_TEST(
      parse_api_route(api("0F3C5A2E-9B1D-4C6E-8A7F-1234567890AB")).kind ==
      api_route::malformed_id);
  BOOST_TEST(parse_api_route(api("0f3c5a2e9b1d4c6e8a7f1234567890ab")).kind ==
             api_route::malformed_id);
}

BOOST_AUTO_TEST_CASE(other_paths_are_not_api_routes) {
  BOOST_TEST(parse_api_route(api(batch) + "/").kind == api_route::other);
  BOOST_TEST(parse_api_route("/api/v1/radius/batch/" + batch).kind ==
             api_route::other);
  BOOST_TEST(parse_api_route("/api/v1/radius/batch//status").kind ==
             api_route::other);
  BOOST_TEST(parse_api_route(api("a/" + batch)).kind == api_route::other);
  BOOST_TEST(
      parse_api_route("/api/v2/radius/batch/" + batch + "/status").kind ==
      api_route::other);
  BOOST_TEST(parse_api_route(watch(batch)).kind == api_route::other);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(health_route_ignores_the_query) {
  BOOST_TEST(is_health_route("/healthz"));
  BOOST_TEST(is_health_route("/healthz?probe=1"));
  BOOST_TEST(!is_health_route("/healthz/"));
  BOOST_TEST(!is_health_route("/health"));
}

BOOST_AUTO_TEST_CASE(cluster_route_is_exact) {
  BOOST_TEST(is_cluster_route("/cluster"));
  BOOST_TEST(is_cluster_route("/cluster?pretty=1"));
  BOOST_TEST(!is_cluster_route("/cluster/"));
  BOOST_TEST(!is_cluster_route("/clusters"));
}
