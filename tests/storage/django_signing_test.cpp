#include <boost/test/unit_test.hpp>

#include "storage/django_signing.hpp"

namespace {

using namespace batchcast::storage;
using nlohmann::json;

constexpr std::string_view key = "unit-test-secret";
constexpr std::uint64_t signed_at = 1700000000;

std::vector<std::string> keys(std::initializer_list<std::string> list) {
  return list;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(django_signing_suite)

BOOST_AUTO_TEST_CASE(base64url_round_trips_every_length_without_padding) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    auto encoded = base64url_encode(bytes);
    BOOST_TEST(encoded.find('=') == std::string::npos);
    BOOST_TEST(encoded.find('+') == std::string::npos);
    BOOST_TEST(encoded.find('/') == std::string::npos);
    auto decoded = base64url_decode(encoded);
    BOOST_REQUIRE(decoded);
    BOOST_TEST(*decoded == bytes);
    bytes += static_cast<char>(0xf8 + i * 37);
  }
}

BOOST_AUTO_TEST_CASE(base64url_uses_the_url_safe_alphabet) {
  BOOST_TEST(base64url_encode("\xfb\xff\xbf") == "-_-_");
  BOOST_TEST(base64url_encode("hello") == "aGVsbG8");
}

BOOST_AUTO_TEST_CASE(base64url_decode_refuses_foreign_characters) {
  BOOST_TEST(!base64url_decode("aGVs+G8"));
  BOOST_TEST(!base64url_decode("aGVsbG8="));
  BOOST_TEST(!base64url_decode("aGV sbG8"));
  BOOST_TEST(!base64url_decode(std::string_view("aG\0s", 4)));
}

BOOST_AUTO_TEST_CASE(base64url_decode_refuses_an_impossible_length) {
  BOOST_TEST(!base64url_decode("a"));
  BOOST_TEST(!base64url_decode("aGVsb"));
}

BOOST_AUTO_TEST_CASE(base62_counts_digits_then_upper_then_lower_case) {
  BOOST_TEST(base62_encode(0) == "0");
  BOOST_TEST(base62_encode(10) == "A");
  BOOST_TEST(base62_encode(61) == "z");
  BOOST_TEST(base62_encode(62) == "10");
  BOOST_TEST(*base62_decode(base62_encode(signed_at)) == signed_at);
  BOOST_TEST(*base62_decode(base62_encode(UINT64_MAX)) == UINT64_MAX);
}

BOOST_AUTO_TEST_CASE(base62_decode_refuses_overflow_and_foreign_characters) {
  BOOST_TEST(!base62_decode(""));
  BOOST_TEST(!base62_decode("1-2"));
  BOOST_TEST(!base62_decode("zzzzzzzzzzzzzzzzzzzzzzzzz"));
}

BOOST_AUTO_TEST_CASE(a_signed_object_reads_back_with_its_key) {
  json object = {{"_auth_user_id", "42"}, {"n", 1}};
  auto signed_value = sign_object(object, session_salt, key, signed_at);
  auto read = unsign_object(signed_value, session_salt, keys({"k", "x"}));
  BOOST_TEST(!read);
  read = unsign_object(signed_value, session_salt, keys({std::string(key)}));
  BOOST_REQUIRE(read);
  BOOST_TEST(*read == object);
}

BOOST_AUTO_TEST_CASE(a_signed_value_has_payload_timestamp_and_signature) {
  auto signed_value = sign_object(json{{"a", 1}}, session_salt, key, 62);
  BOOST_TEST(signed_value.rfind("eyJhIjoxfQ:10:", 0) == 0);
  BOOST_TEST(signed_value.size() == std::string("eyJhIjoxfQ:10:").size() + 43);
}

BOOST_AUTO_TEST_CASE(a_repetitive_object_is_compressed_behind_a_dot) {
  json object = {{"notes", std::string(500, 'x')}};
  auto signed_value = sign_object(object, session_salt, key, signed_at);
  BOOST_TEST(signed_value.front() == '.');
  BOOST_TEST(signed_value.size() < 200u);
  auto read = unsign_object(signed_value, session_salt, keys({"k"}));
  BOOST_TEST(!read);
  read = unsign_object(signed_value, session_salt, keys({std::string(key)}));
  BOOST_REQUIRE(read);
  BOOST_TEST(*read == object);
}

BOOST_AUTO_TEST_CASE(a_small_object_is_not_compressed) {
  auto signed_value = sign_object(json{{"a", "b"}}, session_salt, key, 1);
  BOOST_TEST(signed_value.front() != '.');
}

BOOST_AUTO_TEST_CASE(the_fallback_key_is_tried_after_the_current_one) {
  auto signed_value = sign_object(json{{"a", 1}}, session_salt, "old", 1);
  BOOST_TEST(unsign_object(signed_value, session_salt, keys({"new", "old"}))
                 .has_value());
  BOOST_TEST(!unsign_object(signed_value, session_salt, keys({"new"})));
}

BOOST_AUTO_TEST_CASE(a_value_signed_under_another_salt_is_refused) {
  auto signed_value =
      sign_object(json{{"a", 1}}, "django.core.signing", key, signed_at);
  BOOST_TEST(
      !unsign_object(signed_value, session_salt, keys({std::string(key)})));
}

BOOST_AUTO_TEST_CASE(non_ascii_text_is_escaped_like_python_json_dumps) {
  json object = {{"name", "Zo\xc3\xab \xf0\x9f\x98\x80\x7f"}};
  auto signed_value = sign_object(object, session_salt, key, signed_at);
  auto payload = signed_value.substr(0, signed_value.find(':'));
  BOOST_TEST(*base64url_decode(payload) ==
             R"({"name":"Zo\u00eb \ud83d\ude00\u007f"})");
  auto read =
      unsign_object(signed_value, session_salt, keys({std::string(key)}));
  BOOST_REQUIRE(read);
  BOOST_TEST(*read == object);
}

BOOST_AUTO_TEST_CASE(signing_invalid_utf8_throws_storage_error) {
  json object = {{"bad", "\xff"}};
  BOOST_CHECK_THROW(sign_object(object, session_salt, key, 1),
                    std::runtime_error);
}

BOOST_AUTO_TEST_CASE(constant_time_equals_compares_content_and_length) {
  BOOST_TEST(constant_time_equals("", ""));
  BOOST_TEST(constant_time_equals("abc", "abc"));
  BOOST_TEST(!constant_time_equals("abc", "abd"));
  BOOST_TEST(!constant_time_equals("abc", "abcd"));
}

BOOST_AUTO_TEST_CASE(the_session_auth_hash_is_64_lowercase_hex_digits) {
  auto hash = session_auth_hash("pbkdf2_sha256$1$salt$hash", key);
  BOOST_TEST(hash.size() == 64u);
  BOOST_TEST(hash.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST(hash != session_auth_hash("pbkdf2_sha256$1$salt$hash", "other"));
}

BOOST_AUTO_TEST_SUITE_END()
