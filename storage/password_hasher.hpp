// Django's default password hasher, PBKDF2-SHA256:
// "pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte key>".
#pragma once

#include <string>
#include <string_view>

namespace batchcast::storage {

// Django 3.2's iteration count, so hashes look like the ones it writes.
inline constexpr int default_pbkdf2_iterations = 260000;

// A new hash of `password` with a random 22-character alphanumeric salt.
std::string make_password_hash(std::string_view password,
                               int iterations = default_pbkdf2_iterations);

// PBKDF2PasswordHasher.encode: the hash of `password` with this exact
// salt (no "$" in it) and iteration count (at least 1).
std::string encode_pbkdf2_sha256(std::string_view password,
                                 std::string_view salt, int iterations);

// True when `password` matches `encoded` (pbkdf2_sha256 only), compared in
// constant time. False for anything else, including unusable passwords and
// hashes that do not parse.
bool check_password(std::string_view password, std::string_view encoded);

// An unusable password as Django writes it: "!" and 40 random characters.
std::string make_unusable_password();

}  // namespace batchcast::storage
