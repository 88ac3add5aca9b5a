#include "actors/peer_record_check.hpp"

#include "common/node_name.hpp"
#include "storage/uuid.hpp"

namespace batchcast::actors {

std::optional<const char*> peer_record_problem(
    const storage::batch_record& record, std::int64_t now_unix_ms) {
  // Our store would stamp it as if this node had published it.
  if (record.updated_at_ms <= storage::stamp_at_commit)
    return "without a timestamp";
  auto latest =
      now_unix_ms + std::chrono::duration_cast<std::chrono::milliseconds>(
                        peer_stamp_max_ahead)
                        .count();
  if (record.updated_at_ms > latest)
    return "stamped more than a day ahead of this node's clock";
  // Stored, shown and sent on to every other peer: a page of records
  // with megabytes of origin would make this node send messages over the
  // cap its own peers' gates enforce.
  if (!storage::is_canonical_uuid(record.batch_id))
    return "with a batch id that is not a canonical uuid";
  if (node_name_problem(record.origin))
    return "with an origin no node could be named (see --node-name)";
  // CAF reads the enum as the integer sent, whatever its value.
  switch (record.status) {
    case storage::batch_status::pending:
    case storage::batch_status::processing:
    case storage::batch_status::completed:
    case storage::batch_status::failed:
      return std::nullopt;
  }
  return "with an unknown status";
}

}  // namespace batchcast::actors
