#include "net/bearer_token.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/ascii_case.hpp"

namespace batchcast::net {

namespace {

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  ::SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
           digest.data());
  return digest;
}

// What a token may hold: visible ASCII, so no space.
bool is_token_character(char c) {
  return c >= 0x21 && c <= 0x7e;
}

}  // namespace

std::optional<std::string> unsendable_token_reason(std::string_view token) {
  if (token.empty())
    return "it is empty";
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  if (is_space(token.front()) || is_space(token.back()))
    return "it begins or ends with whitespace (a line ending, perhaps)";
  for (std::size_t i = 0; i < token.size(); ++i) {
    auto c = static_cast<unsigned char>(token[i]);
    if (is_token_character(static_cast<char>(c)))
      continue;
    auto at = " at character " + std::to_string(i + 1);
    if (c == ' ')
      return "it holds a space" + at;
    if (c < 0x20 || c == 0x7f)
      return "it holds a control character" + at;
    return "it holds a byte outside visible ASCII" + at;
  }
  return std::nullopt;
}

std::optional<std::string_view> parse_bearer_token(
    std::string_view authorization) {
  auto space = authorization.find(' ');
  if (space == std::string_view::npos ||
      !equals_ignoring_case(authorization.substr(0, space), "bearer"))
    return std::nullopt;

  auto token = authorization.substr(space);
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  if (token.empty())
    return std::nullopt;
  for (char c : token) {
    if (!is_token_character(c))
      return std::nullopt;
  }
  return token;
}

bearer_token_check::bearer_token_check(std::string_view expected)
    : enabled_{!expected.empty()}, expected_digest_{sha256(expected)} {}

bool bearer_token_check::matches(std::string_view presented) const {
  // Comparing fixed-size digests hides the expected token's length too.
  auto digest = sha256(presented);
  bool same = ::CRYPTO_memcmp(digest.data(), expected_digest_.data(),
                              digest.size()) == 0;
  return enabled_ && same;
}

}  // namespace batchcast::net
