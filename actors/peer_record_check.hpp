// Which records a peer sends are taken as they are. Anything that reaches
// the node port can speak as a node (see cluster.hpp), so a page is not
// trusted to hold what a batchcast node would send: a status outside the
// four, a stamp far ahead of this node's clock, a batch id that is no
// canonical uuid or an origin no node could be named, is dropped before
// it is stored. A stamp far ahead matters because the newest stamp wins for
// good: one record stamped near the end of time would freeze its batch's
// status, every later publish losing to it while still answered 200.
//
// Pure: no CAF, no clock of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "storage/batch_status.hpp"

namespace batchcast::actors {

// How far ahead of this node's clock a peer's stamp may run. A node's
// stamps run ahead of its clock by about a millisecond per publish beyond
// 1,000 a second (stamp_clock.hpp), and a peer's clock may be set ahead;
// a day holds both with room to spare, and is how long a hostile stamp
// can still hold a batch's status.
inline constexpr std::chrono::hours peer_stamp_max_ahead{24};

// Why `record`, received from a peer when this node's clock read
// `now_unix_ms`, is not stored; nothing when it is taken. The text is
// static, for a log line.
std::optional<const char*> peer_record_problem(
    const storage::batch_record& record, std::int64_t now_unix_ms);

}  // namespace batchcast::actors
