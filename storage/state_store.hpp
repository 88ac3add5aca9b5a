// The service's own state: the latest status of every batch, in an SQLite
// file in WAL mode.
//
//   batch_status(batch_id TEXT PRIMARY KEY, status TEXT NOT NULL,
//                updated_at INTEGER NOT NULL, origin TEXT NOT NULL,
//                commit_seq INTEGER NOT NULL)
//
// commit_seq numbers the rows in the order this store wrote them (a row
// written again gets a new number), so that a peer can ask for everything
// written after the last number it saw, whichever node published it. The
// numbers hold for one open of the file, named by a random store id.
//
// Schema changes are numbered migrations recorded in PRAGMA user_version.
// Commits run with synchronous=FULL: once save_all returns, the records
// survive kill -9 and power loss.
//
// Owned by the storage actor (detached); not thread-safe. Failures throw
// storage_error; "not found" is an empty optional.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/batch_status.hpp"
#include "storage/commit_page.hpp"
#include "storage/sqlite_db.hpp"

namespace batchcast::storage {

class state_store {
 public:
  // Opens or creates the database at `path` and migrates it to the current
  // schema. Throws storage_error when that fails, including a database
  // whose user_version is newer than this build knows.
  explicit state_store(const std::string& path);
  ~state_store();

  // The stored record of `batch_id` (canonical), if any.
  std::optional<batch_record> load(const std::string& batch_id);

  // Applies every record in one transaction; a record replaces the stored
  // one only when it supersedes it (records in the same call compare with
  // each other too). A record stamped stamp_at_commit is this node's
  // publish: it gets its stamp here, after every stamp the store has held
  // or seen, peers' records in the same call included, and so always
  // supersedes. Returns, for each input in order,
  // the record its batch holds once the transaction has committed: the
  // input itself (stamped), or a newer one already stored or given in the
  // same call. Throws storage_error, with nothing applied, when the commit
  // fails or a batch_id is not canonical; its sqlite_code() is SQLITE_BUSY
  // when another connection held the write lock for all of `lock_wait`.
  std::vector<batch_record> save_all(
      const std::vector<batch_record>& records,
      std::chrono::milliseconds lock_wait = default_busy_timeout);

  // Records with updated_at_ms >= since_ms, oldest first, at most `limit`.
  std::vector<batch_record> changed_since(std::int64_t since_ms,
                                          std::size_t limit);

  // Records written after commit number `after_seq`, oldest write first,
  // at most `limit` (see commit_seq above).
  commit_page committed_after(std::uint64_t after_seq, std::size_t limit);

  // The newest stamp the store holds or was given (0 for none): after
  // opening, the newest in the file. Every publish is stamped after it.
  std::int64_t newest_stamp() const;

  // A real read of the database, for readiness probes: the file must
  // still be at its path (see sqlite_connection::check_file_in_place),
  // answer a query, and have 1 MiB free on its filesystem. Throws
  // storage_error when it does not.
  void check();

  // Whether a write could commit now: begins a write transaction, waiting
  // at most `lock_wait` for the write lock, and rolls it back at once
  // (nothing is written). False when another connection held the lock for
  // all of `lock_wait`; throws storage_error for any other failure.
  bool write_lock_available(std::chrono::milliseconds lock_wait);

  // The schema version this build writes.
  static int schema_version();

  // Why a file at schema `version` (its PRAGMA user_version) is not one
  // this build may open or change, or "": newer than this build, or
  // negative.
  static std::string schema_version_problem(int version);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace batchcast::storage
