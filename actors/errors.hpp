// The errors batchcast's actors reply with, as a CAF error category, so they
// travel inside caf::error like CAF's own (and survive the middleman).
#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>

namespace batchcast::actors {

// The category atom of every errc value.
inline constexpr caf::atom_value error_category = caf::atom("batchcast");

enum class errc : std::uint8_t {
  storage_failed = 1,  // the state database failed; nothing acknowledged
  directory_failed,    // the directory (users, sessions, batches) failed
  shutting_down,       // the actor that would have answered is stopping
  invalid_batch_id,    // not a canonical uuid; refused before any commit
  node_busy,           // a peer's request over what this node takes in
                       // at once (peer_intake.hpp); nothing was done
};

// Short stable name for logs, e.g. "storage_failed".
const char* to_string(errc code);

// Found by ADL, so `caf::error err = errc::storage_failed;` works.
caf::error make_error(errc code);

// The same with a human-readable detail (a file name, SQLite's message).
caf::error make_error(errc code, std::string detail);

// True when `err` is `code` of this category, whatever its detail.
bool is_error(const caf::error& err, errc code);

// True when `err` says the receiver of a request is gone or going (it quit,
// or the actor system is stopping) rather than that the work failed.
bool is_receiver_gone(const caf::error& err);

// One line for logs: "storage_failed (disk I/O error in state.db)".
std::string describe(const caf::error& err);

}  // namespace batchcast::actors
