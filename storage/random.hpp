// Random strings from the operating system's CSPRNG (OpenSSL RAND_bytes),
// as django.utils.crypto.get_random_string makes them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace batchcast::storage {

// Django's RANDOM_STRING_CHARS: a-z, A-Z, 0-9.
inline constexpr std::string_view random_string_chars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

// `length` characters drawn uniformly from `alphabet` (1 to 256 distinct
// characters). Throws storage_error when the generator fails.
std::string random_string(std::size_t length,
                          std::string_view alphabet = random_string_chars);

}  // namespace batchcast::storage
