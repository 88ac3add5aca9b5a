// The life cycle of a batch user-creation job, and the record batchcast
// keeps of its latest status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace batchcast::storage {

// pending -> processing -> completed | failed. A terminal batch may be
// re-run (back to processing); the latest status wins.
enum class batch_status { pending, processing, completed, failed };

// "pending", "processing", "completed" or "failed".
std::string_view to_string(batch_status status);

// The status named by `text` (exact, lowercase), or nothing.
std::optional<batch_status> parse_batch_status(std::string_view text);

// Only terminal statuses are ever sent to watchers.
bool is_terminal(batch_status status);

// The latest known status of one batch. Ordered by (updated_at_ms, origin)
// so that every node of a cluster settles on the same record no matter in
// which order copies arrive.
struct batch_record {
  std::string batch_id;  // canonical dashed lowercase uuid
  batch_status status = batch_status::pending;
  std::int64_t updated_at_ms = 0;  // unix time, milliseconds
  std::string origin;              // name of the node that published it
};

// The updated_at_ms of a status this node is publishing: the state store
// stamps it as it commits (see stamp_clock.hpp). Records from peers carry
// their stamps and never this value.
inline constexpr std::int64_t stamp_at_commit = 0;

// True when `candidate` should replace `current`.
bool supersedes(const batch_record& candidate, const batch_record& current);

// The one WebSocket text message for a terminal status, for example
// {"status":"completed"}.
std::string status_message(batch_status status);

}  // namespace batchcast::storage
