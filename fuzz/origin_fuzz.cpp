// Allowed-hosts lists and Origin headers against net/origin. The input's
// first line is the allowed-hosts list (comma-separated, as on the command
// line); the rest, after the first '\n', is the Origin header; without a
// '\n' the request has no Origin. Beyond not crashing:
//
// - "*" allows everything, even a missing Origin; nothing else allows a
//   missing one;
// - whether an Origin is missing, hostless or malformed does not depend on
//   the list;
// - a list allows an Origin exactly when one of its patterns alone does;
// - letter case in the Origin does not matter (outside IPv6 literals and
//   zone ids, where Python keeps it);
// - a plain host pattern allows that host, and ".host" its subdomains.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "net/origin.hpp"

namespace {

using namespace batchcast;
using fuzz::require;
using net::origin_validator;
using net::origin_verdict;

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  for (;;) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    if (!item.empty())
      items.emplace_back(item);
    if (comma == std::string_view::npos)
      return items;
    text.remove_prefix(comma + 1);
  }
}

std::string uppercase(std::string_view text) {
  std::string upper{text};
  for (auto& c : upper)
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
  return upper;
}

// A name DNS could hold, for the pattern-builds-an-origin checks.
bool is_simple_hostname(std::string_view host) {
  return !host.empty() && host.size() < 200 && host.front() != '.' &&
         host.back() != '.' &&
         std::all_of(host.begin(), host.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
         });
}

void check_list(const std::vector<std::string>& allowed,
                std::optional<std::string_view> origin) {
  origin_validator validator{allowed};
  auto verdict = validator.check(origin);
  bool allow_all = std::count(allowed.begin(), allowed.end(), "*") > 0;

  if (allow_all) {
    require(verdict == origin_verdict::allowed, "\"*\" allows everything");
    return;
  }
  if (!origin) {
    require(verdict == origin_verdict::missing,
            "a missing Origin is refused without \"*\"");
    return;
  }

  auto without_list = origin_validator{{}}.check(origin);
  require(without_list != origin_verdict::allowed,
          "an empty list allows nothing");
  if (without_list != origin_verdict::not_allowed)
    require(verdict == without_list,
            "a missing, hostless or malformed Origin is so for every list");
  else
    require(verdict == origin_verdict::allowed ||
                verdict == origin_verdict::not_allowed,
            "a well-formed Origin is either allowed or not");

  bool one_allows = std::any_of(
      allowed.begin(), allowed.end(), [&](const std::string& pattern) {
        return origin_validator{{pattern}}.check(origin) ==
               origin_verdict::allowed;
      });
  require((verdict == origin_verdict::allowed) == one_allows,
          "a list allows what one of its patterns allows");

  if (origin->find_first_of("[]%") == std::string_view::npos) {
    require(validator.check(uppercase(*origin)) == verdict,
            "letter case in the Origin does not matter");
  }
  require(origin_validator{{"*"}}.check(origin) == origin_verdict::allowed,
          "a list of \"*\" allows it");
}

void check_pattern_as_host(std::string_view pattern) {
  if (!is_simple_hostname(pattern))
    return;
  std::string host{pattern};
  origin_validator exact{{host}};
  require(exact.check("http://" + host) == origin_verdict::allowed &&
              exact.check("https://user@" + host + ":8443/path") ==
                  origin_verdict::allowed,
          "a host pattern allows that host on any scheme and port");
  require(exact.check("http://x" + host) == origin_verdict::not_allowed &&
              exact.check("http://sub." + host) == origin_verdict::not_allowed,
          "a host pattern allows no other host");
  require(net::is_same_domain(host, host), "a host is its own domain");

  origin_validator domain{{"." + host}};
  require(domain.check("http://" + host) == origin_verdict::allowed &&
              domain.check("http://sub." + host) == origin_verdict::allowed,
          "a .domain pattern allows the domain and its subdomains");
  require(domain.check("http://x" + host) == origin_verdict::not_allowed,
          "a .domain pattern allows no lookalike");

  origin_validator with_scheme{{"https://" + host}};
  require(
      with_scheme.check("https://" + host + ":443") ==
              origin_verdict::allowed &&
          with_scheme.check("http://" + host) == origin_verdict::not_allowed &&
          with_scheme.check("https://" + host + ":8443") ==
              origin_verdict::not_allowed,
      "a pattern with a scheme also matches scheme and port");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto text = fuzz::as_text(data, size);
  auto newline = text.find('\n');
  auto allowed = split_list(text.substr(0, newline));
  std::optional<std::string_view> origin;
  if (newline != std::string_view::npos)
    origin = text.substr(newline + 1);

  check_list(allowed, origin);
  for (const auto& pattern : allowed)
    check_pattern_as_host(pattern);
  return 0;
}
