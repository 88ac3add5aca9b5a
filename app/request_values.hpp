// Checks on what a user gives the command-line clients (watch, publish)
// before it goes into a request line or a header. A value with a line
// ending would add headers of the user's (or an attacker's) choosing, a
// ';' a second cookie, a '/' or '?' in a batch id another path; refusing
// such a value before connecting says what is wrong instead of letting
// the server answer something puzzling.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace batchcast::app {

// Why `id` cannot be a batch id in a request path, naming `what` (such as
// "BATCH_ID"); nothing when it is a uuid the server takes (lowercase,
// dashed 8-4-4-4-12). Another spelling of a uuid gets the canonical one
// suggested.
std::optional<std::string> batch_id_problem(std::string_view id,
                                            std::string_view what);

// Why `key` cannot be sent as a session cookie's value; nothing when it
// is made of letters, digits, '-', '_' and '.' (Django's keys are 32 of
// [a-z0-9]). The key is a secret: the reason does not quote it.
std::optional<std::string> session_key_problem(std::string_view key);

// Why `name` cannot be a cookie name: nothing for an HTTP token (letters,
// digits and !#$%&'*+-.^_`|~), which is what Django's names are.
std::optional<std::string> cookie_name_problem(std::string_view name);

// Why `origin` cannot be sent as an Origin header; nothing for
// scheme://host[:port], as a browser sends it (no path, no trailing '/').
std::optional<std::string> origin_problem(std::string_view origin);

// True for a host a URL may name: a DNS name or IPv4 address (letters,
// digits, '-', '.', '_'), or an IPv6 address without its brackets.
bool is_sendable_host(std::string_view host);

// True for a URL path (a prefix the clients put before their own path)
// made only of what RFC 3986 allows in path segments, without "." or ".."
// segments, so it neither ends the path nor leaves the prefix.
bool is_sendable_path(std::string_view path);

}  // namespace batchcast::app
