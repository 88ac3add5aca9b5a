#include "storage/uuid.hpp"

#include <openssl/rand.h>

#include <array>

#include "storage/storage_error.hpp"

namespace batchcast::storage {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

bool is_dash_position(std::size_t index) {
  return index == 8 || index == 13 || index == 18 || index == 23;
}

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_hex(char c) {
  return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

char to_lower(char c) {
  return (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string dashed(std::string_view hex32) {
  std::string result;
  result.reserve(36);
  for (std::size_t i = 0; i < hex32.size(); ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20)
      result += '-';
    result += to_lower(hex32[i]);
  }
  return result;
}

}  // namespace

bool is_canonical_uuid(std::string_view text) {
  if (text.size() != 36)
    return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_dash_position(i) ? text[i] != '-' : !is_lower_hex(text[i]))
      return false;
  }
  return true;
}

std::optional<std::string> canonical_uuid(std::string_view text) {
  if (text.size() == 32) {
    for (char c : text)
      if (!is_hex(c))
        return std::nullopt;
    return dashed(text);
  }
  if (text.size() != 36)
    return std::nullopt;
  std::string hex;
  hex.reserve(32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_dash_position(i)) {
      if (text[i] != '-')
        return std::nullopt;
    } else if (!is_hex(text[i])) {
      return std::nullopt;
    } else {
      hex += text[i];
    }
  }
  return dashed(hex);
}

std::string uuid_hex32(std::string_view canonical) {
  std::string hex;
  hex.reserve(32);
  for (char c : canonical)
    if (c != '-')
      hex += c;
  return hex;
}

std::string new_uuid4() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw storage_error("uuid: the random number generator failed");
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // v4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC
  std::string hex;
  hex.reserve(32);
  for (unsigned char b : bytes) {
    hex += hex_digits[b >> 4];
    hex += hex_digits[b & 0x0f];
  }
  return dashed(hex);
}

}  // namespace batchcast::storage
