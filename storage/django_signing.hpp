// Django's signing as used for session data (django.core.signing, 3.1+):
//
//   payload:timestamp:signature
//
// payload is URL-safe base64 without padding of the compact JSON dict,
// zlib-compressed and prefixed with "." when that is shorter; timestamp is
// base62 seconds; signature is URL-safe base64 (no padding) of
// HMAC-SHA256(key = SHA256(salt + "signer" + secret), "payload:timestamp").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace batchcast::storage {

inline constexpr std::string_view session_salt =
    "django.contrib.sessions.SessionStore";

// URL-safe base64 without padding, both ways. decode returns nothing for
// characters outside the alphabet or an impossible length.
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

// Django's base62 (0-9A-Za-z), for the timestamp.
std::string base62_encode(std::uint64_t value);
std::optional<std::uint64_t> base62_decode(std::string_view text);

// django.utils.crypto.salted_hmac with sha256: raw 32-byte digest of
// HMAC-SHA256 keyed with SHA256(key_salt + secret).
std::string salted_hmac_sha256(std::string_view key_salt,
                               std::string_view value, std::string_view secret);

// signing.dumps(obj, salt=salt, compress=true) with the given time. The
// JSON is written as Django's JSONSerializer writes it (compact, non-ASCII
// escaped as \uXXXX); keys come out sorted, as nlohmann::json keeps them.
// Throws storage_error when a string in `object` is not valid UTF-8.
std::string sign_object(const nlohmann::json& object, std::string_view salt,
                        std::string_view secret, std::uint64_t unix_seconds);

// The same for JSON text the caller has already serialized, for when key
// order matters (Django writes keys in insertion order). `json_text` is
// signed as given.
std::string sign_json_text(std::string_view json_text, std::string_view salt,
                           std::string_view secret, std::uint64_t unix_seconds);

// signing.loads without max_age: the object when the signature verifies
// with any of `secrets` (current key first, then fallbacks) and the payload
// decodes (including zlib) to a JSON object; nothing otherwise. Never
// throws; bounded work for hostile input (a JSON payload longer than
// `max_inflated_bytes`, compressed or not, is refused, and inflating stops
// there).
//
// Like Django 4.0 and later, only HMAC-SHA256 signatures are accepted (not
// Django 3.x's transitional SHA1 ones, nor the pre-3.1 session format).
// The JSON bytes are read as Latin-1, as Django's JSONSerializer reads them.
// Strictness beyond Django's, none of which a Django signer ever produces:
// the base64 must use the URL-safe alphabet only, and NaN/Infinity or lone
// surrogate escapes in the JSON are refused.
std::optional<nlohmann::json> unsign_object(
    std::string_view signed_value, std::string_view salt,
    const std::vector<std::string>& secrets,
    std::size_t max_inflated_bytes = 64 * 1024);

// django.utils.crypto.constant_time_compare: equal contents, in time that
// depends only on the lengths.
bool constant_time_equals(std::string_view a, std::string_view b);

// AbstractBaseUser.get_session_auth_hash: lowercase hex HMAC-SHA256 over
// the password hash, salted with
// "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash".
std::string session_auth_hash(std::string_view password_hash,
                              std::string_view secret);

}  // namespace batchcast::storage
