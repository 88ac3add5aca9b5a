#include "storage/password_hasher.hpp"

#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <limits>

#include "storage/django_signing.hpp"
#include "storage/random.hpp"
#include "storage/storage_error.hpp"

namespace batchcast::storage {

namespace {

constexpr std::string_view algorithm = "pbkdf2_sha256";

// BasePasswordHasher.salt(): enough characters of a 62-letter alphabet for
// 128 bits of entropy.
constexpr std::size_t salt_length = 22;

// Django's UNUSABLE_PASSWORD_SUFFIX_LENGTH.
constexpr std::size_t unusable_suffix_length = 40;

// Standard base64 with padding, as Python's base64.b64encode writes it.
std::string base64_standard(const unsigned char* bytes, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                bytes, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

}  // namespace

std::string encode_pbkdf2_sha256(std::string_view password,
                                 std::string_view salt, int iterations) {
  if (iterations < 1 || salt.empty() ||
      salt.find('$') != std::string_view::npos)
    throw storage_error("password hasher: invalid salt or iteration count");
  if (password.size() >
          static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      salt.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw storage_error("password hasher: input too long");

  std::array<unsigned char, 32> key{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(key.size()), key.data()) != 1)
    throw storage_error("password hasher: PBKDF2 failed");

  std::string encoded(algorithm);
  encoded += '$';
  encoded += std::to_string(iterations);
  encoded += '$';
  encoded += salt;
  encoded += '$';
  encoded += base64_standard(key.data(), key.size());
  return encoded;
}

std::string make_password_hash(std::string_view password, int iterations) {
  return encode_pbkdf2_sha256(password, random_string(salt_length), iterations);
}

bool check_password(std::string_view password, std::string_view encoded) {
  // "pbkdf2_sha256$<iterations>$<salt>$<hash>". Like Django, re-encode with
  // the stored salt and iteration count and compare the whole strings, so
  // a non-canonical iteration count ("0260000") never matches.
  auto first = encoded.find('$');
  if (first == std::string_view::npos || encoded.substr(0, first) != algorithm)
    return false;
  auto second = encoded.find('$', first + 1);
  if (second == std::string_view::npos)
    return false;
  auto third = encoded.find('$', second + 1);
  if (third == std::string_view::npos)
    return false;

  std::string_view digits = encoded.substr(first + 1, second - first - 1);
  int iterations = 0;
  auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), iterations);
  if (error != std::errc() || end != digits.data() + digits.size() ||
      iterations < 1)
    return false;
  std::string_view salt = encoded.substr(second + 1, third - second - 1);
  if (salt.empty())
    return false;

  try {
    return constant_time_equals(
        encoded, encode_pbkdf2_sha256(password, salt, iterations));
  } catch (const storage_error&) {
    return false;
  }
}

std::string make_unusable_password() {
  return "!" + random_string(unusable_suffix_length);
}

}  // namespace batchcast::storage
