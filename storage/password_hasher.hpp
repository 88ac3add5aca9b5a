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

// True when `password` matches `encoded` (pbkdf2_sha256 only), compared in
// constant time.
bool check_password(std::string_view password, std::string_view encoded);

// An unusable password as Django writes it: "!" and 40 random characters.
std::string make_unusable_password();

}  // namespace batchcast::storage
