// UUID spellings: canonical (lowercase, dashed 8-4-4-4-12, what URLs and the
// state table use) and Django-on-SQLite (32 lowercase hex, no dashes).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace batchcast::storage {

// True for exactly the form Django's `uuid` path converter accepts:
// lowercase hex, dashed 8-4-4-4-12.
bool is_canonical_uuid(std::string_view text);

// The canonical form of a uuid written either canonically, with uppercase
// hex, or as 32 hex digits without dashes; nothing for anything else.
std::optional<std::string> canonical_uuid(std::string_view text);

// 32 lowercase hex digits, as Django stores a UUIDField in SQLite.
// Precondition: is_canonical_uuid(canonical).
std::string uuid_hex32(std::string_view canonical);

// A fresh random (version 4) uuid in canonical form.
std::string new_uuid4();

}  // namespace batchcast::storage
