#include "net/bearer_token.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace batchcast::net {

namespace {

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  ::SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
           digest.data());
  return digest;
}

bool equals_ignoring_case(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size())
    return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i])
      return false;
  }
  return true;
}

}  // namespace

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
    if (c < 0x21 || c > 0x7e)
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
