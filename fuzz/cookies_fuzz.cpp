// Cookie headers against net/cookies, read the way Django reads them. The
// input is one or more Cookie header values separated by '\n' (a byte no
// header value can hold). Beyond not crashing:
//
// - several headers read exactly like one joined with "; ";
// - a later pair wins, an earlier one only fills a gap;
// - in a header without quotes, a value never contains ';', never starts
//   or ends with whitespace, and is a piece of the header as sent;
// - a value read back from "name=value" is the same value, and a quoted
//   value round-trips through unquoting.
#include <string>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "net/cookies.hpp"

namespace {

using namespace batchcast;
using fuzz::require;

// The names looked up: the usual one, and the empty name that Django
// gives a chunk without '='.
const std::vector<std::string_view> names = {"sessionid", ""};

bool is_python_space(char c) {
  auto byte = static_cast<unsigned char>(c);
  return (byte >= 0x09 && byte <= 0x0d) || (byte >= 0x1c && byte <= 0x20) ||
         byte == 0x85 || byte == 0xa0;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (;;) {
    auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos)
      return lines;
    text.remove_prefix(end + 1);
  }
}

std::string join(const std::vector<std::string_view>& headers) {
  std::string joined;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i > 0)
      joined += "; ";
    joined += headers[i];
  }
  return joined;
}

// A pair that names `name`: "name=value", or just "value" for "".
std::string pair(std::string_view name, std::string_view value) {
  if (name.empty())
    return std::string{value};
  return std::string{name} + "=" + std::string{value};
}

// Quoted the way a server may send it: \" and \\ escaped.
std::string quote(std::string_view value) {
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

// Sent as it is, "value" is read back unchanged.
bool is_plain_value(std::string_view value, std::string_view name) {
  if (value.find(';') != std::string_view::npos)
    return false;
  if (!value.empty() &&
      (is_python_space(value.front()) || is_python_space(value.back())))
    return false;
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    return false;
  // Without a name, "a=b" would name a cookie "a"; and an empty pair is
  // dropped.
  return !name.empty() ||
         (!value.empty() && value.find('=') == std::string_view::npos);
}

void check_one_name(const std::vector<std::string_view>& headers,
                    std::string_view name) {
  auto value = net::find_cookie(headers, name);
  auto joined = join(headers);
  require(net::find_cookie({joined}, name) == value,
          "several Cookie headers read like one joined with \"; \"");

  std::string later = joined + "; " + pair(name, "later");
  require(net::find_cookie({later}, name) == "later",
          "the last pair with the name wins");
  std::string earlier = pair(name, "earlier") + "; " + joined;
  require(net::find_cookie({earlier}, name) == value.value_or("earlier"),
          "an earlier pair only fills a gap");

  if (!value)
    return;
  require(value->size() <= joined.size(), "a value is never longer");
  if (joined.find('"') == std::string::npos) {
    require(value->find(';') == std::string::npos,
            "an unquoted value never contains ';'");
    require(value->empty() || (!is_python_space(value->front()) &&
                               !is_python_space(value->back())),
            "an unquoted value is trimmed");
    require(joined.find(*value) != std::string::npos,
            "an unquoted value is a piece of the header");
  }
  if (is_plain_value(*value, name)) {
    require(net::find_cookie({pair(name, *value)}, name) == value,
            "a plain value reads back unchanged");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto text = fuzz::as_text(data, size);
  auto headers = split_lines(text);
  for (auto name : names)
    check_one_name(headers, name);

  // The whole input as one cookie value.
  require(net::unquote_cookie_value(quote(text)) == text,
          "unquoting undoes quoting");
  auto unquoted = net::unquote_cookie_value(text);
  require(unquoted.size() <= text.size(), "unquoting never lengthens");
  bool quoted = text.size() >= 2 && text.front() == '"' && text.back() == '"';
  require(quoted || unquoted == text, "only a quoted value changes");
  return 0;
}
