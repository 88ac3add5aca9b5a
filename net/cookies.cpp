#include "net/cookies.hpp"

namespace batchcast::net {

namespace {

// str.isspace() for the characters of a header decoded as latin-1, which
// is how Channels hands headers to Django.
bool is_python_space(char c) {
  auto byte = static_cast<unsigned char>(c);
  return (byte >= 0x09 && byte <= 0x0d) || (byte >= 0x1c && byte <= 0x20) ||
         byte == 0x85 || byte == 0xa0;
}

std::string_view strip(std::string_view text) {
  while (!text.empty() && is_python_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_python_space(text.back()))
    text.remove_suffix(1);
  return text;
}

bool is_octal(char c, char highest) {
  return c >= '0' && c <= highest;
}

// The value of the last pair named `name` in one header, if any.
std::optional<std::string_view> last_pair_named(std::string_view header,
                                                std::string_view name) {
  std::optional<std::string_view> found;
  for (;;) {
    auto end = header.find(';');
    auto chunk = header.substr(0, end);

    auto equals = chunk.find('=');
    std::string_view key;  // a chunk without '=' has an empty name
    std::string_view value = chunk;
    if (equals != std::string_view::npos) {
      key = chunk.substr(0, equals);
      value = chunk.substr(equals + 1);
    }
    key = strip(key);
    value = strip(value);
    // Django keeps a pair only when its name or its value is non-empty.
    if (key == name && (!key.empty() || !value.empty()))
      found = value;

    if (end == std::string_view::npos)
      return found;
    header.remove_prefix(end + 1);
  }
}

}  // namespace

std::string unquote_cookie_value(std::string_view value) {
  if (value.size() < 2 || value.front() != '"' || value.back() != '"')
    return std::string{value};

  value = value.substr(1, value.size() - 2);
  std::string result;
  result.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    // Python's pattern \\(?:([0-3][0-7][0-7])|(.)): '.' matches anything
    // but a newline, and a trailing lone backslash stays.
    if (value[i] != '\\' || i + 1 == value.size() || value[i + 1] == '\n') {
      result.push_back(value[i]);
      continue;
    }
    if (i + 3 < value.size() && is_octal(value[i + 1], '3') &&
        is_octal(value[i + 2], '7') && is_octal(value[i + 3], '7')) {
      result.push_back(static_cast<char>((value[i + 1] - '0') * 64 +
                                         (value[i + 2] - '0') * 8 +
                                         (value[i + 3] - '0')));
      i += 3;
      continue;
    }
    result.push_back(value[i + 1]);
    i += 1;
  }
  return result;
}

std::optional<std::string> find_cookie(
    const std::vector<std::string_view>& cookie_headers,
    std::string_view name) {
  std::optional<std::string_view> found;
  for (auto header : cookie_headers) {
    if (auto value = last_pair_named(header, name))
      found = value;
  }
  if (!found)
    return std::nullopt;
  return unquote_cookie_value(*found);
}

}  // namespace batchcast::net
