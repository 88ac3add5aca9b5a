// storage_actor: the one owner of the state database (and, in standalone
// mode, of the writer of the embedded directory). Spawned detached, because
// every call blocks on SQLite and fsync.
//
// Messages and replies:
//
//   (load_atom, std::string batch_id) -> std::vector<storage::batch_record>
//       Zero or one record: the stored status of the batch. A load sees
//       every save received before it.
//
//   (save_atom, storage::batch_record) -> storage::batch_record
//       The record stored afterwards: the input, or a newer one that was
//       already there. Replied only once the commit is durable. Saves that
//       arrive together commit in one transaction (group commit).
//
//   (changes_atom, std::int64_t since_ms, std::uint64_t limit)
//       -> std::vector<storage::batch_record>
//       Records with updated_at_ms >= since_ms, oldest first, at most
//       `limit` (this node's statuses read back for a slow peer, one
//       bounded page at a time).
//
//   (commits_atom, std::uint64_t after_seq, std::uint64_t limit)
//       -> storage::commit_page
//       Records written after commit number `after_seq`, in the order
//       written, at most `limit` (a cluster peer catching up, whichever
//       node published them).
//
//   (flush_atom) -> caf::unit_t
//       Once every save received before it is committed (shutdown).
//
//   (probe_atom) -> store_probe
//       Once the state database answered a real read (readiness): whether
//       a write could commit now, found by beginning an empty write
//       transaction that waits only briefly for the lock, and since when
//       another process has been seen holding that lock.
//       errc::storage_failed when the read failed. Queued behind any
//       commit in progress, so a stuck disk shows as a probe that does not
//       return.
//
//   (ensure_batch_atom, std::string batch_id, std::string organization_id)
//       -> bool
//       Adds the batch to the embedded directory unless it exists; false
//       when the organization is unknown, the batch belongs to another
//       organization, or there is no embedded directory (not standalone).
//
// Every failure replies errc::storage_failed with SQLite's message, to each
// waiting request: nothing is acknowledged that was not committed. An exit
// message commits what is queued before the actor quits.
//
// Another process holding the state database's write lock does not stall
// the actor: a commit that finds the lock taken keeps its saves queued and
// tries again shortly, serving loads and changes in between (in WAL mode
// reads need no lock), so handshakes go on. A save still uncommitted
// `lock_wait_limit` after it arrived is answered storage_failed. Known
// shortcoming: ensure_batch for a batch the directory does not have yet
// waits for the lock in place (up to the connection's busy timeout), and
// everything behind it in the mailbox waits with it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "common/metrics.hpp"
#include "storage/batch_status.hpp"
#include "storage/directory_admin.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/state_store.hpp"

namespace batchcast::actors {

// How long a save may wait for another process's write lock before its
// publisher is answered storage_failed: the same as SQLite's busy timeout.
inline constexpr std::chrono::milliseconds lock_wait_limit =
    storage::default_busy_timeout;

struct storage_state {
  // A save waiting for the next commit, with the request it answers.
  struct pending_save {
    storage::batch_record record;
    caf::typed_response_promise<storage::batch_record> promise;
    std::chrono::steady_clock::time_point received;
  };

  std::shared_ptr<storage::state_store> store;
  // Writer of the embedded directory; null unless standalone.
  std::shared_ptr<storage::directory_admin> admin;
  std::string path;                   // of the state database, for logs
  std::shared_ptr<metrics> counters;  // commit durations and failures

  std::vector<pending_save> pending;  // oldest first
  bool commit_scheduled = false;
  // The last commit found the write lock taken; a retry is on its way.
  bool waiting_for_lock = false;
  // When a commit or a probe first found another process holding the
  // write lock; empty once a commit or a probe got it.
  std::optional<std::chrono::steady_clock::time_point> write_locked_since;

  const char* name = "batchcast.storage";
};

caf::behavior storage_actor(caf::stateful_actor<storage_state>* self,
                            std::shared_ptr<storage::state_store> store,
                            std::shared_ptr<storage::directory_admin> admin,
                            std::string path,
                            std::shared_ptr<metrics> counters);

// Spawns storage_actor detached. `admin` may be null.
caf::actor spawn_storage_actor(caf::actor_system& system,
                               std::shared_ptr<storage::state_store> store,
                               std::shared_ptr<storage::directory_admin> admin,
                               std::string path,
                               std::shared_ptr<metrics> counters);

}  // namespace batchcast::actors
