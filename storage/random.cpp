#include "storage/random.hpp"

#include <openssl/rand.h>

#include <array>

#include "storage/storage_error.hpp"

namespace batchcast::storage {

std::string random_string(std::size_t length, std::string_view alphabet) {
  if (alphabet.empty() || alphabet.size() > 256)
    throw storage_error("random_string: alphabet must have 1 to 256 chars");

  // Rejection sampling: bytes at or above the largest multiple of the
  // alphabet size are dropped, so every character is equally likely.
  const unsigned limit = 256 - (256 % alphabet.size());
  std::string result;
  result.reserve(length);
  std::array<unsigned char, 64> pool{};
  while (result.size() < length) {
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1)
      throw storage_error("random_string: the random generator failed");
    for (unsigned char byte : pool) {
      if (byte >= limit)
        continue;
      result += alphabet[byte % alphabet.size()];
      if (result.size() == length)
        break;
    }
  }
  return result;
}

}  // namespace batchcast::storage
