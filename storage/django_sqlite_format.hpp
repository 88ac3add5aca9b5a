// How Django on SQLite spells datetimes: UTC text
// "YYYY-MM-DD HH:MM:SS[.ffffff]" (the fraction only when not zero, as
// Python's isoformat writes it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace batchcast::storage {

// `unix_us` (microseconds since the epoch, UTC) as Django writes it.
std::string format_django_datetime(std::int64_t unix_us);

// Milliseconds since the epoch for a datetime Django wrote; nothing when
// `text` is not one. Also takes "T" as the separator and a trailing "Z" or
// "+00:00", which other writers use. A database run with USE_TZ = False
// holds local times; they are read as UTC all the same.
std::optional<std::int64_t> parse_django_datetime(std::string_view text);

}  // namespace batchcast::storage
