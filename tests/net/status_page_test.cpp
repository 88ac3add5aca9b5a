#include "net/status_page.hpp"

#include <memory>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "net/answer_gate.hpp"
#include "net/status_page_handler.hpp"

using namespace batchcast::net;
using batchcast::storage::batch_status;

namespace {

const std::string batch = "0f3c5a2e-9b1d-4c6e-8a7f-1234567890ab";
const std::vector<std::string> local_hosts = {"localhost", "127.0.0.1"};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(status_page_route)

BOOST_AUTO_TEST_CASE(canonical_id_with_trailing_slash_is_the_page) {
  BOOST_TEST(parse_status_page_route("/batches/" + batch + "/").value_or("") ==
             batch);
  BOOST_TEST(
      parse_status_page_route("/batches/" + batch + "/?a=b").value_or("") ==
      batch);
}

BOOST_AUTO_TEST_CASE(anything_else_is_not_the_page) {
  BOOST_TEST(!parse_status_page_route("/batches/" + batch));
  BOOST_TEST(!parse_status_page_route("/batches/"));
  BOOST_TEST(!parse_status_page_route("/batches//"));
  BOOST_TEST(!parse_status_page_route("/batches/" + batch + "/x/"));
  BOOST_TEST(!parse_status_page_route(
      "/batches/0F3C5A2E-9B1D-4C6E-8A7F-1234567890AB/"));
  BOOST_TEST(
      !parse_status_page_route("/batches/0f3c5a2e9b1d4c6e8a7f1234567890ab/"));
  BOOST_TEST(!parse_status_page_route("/ws/radius/batch/" + batch + "/"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(status_page_document)

BOOST_AUTO_TEST_CASE(markup_characters_are_escaped) {
  BOOST_TEST(html_escape(R"(<a href="x" title='y'>&</a>)") ==
             "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

BOOST_AUTO_TEST_CASE(document_shows_batch_and_status_and_carries_nonce) {
  auto page = render_status_page(batch, batch_status::processing, "n0nce");
  BOOST_TEST(contains(page, R"(data-batch=")" + batch + "\""));
  BOOST_TEST(contains(page, R"(data-status="processing")"));
  BOOST_TEST(contains(page, ">processing</span>"));
  BOOST_TEST(contains(page, R"(<script nonce="n0nce">)"));
  BOOST_TEST(contains(page, R"(<style nonce="n0nce">)"));
  BOOST_TEST(!contains(page, "{{"));
}

BOOST_AUTO_TEST_CASE(interpolated_values_cannot_break_out) {
  auto page = render_status_page("\"><script>x</script>", batch_status::pending,
                                 "\"onload=\"x");
  BOOST_TEST(!contains(page, "<script>x"));
  BOOST_TEST(!contains(page, "\"onload=\""));
}

BOOST_AUTO_TEST_CASE(nonces_are_fresh_base64) {
  auto first = make_csp_nonce();
  auto second = make_csp_nonce();
  BOOST_REQUIRE(first && second);
  BOOST_TEST(first->size() == 24u);
  BOOST_TEST(*first != *second);
}

BOOST_AUTO_TEST_CASE(policy_allows_only_the_nonce_and_forbids_framing) {
  auto policy = status_page_policy("abc", "admin.example.com:8443");
  BOOST_TEST(contains(policy, "script-src 'nonce-abc'"));
  BOOST_TEST(contains(policy,
                      "connect-src 'self' ws://admin.example.com:8443 "
                      "wss://admin.example.com:8443;"));
  BOOST_TEST(!contains(policy, "ws: "));
  BOOST_TEST(contains(policy, "default-src 'self'"));
  BOOST_TEST(contains(policy, "frame-ancestors 'none'"));
  BOOST_TEST(!contains(policy, "unsafe-inline"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(allowed_host)

BOOST_AUTO_TEST_CASE(listed_host_with_or_without_port_is_allowed) {
  BOOST_TEST(is_allowed_host("127.0.0.1:8000", local_hosts));
  BOOST_TEST(is_allowed_host("LOCALHOST", local_hosts));
  BOOST_TEST(is_allowed_host("localhost.", local_hosts));
}

BOOST_AUTO_TEST_CASE(other_or_malformed_hosts_are_refused) {
  BOOST_TEST(!is_allowed_host("evil.example", local_hosts));
  BOOST_TEST(!is_allowed_host("", local_hosts));
  BOOST_TEST(!is_allowed_host("localhost:80x", local_hosts));
  BOOST_TEST(!is_allowed_host("local_host", {"local_host"}));
  BOOST_TEST(!is_allowed_host("localhost@evil", local_hosts));
}

BOOST_AUTO_TEST_CASE(dot_pattern_matches_domain_and_subdomains) {
  std::vector<std::string> hosts = {".example.com"};
  BOOST_TEST(is_allowed_host("example.com", hosts));
  BOOST_TEST(is_allowed_host("a.b.example.com:443", hosts));
  BOOST_TEST(!is_allowed_host("badexample.com", hosts));
}

BOOST_AUTO_TEST_CASE(ipv6_and_wildcard) {
  BOOST_TEST(is_allowed_host("[::1]:8000", {"[::1]"}));
  BOOST_TEST(!is_allowed_host("[::1", {"[::1]"}));
  BOOST_TEST(is_allowed_host("anything.example", {"*"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(status_page_answer_gate)

BOOST_AUTO_TEST_CASE(answer_reaches_the_waiting_session_once) {
  answer_gate<page_response> gate;
  int posted = 0;
  int key = 0;
  BOOST_TEST(gate.hold(&key, [&](page_response) { ++posted; }));
  gate.deliver(&key, nullptr);
  gate.deliver(&key, nullptr);
  BOOST_TEST(posted == 1);
}

BOOST_AUTO_TEST_CASE(closed_gate_drops_waiting_sessions_and_late_answers) {
  answer_gate<page_response> gate;
  int posted = 0;
  int key = 0;
  auto session = std::make_shared<int>(0);
  BOOST_TEST(gate.hold(&key, [&, session](page_response) { ++posted; }));
  gate.close();
  BOOST_TEST(session.use_count() == 1);
  gate.deliver(&key, nullptr);
  BOOST_TEST(posted == 0);
  BOOST_TEST(!gate.hold(&key, [&](page_response) { ++posted; }));
}

BOOST_AUTO_TEST_SUITE_END()
