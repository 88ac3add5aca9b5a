// Case-insensitive comparison of protocol text (URI schemes, HTTP auth
// schemes), which is defined over ASCII only: no locale is consulted, so
// no byte but A-Z folds.
#pragma once

#include <cstddef>
#include <string_view>

namespace batchcast {

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Whether `text` begins with `lower`, which is written in lowercase.
constexpr bool starts_with_ignoring_case(std::string_view text,
                                         std::string_view lower) {
  if (text.size() < lower.size())
    return false;
  for (std::size_t i = 0; i < lower.size(); ++i)
    if (ascii_lower(text[i]) != lower[i])
      return false;
  return true;
}

// Whether `text` is `lower`, which is written in lowercase, but for case.
constexpr bool equals_ignoring_case(std::string_view text,
                                    std::string_view lower) {
  return text.size() == lower.size() && starts_with_ignoring_case(text, lower);
}

}  // namespace batchcast
