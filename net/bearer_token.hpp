// The publish API's credential: "Authorization: Bearer <token>" (RFC 6750),
// checked against the configured token in constant time.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace batchcast::net {

// The token of an Authorization header value: the scheme "Bearer" in any
// case, one or more spaces, then visible ASCII without spaces (a little
// wider than RFC 6750's b64token, so any token an operator writes into a
// file works). Nothing for every other value.
std::optional<std::string_view> parse_bearer_token(
    std::string_view authorization);

// Why no Authorization header parse_bearer_token takes could carry
// `token` (empty, a space, a control character such as a line ending, a
// byte outside visible ASCII), or nothing when one can. Never quotes the
// token: the answer is meant for a log.
std::optional<std::string> unsendable_token_reason(std::string_view token);

// Holds a digest of the expected token, never the token itself, so the
// comparison takes the same time whatever the presented token's length or
// content. Immutable after construction; safe to share between threads.
class bearer_token_check {
 public:
  // An empty `expected` token matches nothing: the API is then closed.
  explicit bearer_token_check(std::string_view expected);

  bool matches(std::string_view presented) const;

 private:
  bool enabled_ = false;
  std::array<unsigned char, 32> expected_digest_{};
};

}  // namespace batchcast::net
