// Reading the service's answers in the client commands: a JSON object
// read as it is written or not at all. nlohmann's parser keeps the last
// of two members of one name and stops at a NUL byte, so a reply could
// say one thing and be read as another.
#pragma once

#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace batchcast::app {

// The object in `text`, or nothing when `text` is not exactly one JSON
// object, holds a NUL byte, or names a top-level member twice.
inline std::optional<nlohmann::json> parse_strict_object(
    const std::string& text) {
  if (text.find('\0') != std::string::npos)
    return std::nullopt;
  std::set<std::string> names;
  bool named_twice = false;
  auto parsed = nlohmann::json::parse(
      text,
      [&](int depth, nlohmann::json::parse_event_t event,
          nlohmann::json& value) {
        if (event == nlohmann::json::parse_event_t::key && depth == 1 &&
            !names.insert(value.get<std::string>()).second)
          named_twice = true;
        return true;
      },
      false);
  if (named_twice || !parsed.is_object())
    return std::nullopt;
  return parsed;
}

}  // namespace batchcast::app
