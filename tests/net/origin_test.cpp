#include "net/origin.hpp"

#include <ostream>

#include <boost/test/unit_test.hpp>

namespace batchcast::net {
std::ostream& operator<<(std::ostream& out, origin_verdict verdict) {
  return out << to_string(verdict);
}
}  // namespace batchcast::net

using namespace batchcast::net;

namespace {

origin_verdict check(std::vector<std::string> hosts,
                     std::optional<std::string_view> origin) {
  return origin_validator{hosts}.check(origin);
}

bool allowed(std::vector<std::string> hosts, std::string_view origin) {
  return check(std::move(hosts), origin) == origin_verdict::allowed;
}

}  // namespace

BOOST_AUTO_TEST_CASE(exact_host_matches_on_any_port_and_scheme) {
  BOOST_TEST(allowed({"example.com"}, "https://example.com"));
  BOOST_TEST(allowed({"example.com"}, "http://example.com:8080"));
  BOOST_TEST(allowed({"localhost", "127.0.0.1"}, "http://127.0.0.1:8000"));
  BOOST_TEST(!allowed({"example.com"}, "https://www.example.com"));
  BOOST_TEST(!allowed({"example.com"}, "https://example.com.evil.net"));
  BOOST_TEST(!allowed({"example.com"}, "https://notexample.com"));
}

BOOST_AUTO_TEST_CASE(dot_pattern_matches_domain_and_subdomains) {
  BOOST_TEST(allowed({".example.com"}, "https://example.com"));
  BOOST_TEST(allowed({".example.com"}, "https://a.b.example.com:444"));
  BOOST_TEST(!allowed({".example.com"}, "https://badexample.com"));
  BOOST_TEST(!allowed({".example.com"}, "https://example.com.evil.net"));
}

BOOST_AUTO_TEST_CASE(star_allows_everything_even_no_origin) {
  BOOST_TEST(allowed({"*"}, "https://anything.example"));
  BOOST_TEST(allowed({"*"}, "null"));
  BOOST_TEST(check({"*"}, std::nullopt) == origin_verdict::allowed);
  // Only a lone "*" is a wildcard, as in Channels.
  BOOST_TEST(!allowed({"*.example.com"}, "https://a.example.com"));
}

BOOST_AUTO_TEST_CASE(missing_null_and_hostless_origins_are_refused) {
  BOOST_TEST(check({"localhost"}, std::nullopt) == origin_verdict::missing);
  BOOST_TEST(check({"localhost"}, "null") == origin_verdict::no_host);
  BOOST_TEST(check({"localhost"}, "") == origin_verdict::no_host);
  BOOST_TEST(check({"localhost"}, "localhost") == origin_verdict::no_host);
  BOOST_TEST(check({"localhost"}, "http://") == origin_verdict::no_host);
  BOOST_TEST(check({"localhost"}, "http://:80") == origin_verdict::no_host);
}

BOOST_AUTO_TEST_CASE(garbage_is_refused) {
  BOOST_TEST(check({"localhost"}, "http://[::1") == origin_verdict::malformed);
  BOOST_TEST(check({"localhost"}, "http://::1]") == origin_verdict::malformed);
  BOOST_TEST(check({"localhost"}, "http://[localhost]") ==
             origin_verdict::malformed);
  BOOST_TEST(check({"localhost"}, "http://[127.0.0.1]") ==
             origin_verdict::malformed);
  BOOST_TEST(check({"localhost"}, "http://localhost:http") ==
             origin_verdict::malformed);
  BOOST_TEST(check({"localhost"}, "http://localhost:99999") ==
             origin_verdict::malformed);
  BOOST_TEST(!allowed({"localhost"}, "\x01\xff garbage"));
  BOOST_TEST(!allowed({"localhost"}, std::string(10000, 'x')));
}

BOOST_AUTO_TEST_CASE(host_comparison_ignores_case) {
  BOOST_TEST(allowed({"example.com"}, "HTTPS://EXAMPLE.COM"));
  BOOST_TEST(allowed({"EXAMPLE.com"}, "https://example.COM"));
  BOOST_TEST(allowed({".Example.COM"}, "https://Sub.EXAMPLE.com"));
}

BOOST_AUTO_TEST_CASE(ipv6_hosts_lose_their_brackets) {
  BOOST_TEST(allowed({"[::1]"}, "http://[::1]:8000"));
  BOOST_TEST(allowed({"::1"}, "http://[::1]"));
  BOOST_TEST(allowed({"[2001:db8::1]"}, "http://[2001:DB8::1]"));
  BOOST_TEST(!allowed({"[::1]"}, "http://[::2]"));
  BOOST_TEST(!allowed({"localhost"}, "http://[::1]"));
}

BOOST_AUTO_TEST_CASE(userinfo_and_path_do_not_hide_the_host) {
  // urlsplit takes the host after the last '@'.
  BOOST_TEST(!allowed({"example.com"}, "http://example.com@evil.net"));
  BOOST_TEST(allowed({"example.com"}, "http://evil.net@example.com"));
  BOOST_TEST(!allowed({"example.com"}, "http://evil.net/example.com"));
  BOOST_TEST(!allowed({"example.com"}, "http://evil.net?example.com"));
}

BOOST_AUTO_TEST_CASE(scheme_patterns_compare_scheme_and_port) {
  BOOST_TEST(allowed({"https://example.com"}, "https://example.com"));
  BOOST_TEST(allowed({"https://example.com"}, "https://example.com:443"));
  BOOST_TEST(!allowed({"https://example.com"}, "http://example.com"));
  BOOST_TEST(!allowed({"https://example.com"}, "https://example.com:8443"));
  BOOST_TEST(
      allowed({"http://.example.com:8000"}, "http://a.example.com:8000"));
  // Python reads "example.com:8000" as the scheme "example.com": it matches
  // no browser origin, in Channels as here.
  BOOST_TEST(!allowed({"example.com:8000"}, "http://example.com:8000"));
}

BOOST_AUTO_TEST_CASE(is_same_domain_follows_django) {
  BOOST_TEST(is_same_domain("example.com", "example.com"));
  BOOST_TEST(is_same_domain("example.com", ".example.com"));
  BOOST_TEST(is_same_domain("a.example.com", ".EXAMPLE.com"));
  BOOST_TEST(!is_same_domain("example.com", ""));
  BOOST_TEST(!is_same_domain("a.example.com", "example.com"));
}
