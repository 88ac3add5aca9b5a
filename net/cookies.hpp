// Reads one cookie from a request's Cookie headers exactly as Django's
// django.http.cookie.parse_cookie does (what Channels uses for the session
// cookie): pairs split on ';', a chunk without '=' is a value with an empty
// name, names and values trimmed of Python whitespace, quoted values
// unquoted with http.cookies' rules (\" and \ooo octal escapes), and a
// later pair with the same name replaces an earlier one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace batchcast::net {

// The value of cookie `name`, or nothing when no pair has that name.
// Several Cookie headers are read as one joined with "; " (how HTTP/2
// gateways merge them), so the last pair named `name` in the last header
// that has one wins.
std::optional<std::string> find_cookie(
    const std::vector<std::string_view>& cookie_headers, std::string_view name);

// http.cookies._unquote: "\"a\\\"b\"" -> "a\"b"; other text unchanged.
std::string unquote_cookie_value(std::string_view value);

}  // namespace batchcast::net
