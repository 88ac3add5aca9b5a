// unsign_object reads session_data, which anyone able to write a session
// row (or to guess at one) controls. It must refuse garbage without
// throwing, and bound its work even when the signature is genuine.
#include <boost/test/unit_test.hpp>

#include <zlib.h>

#include <chrono>

#include "storage/django_signing.hpp"

namespace {

using namespace batchcast::storage;

const std::vector<std::string> secrets = {"hostile-test-key"};

// Signs `payload:timestamp` exactly as Django does, whatever the payload
// holds, so the checks after the signature are reached.
std::string sign_raw(const std::string& payload,
                     const std::string& timestamp = "1") {
  std::string value = payload + ":" + timestamp;
  auto mac = salted_hmac_sha256(std::string(session_salt) + "signer", value,
                                secrets.front());
  return value + ":" + base64url_encode(mac);
}

std::string deflate(const std::string& data, int level = 9) {
  uLongf size = compressBound(static_cast<uLong>(data.size()));
  std::string out(size, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &size,
            reinterpret_cast<const Bytef*>(data.data()),
            static_cast<uLong>(data.size()), level);
  out.resize(size);
  return out;
}

std::string compressed_payload(const std::string& json_text) {
  return "." + base64url_encode(deflate(json_text));
}

bool refused(const std::string& signed_value, std::size_t limit = 64 * 1024) {
  return !unsign_object(signed_value, session_salt, secrets, limit);
}

template <typename F>
double seconds_taken(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_input_suite)

BOOST_AUTO_TEST_CASE(a_well_formed_raw_signature_is_accepted) {
  // The helper itself must produce what the decoder accepts, or every
  // refusal below would prove nothing.
  BOOST_TEST(!refused(sign_raw(base64url_encode(R"({"a":1})"))));
  BOOST_TEST(!refused(sign_raw(compressed_payload(R"({"a":1})"))));
}

BOOST_AUTO_TEST_CASE(garbage_is_refused) {
  const std::vector<std::string> all_garbage = {"",
                                                ":",
                                                "::",
                                                ":::",
                                                "no colon at all",
                                                "a:b:c",
                                                "..:.:.",
                                                std::string("\0\0:\0:\0", 7),
                                                "\xff\xfe:\x80:\x81",
                                                "eyJhIjoxfQ:1:not-a-signature"};
  for (const auto& garbage : all_garbage)
    BOOST_TEST(refused(garbage), "accepted: " << garbage);
}

BOOST_AUTO_TEST_CASE(a_huge_unsigned_string_is_refused_quickly) {
  std::string huge(16 * 1024 * 1024, 'A');
  huge += ":1:AAAA";
  BOOST_TEST(seconds_taken([&] { BOOST_TEST(refused(huge)); }) < 2.0);
  BOOST_TEST(refused(std::string(4 * 1024 * 1024, ':')));
}

BOOST_AUTO_TEST_CASE(a_signed_zlib_bomb_is_refused_quickly) {
  // 64 MiB of zeros deflates to about 64 KiB: a thousandfold bomb.
  std::string json_text = "{\"a\":\"" + std::string(64u << 20, '0') + "\"}";
  auto bomb = sign_raw(compressed_payload(json_text));
  json_text.clear();
  json_text.shrink_to_fit();
  BOOST_TEST(bomb.size() < 1024u * 1024u);
  BOOST_TEST(seconds_taken([&] { BOOST_TEST(refused(bomb)); }) < 1.0);
}

BOOST_AUTO_TEST_CASE(a_payload_just_under_the_limit_is_accepted) {
  std::string json_text = "{\"a\":\"" + std::string(1000, 'b') + "\"}";
  auto signed_value = sign_raw(compressed_payload(json_text));
  BOOST_TEST(!refused(signed_value, json_text.size()));
  BOOST_TEST(refused(signed_value, json_text.size() - 1));
}

BOOST_AUTO_TEST_CASE(an_uncompressed_payload_over_the_limit_is_refused) {
  std::string json_text = "{\"a\":\"" + std::string(1000, 'b') + "\"}";
  BOOST_TEST(refused(sign_raw(base64url_encode(json_text)), 100));
}

BOOST_AUTO_TEST_CASE(a_truncated_zlib_stream_is_refused) {
  auto stream = deflate(R"({"a":"truncated stream"})");
  stream.resize(stream.size() - 3);
  BOOST_TEST(refused(sign_raw("." + base64url_encode(stream))));
}

BOOST_AUTO_TEST_CASE(bytes_after_the_zlib_stream_are_ignored_like_python) {
  auto stream = deflate(R"({"a":"trailing"})") + "junk";
  BOOST_TEST(!refused(sign_raw("." + base64url_encode(stream))));
}

BOOST_AUTO_TEST_CASE(a_dot_payload_that_is_not_zlib_is_refused) {
  BOOST_TEST(refused(sign_raw("." + base64url_encode(R"({"a":1})"))));
  BOOST_TEST(refused(sign_raw(".")));
}

BOOST_AUTO_TEST_CASE(invalid_base64_under_a_valid_signature_is_refused) {
  BOOST_TEST(refused(sign_raw("eyJhIjoxfQ=")));
  BOOST_TEST(refused(sign_raw("eyJh+joxfQ")));
  BOOST_TEST(refused(sign_raw("e")));
  BOOST_TEST(refused(sign_raw(".e")));
}

BOOST_AUTO_TEST_CASE(json_that_is_not_an_object_is_refused) {
  for (std::string text :
       {"[]", "\"x\"", "1", "null", "true", "{", "{}x", "{\"a\":NaN}", "", " "})
    BOOST_TEST(refused(sign_raw(base64url_encode(text))), "accepted " << text);
  BOOST_TEST(!refused(sign_raw(base64url_encode("{}"))));
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused_like_python_json_loads) {
  auto nested = [](int depth) {
    return "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
  };
  BOOST_TEST(!refused(sign_raw(base64url_encode(nested(100)))));
  BOOST_TEST(refused(sign_raw(base64url_encode(nested(30000)))));
  BOOST_TEST(refused(sign_raw(base64url_encode(std::string(30000, '[')))));
}

BOOST_AUTO_TEST_CASE(brackets_inside_strings_do_not_count_as_nesting) {
  std::string text = "{\"a\":\"" + std::string(2000, '[') + "\\\"\"}";
  BOOST_TEST(!refused(sign_raw(base64url_encode(text))));
}

BOOST_AUTO_TEST_CASE(bytes_above_ascii_are_read_as_latin1_like_django) {
  auto read = unsign_object(sign_raw(base64url_encode("{\"a\":\"\xe9\"}")),
                            session_salt, secrets);
  BOOST_REQUIRE(read);
  BOOST_TEST(read->at("a").get<std::string>() == "\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(a_timestamp_that_is_not_base62_is_refused) {
  auto payload = base64url_encode(R"({"a":1})");
  BOOST_TEST(refused(sign_raw(payload, "")));
  BOOST_TEST(refused(sign_raw(payload, "1.5")));
  BOOST_TEST(refused(sign_raw(payload, "1 ")));
  BOOST_TEST(!refused(sign_raw(payload, "-1")));
  BOOST_TEST(refused(
      sign_raw(payload).substr(payload.size() + 1)));  // no payload part at all
}

BOOST_AUTO_TEST_CASE(no_secret_at_all_accepts_nothing) {
  auto signed_value = sign_raw(base64url_encode(R"({"a":1})"));
  BOOST_TEST(!unsign_object(signed_value, session_salt, {}));
  BOOST_TEST(!unsign_object(signed_value, session_salt, {""}));
}

BOOST_AUTO_TEST_SUITE_END()
