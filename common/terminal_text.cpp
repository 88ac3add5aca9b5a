#include "common/terminal_text.hpp"

#include <cstddef>

namespace batchcast {

namespace {

void escape(unsigned char byte, std::string& out) {
  static constexpr char digits[] = "0123456789abcdef";
  out += "\\x";
  out += digits[byte >> 4];
  out += digits[byte & 0x0f];
}

// The length of the UTF-8 sequence starting at text[at], or 0 when no
// well-formed one starts there (overlong forms and surrogates included).
std::size_t utf8_length(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) {
    return static_cast<unsigned char>(text[at + i]);
  };
  auto lead = byte(0);
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0)
      low = 0xa0;
    if (lead == 0xed)
      high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0)
      low = 0x90;
    if (lead == 0xf4)
      high = 0x8f;
  } else {
    return 0;
  }
  if (at + length > text.size())
    return 0;
  for (std::size_t i = 1; i < length; ++i) {
    auto next = byte(i);
    if (next < (i == 1 ? low : 0x80) || next > (i == 1 ? high : 0xbf))
      return 0;
  }
  return length;
}

// printable and one_line: the line feed is the only difference.
std::string escaped(std::string_view text, bool keep_line_feed) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    auto byte = static_cast<unsigned char>(text[at]);
    if (byte < 0x80) {
      if ((byte < 0x20 && !(keep_line_feed && byte == '\n')) || byte == 0x7f)
        escape(byte, out);
      else
        out += static_cast<char>(byte);
      ++at;
      continue;
    }
    auto length = utf8_length(text, at);
    // U+0080 to U+009F are C2 80 to C2 9F.
    bool c1_control = length == 2 && byte == 0xc2 &&
                      static_cast<unsigned char>(text[at + 1]) <= 0x9f;
    if (length == 0) {
      escape(byte, out);
      ++at;
      continue;
    }
    if (c1_control) {
      escape(byte, out);
      escape(static_cast<unsigned char>(text[at + 1]), out);
    } else {
      out.append(text.substr(at, length));
    }
    at += length;
  }
  return out;
}

}  // namespace

std::string printable(std::string_view text) {
  return escaped(text, true);
}

std::string one_line(std::string_view text) {
  return escaped(text, false);
}

}  // namespace batchcast
