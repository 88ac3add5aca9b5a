#include "storage/state_store.hpp"

#include <limits>
#include <unordered_map>

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/terminal_text.hpp"
#include "storage/random.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/stamp_clock.hpp"
#include "storage/storage_error.hpp"
#include "storage/uuid.hpp"

namespace batchcast::storage {

namespace {

// Migration n (1-based) takes the schema from version n-1 to n. Append
// only: a released step is never edited, since databases in the field
// have already run it.
constexpr const char* migrations[] = {
    // 1: the latest status of every batch.
    "CREATE TABLE batch_status ("
    "  batch_id   TEXT PRIMARY KEY NOT NULL,"
    "  status     TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  origin     TEXT NOT NULL)",
    // 2: cluster catch-up asks for what changed since a point in time.
    "CREATE INDEX batch_status_updated_at ON batch_status (updated_at)",
    // 3-5: cluster catch-up asks for what this store wrote after a point
    // in its own order of writes, whichever node published it. Rows from
    // before are numbered in stamp order.
    "ALTER TABLE batch_status ADD COLUMN commit_seq INTEGER NOT NULL "
    "DEFAULT 0",
    "UPDATE batch_status SET commit_seq = numbered.n FROM ("
    "  SELECT batch_id, row_number() OVER (ORDER BY updated_at, batch_id) "
    "  AS n FROM batch_status) AS numbered "
    "WHERE numbered.batch_id = batch_status.batch_id",
    "CREATE INDEX batch_status_commit_seq ON batch_status (commit_seq)",
};

constexpr int latest_version =
    static_cast<int>(sizeof(migrations) / sizeof(migrations[0]));

constexpr const char* select_sql =
    "SELECT batch_id, status, updated_at, origin FROM batch_status "
    "WHERE batch_id = ?";

constexpr const char* upsert_sql =
    "INSERT INTO batch_status (batch_id, status, updated_at, origin, "
    "commit_seq) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (batch_id) DO UPDATE SET status = excluded.status, "
    "updated_at = excluded.updated_at, origin = excluded.origin, "
    "commit_seq = excluded.commit_seq";

// Under this much free space commits are about to fail, if they do not
// already (each writes WAL pages, a checkpoint database pages): readiness
// says so, so that producers can hold back rather than collect 503s.
constexpr std::uint64_t least_free_bytes = 1 << 20;

constexpr const char* newest_stamp_sql =
    "SELECT coalesce(max(updated_at), 0) FROM batch_status";

constexpr const char* newest_row_sql =
    "SELECT batch_id FROM batch_status ORDER BY updated_at DESC LIMIT 1";

// 9999-12-31T23:59:59.999Z: the last instant written in four digits.
constexpr std::int64_t last_stamp_ms = 253402300799999;
// A file whose newest stamp leaves less room than this before it is
// refused at start: every publish is stamped after that stamp, one
// millisecond apart at least, and no clock is in the year 9999.
constexpr std::int64_t least_room_ms = 24 * 3600 * 1000;

// The first row batchcast would never write, and what is wrong with it.
constexpr const char* odd_row_sql =
    "SELECT quote(batch_id), CASE"
    "  WHEN typeof(batch_id) != 'text' OR length(batch_id) != 36"
    "    OR batch_id GLOB '*[^0-9a-f-]*'"
    "    OR length(replace(batch_id, '-', '')) != 32"
    "    OR substr(batch_id, 9, 1) != '-' OR substr(batch_id, 14, 1) != '-'"
    "    OR substr(batch_id, 19, 1) != '-' OR substr(batch_id, 24, 1) != '-'"
    "    THEN 'a batch id that is not a canonical uuid (lowercase, dashed)'"
    "  WHEN typeof(status) != 'text' OR status NOT IN"
    "    ('pending', 'processing', 'completed', 'failed')"
    "    THEN 'the status ' || quote(status) || ', none of pending, "
    "processing, completed and failed'"
    "  WHEN typeof(updated_at) != 'integer' OR updated_at < 0"
    "    THEN 'the stamp ' || quote(updated_at) || ', not a whole number "
    "of milliseconds since 1970'"
    "  WHEN typeof(commit_seq) != 'integer' OR commit_seq < 0"
    "    OR commit_seq > 4611686018427387904"
    "    THEN 'the write number ' || quote(commit_seq) || ', none this "
    "store hands out'"
    "  END FROM batch_status WHERE"
    "  typeof(batch_id) != 'text' OR length(batch_id) != 36"
    "  OR batch_id GLOB '*[^0-9a-f-]*'"
    "  OR length(replace(batch_id, '-', '')) != 32"
    "  OR substr(batch_id, 9, 1) != '-' OR substr(batch_id, 14, 1) != '-'"
    "  OR substr(batch_id, 19, 1) != '-' OR substr(batch_id, 24, 1) != '-'"
    "  OR typeof(status) != 'text' OR status NOT IN"
    "    ('pending', 'processing', 'completed', 'failed')"
    "  OR typeof(updated_at) != 'integer' OR updated_at < 0"
    "  OR typeof(commit_seq) != 'integer' OR commit_seq < 0"
    "  OR commit_seq > 4611686018427387904 LIMIT 1";

constexpr const char* changed_since_sql =
    "SELECT batch_id, status, updated_at, origin FROM batch_status "
    "WHERE updated_at >= ? ORDER BY updated_at, batch_id LIMIT ?";

constexpr const char* committed_after_sql =
    "SELECT batch_id, status, updated_at, origin, commit_seq "
    "FROM batch_status WHERE commit_seq > ? ORDER BY commit_seq LIMIT ?";

constexpr const char* newest_commit_sql =
    "SELECT coalesce(max(commit_seq), 0) FROM batch_status";

}  // namespace

struct state_store::impl {
  sqlite_connection db;
  stamp_clock clock;
  // New at every open: numbers seen from an earlier open mean nothing to
  // a peer, since the file may have been restored from a copy since,
  // numbering its next writes with numbers already handed out.
  std::string store_id = random_string(16);
  // The commit_seq of the last row written; each row a transaction writes
  // gets the next one.
  std::uint64_t last_commit_seq = 0;
  // What check_files_in_place did about the statuses in a deleted WAL,
  // said again with every refusal it causes.
  bool acknowledged_saved = false;
  bool salvage_skipped = false;
  std::string saving_note;
  // The database file as opened, to tell whether the file that went is
  // the database itself: its statuses are then only in the copy this
  // process still has open, not in any file at the path.
  struct stat opened {};
  bool opened_known = false;

  explicit impl(const std::string& path)
      : db(path, open_mode::read_write_create) {
    opened_known = ::stat(path.c_str(), &opened) == 0;
    // WAL lets the directory readers and the single writer proceed side by
    // side. FULL syncs the WAL on every commit, which is what makes an
    // acknowledged status survive power loss (NORMAL would only survive a
    // process crash).
    auto mode = db.query_text("PRAGMA journal_mode = WAL");
    if (mode != "wal")
      throw storage_error("state store: " + path +
                          ": cannot switch to WAL mode (got \"" + mode + "\")");
    db.exec("PRAGMA synchronous = FULL");
    refuse_corrupt_file();
    migrate();
    // From the file, not from zero: stamps stored by an earlier run may be
    // ahead of the clock, and a publish must still come after them.
    // Odd rows first: a stamp stored as text sorts above every number.
    refuse_odd_rows();
    auto newest = db.use(newest_stamp_sql);
    newest->step();
    refuse_stamp_near_9999(newest->column_int64(0));
    clock.observe(newest->column_int64(0));
    auto last_commit = db.use(newest_commit_sql);
    last_commit->step();
    last_commit_seq = static_cast<std::uint64_t>(last_commit->column_int64(0));
    // The reads above created the WAL's side files.
    db.hold_wal_files_in_place();
  }

  // Every publish is stamped after the newest stored stamp; past the end
  // of 9999 no timestamp can be written, and near the end of int64 none
  // can follow. A row stamped within a day of that was written by hand or
  // is damaged: publishes would soon find no stamp left (and then get
  // 503), so the process does not start.
  std::string newest_batch() {
    auto row = db.use(newest_row_sql);
    row->step();
    return one_line(row->column_text(0));
  }

  void refuse_stamp_near_9999(std::int64_t newest_ms) {
    if (newest_ms <= last_stamp_ms - least_room_ms)
      return;
    throw storage_error(
        "state store: " + db.path() + ": batch " + newest_batch() +
        " is stamped " + std::to_string(newest_ms) +
        " ms after 1970, within a day of the end of 9999 or past it: "
        "publishes are stamped after it and would soon find no stamp left. "
        "Correct its updated_at or delete the row (sqlite3 " +
        db.path() + " \"DELETE FROM batch_status WHERE updated_at > " +
        std::to_string(last_stamp_ms - least_room_ms) + "\") and start again");
  }

  // A row batchcast never writes (by hand, or damage): a status none of
  // the four could be neither loaded for a watcher or a publish nor sent
  // to a peer, whose catch-up would stop at it for good; a batch id not
  // canonical is never asked for, and peers drop it; a stamp that is text
  // or negative is read as another instant; a write number past 2^62
  // leaves the numbers after it to overflow, and one that is negative or
  // text is never pulled. Refused at start, like a
  // corrupt file. A full scan, at each start like quick_check: 0.7 s for
  // 400,000 rows on the 2-core development VM.
  void refuse_odd_rows() {
    auto row = db.use(odd_row_sql);
    if (!row->step())
      return;
    auto batch = one_line(row->column_text(0));
    auto problem = one_line(row->column_text(1));
    throw storage_error("state store: " + db.path() + ": batch " + batch +
                        " has " + problem +
                        ", which batchcast never writes (edited by hand, or "
                        "damaged). Correct or delete that row (sqlite3 " +
                        db.path() +
                        " \"DELETE FROM batch_status WHERE "
                        "batch_id = " +
                        batch + "\") and start again");
  }

  bool database_file_moved() const {
    struct stat now {};
    return opened_known &&
           (::stat(db.path().c_str(), &now) != 0 ||
            now.st_dev != opened.st_dev || now.st_ino != opened.st_ino);
  }

  // Throws storage_error when a file of the database is no longer where it
  // was. From then on every commit is refused. When the file that went is
  // the WAL (deleted, say, by someone tidying up what looked like a stray
  // file), the statuses acknowledged since the last checkpoint live only
  // in that deleted file, which this connection still holds open, and a
  // crash would lose them: a checkpoint copies them into the database
  // file. It cannot run inside a transaction, so save_all checks before
  // it begins one too.
  //
  // Not when another process has meanwhile written a new WAL at the path
  // (`batchcast admin`, say): its commits were made on the database file
  // without ours, and copying our pages under them mixes two histories,
  // which can leave the file malformed. Ours are given up then, and the
  // log says so. A process that starts writing between the look and the
  // checkpoint is not seen: the window is one stat() wide.
  void check_files_in_place() {
    try {
      db.check_file_in_place();
    } catch (const storage_error& e) {
      // A checkpoint would copy pages into a file known to be damaged.
      if (e.corrupt())
        throw;
      if (!acknowledged_saved && !salvage_skipped &&
          sqlite3_get_autocommit(db.handle())) {
        if (db.new_wal_has_frames()) {
          salvage_skipped = true;
          saving_note =
              "; the statuses acknowledged since SQLite's last checkpoint "
              "were NOT copied into the database file, because another "
              "process has written a new " +
              db.path() +
              "-wal since: copying them under its changes could corrupt "
              "the database. What the other process wrote is kept; those "
              "statuses are lost at restart, so publish them again then";
        } else {
          int code = sqlite3_wal_checkpoint_v2(
              db.handle(), nullptr, SQLITE_CHECKPOINT_FULL, nullptr, nullptr);
          acknowledged_saved = code == SQLITE_OK;
          saving_note =
              acknowledged_saved
                  ? (database_file_moved()
                         ? "; the statuses acknowledged before were copied "
                           "into that open file, so a copy taken from it "
                           "now holds them"
                         : "; the statuses acknowledged before were copied "
                           "into the database file")
                  : "; copying the statuses acknowledged before into the "
                    "database file failed (tried again at the next "
                    "check; until then those since SQLite's last "
                    "checkpoint would be lost at restart): " +
                        std::string{sqlite3_errmsg(db.handle())};
        }
      }
      throw storage_error(e.what() + saving_note, e.sqlite_code(),
                          e.needs_restart()
                              ? storage_error::lasting::until_restart
                              : storage_error::lasting::until_fixed);
    }
  }

  // A corrupt file is refused at start rather than found page by page
  // while serving. quick_check reads every page but skips the index
  // contents check of integrity_check: on the 2-core development VM it
  // took about 0.1 s for 100,000 batch records (a 14 MB file, page cache
  // warm; a cold cache adds the time to read it once), so it runs on
  // every start. Corruption it reports throws through fail(), with
  // SQLITE_CORRUPT or SQLITE_NOTADB; damage it only lists comes back
  // as rows.
  void refuse_corrupt_file() {
    auto verdict = db.query_text("PRAGMA quick_check(1)");
    if (verdict == "ok")
      return;
    // The one problem asked for, after a "*** in database main ***" line.
    auto first_problem = verdict.substr(verdict.find_last_of('\n') + 1);
    throw storage_error("sqlite: " + db.path() +
                            ": PRAGMA quick_check: " + first_problem +
                            "; the database file is corrupt: restore it "
                            "from a backup (or run `sqlite3 " +
                            db.path() +
                            " .recover` into a new database and put that "
                            "in its place), then start batchcast again",
                        SQLITE_CORRUPT, storage_error::lasting::until_restart);
  }

  int user_version() { return std::stoi(db.query_text("PRAGMA user_version")); }

  void migrate() {
    if (user_version() == latest_version)
      return;
    // The write lock first, then the version: two processes opening a fresh
    // file at once must not both run migration 1.
    sqlite_transaction tx(db);
    int version = user_version();
    if (auto problem = state_store::schema_version_problem(version);
        !problem.empty())
      throw storage_error("state store: " + db.path() + ": " + problem +
                          "; refusing to open it");
    int found_version = version;
    try {
      for (; version < latest_version; ++version)
        db.exec(migrations[version]);
    } catch (const storage_error& e) {
      // Each version's tables are what its migrations made; a file whose
      // tables say otherwise had its user_version set by other hands.
      throw storage_error(
          "state store: " + db.path() +
              ": cannot migrate the schema from "
              "version " +
              std::to_string(found_version) + " (step " +
              std::to_string(version + 1) + " failed: " + e.what() +
              "); its tables are not those of that version: was its "
              "user_version changed by hand, or the file made by something "
              "else?",
          e.sqlite_code());
    }
    // user_version lives in the file header and commits with the rest.
    db.exec("PRAGMA user_version = " + std::to_string(latest_version));
    tx.commit();
  }

  batch_record read_row(sqlite_statement& row) {
    batch_record record;
    record.batch_id = row.column_text(0);
    auto status_text = row.column_text(1);
    auto status = parse_batch_status(status_text);
    if (!status)
      throw storage_error("state store: " + db.path() + ": batch " +
                          record.batch_id + " has unknown status \"" +
                          status_text + "\"");
    record.status = *status;
    record.updated_at_ms = row.column_int64(2);
    record.origin = row.column_text(3);
    return record;
  }

  std::optional<batch_record> load(const std::string& batch_id) {
    auto query = db.use(select_sql);
    query->bind(1, batch_id);
    if (!query->step())
      return std::nullopt;
    return read_row(*query);
  }

  void store(const batch_record& record) {
    auto upsert = db.use(upsert_sql);
    upsert->bind(1, record.batch_id)
        .bind(2, to_string(record.status))
        .bind(3, record.updated_at_ms)
        .bind(4, record.origin)
        .bind(5, static_cast<std::int64_t>(++last_commit_seq));
    upsert->run();
  }
};

state_store::state_store(const std::string& path)
    : impl_(std::make_unique<impl>(path)) {}

state_store::~state_store() = default;

int state_store::schema_version() {
  return latest_version;
}

std::string state_store::schema_version_problem(int version) {
  // Set by other hands: no batchcast writes one (and it would index the
  // migrations from before their start).
  if (version < 0)
    return "schema version " + std::to_string(version) +
           " is none batchcast writes (its user_version was set by hand, or "
           "the file made by something else)";
  if (version > latest_version)
    return "schema version " + std::to_string(version) +
           " is newer than this build's " + std::to_string(latest_version) +
           " (written by a newer batchcast)";
  return {};
}

std::int64_t state_store::newest_stamp() const {
  return impl_->clock.newest();
}

void state_store::check() {
  impl_->check_files_in_place();
  // Reached only through a peer's record or a hand edit while running.
  if (impl_->clock.newest() >= last_stamp_ms)
    throw storage_error("state store: " + impl_->db.path() +
                        ": the stamps have reached the end of 9999 (batch " +
                        impl_->newest_batch() +
                        "): every publish is refused until that row's "
                        "updated_at is corrected or the row deleted");
  impl_->db.query_text("SELECT count(*) FROM sqlite_master");
  struct statvfs room {};
  if (::statvfs(impl_->db.path().c_str(), &room) != 0)
    return;  // the query above read the file; nothing more to learn
  // Blocks kept for root count for a process running as root, which
  // SQLite then writes into.
  auto blocks = ::geteuid() == 0 ? room.f_bfree : room.f_bavail;
  auto free_bytes = static_cast<std::uint64_t>(blocks) * room.f_frsize;
  if (free_bytes < least_free_bytes)
    throw storage_error("state store: " + impl_->db.path() + ": only " +
                        std::to_string(free_bytes) +
                        " bytes free on its filesystem; commits fail "
                        "until space is freed");
}

bool state_store::write_lock_available(std::chrono::milliseconds lock_wait) {
  bool available = true;
  impl_->db.set_busy_timeout(lock_wait);
  try {
    // Rolled back when the guard goes: an empty transaction writes nothing.
    sqlite_transaction attempt{impl_->db};
  } catch (const storage_error& e) {
    if (!e.lock_timed_out()) {
      impl_->db.set_busy_timeout(default_busy_timeout);
      throw;
    }
    available = false;
  } catch (...) {
    impl_->db.set_busy_timeout(default_busy_timeout);
    throw;
  }
  impl_->db.set_busy_timeout(default_busy_timeout);
  return available;
}

std::optional<batch_record> state_store::load(const std::string& batch_id) {
  return impl_->load(batch_id);
}

std::vector<batch_record> state_store::save_all(
    const std::vector<batch_record>& records,
    std::chrono::milliseconds lock_wait) {
  for (const auto& record : records)
    if (!is_canonical_uuid(record.batch_id))
      throw storage_error("state store: not a canonical batch id: \"" +
                          record.batch_id + "\"");

  impl_->check_files_in_place();
  // What each batch holds as the transaction goes on, so that several
  // records for one batch in the same group compare with each other too.
  std::unordered_map<std::string, batch_record> current;
  // Only BEGIN IMMEDIATE waits for the write lock (in WAL mode the rest of
  // the transaction takes no other lock), so only it gets `lock_wait`.
  impl_->db.set_busy_timeout(lock_wait);
  std::optional<sqlite_transaction> begun;
  try {
    begun.emplace(impl_->db);
  } catch (...) {
    impl_->db.set_busy_timeout(default_busy_timeout);
    throw;
  }
  impl_->db.set_busy_timeout(default_busy_timeout);
  auto& tx = *begun;
  // Stamps handed out in a transaction that does not commit are taken
  // back: producers retrying through a full disk or a held lock would
  // otherwise run the stamps ahead by a millisecond per refused publish.
  auto clock_before = impl_->clock;
  auto commit_seq_before = impl_->last_commit_seq;
  std::vector<batch_record> stamped = records;
  try {
    // Peers' stamps move the clock first: a publish committed together with
    // a peer's record for its batch is the later of the two, as it would be
    // had that record arrived a moment sooner.
    for (const auto& record : records)
      if (record.updated_at_ms != stamp_at_commit)
        impl_->clock.observe(record.updated_at_ms);
    for (auto& record : stamped) {
      // Stamped here, inside the transaction and after everything this store
      // holds or is given, so the publish supersedes the status it replaces.
      if (record.updated_at_ms == stamp_at_commit) {
        record.updated_at_ms = impl_->clock.next();
        if (record.updated_at_ms > last_stamp_ms)
          throw storage_error(
              "state store: " + impl_->db.path() +
              ": a publish would be stamped past the end of 9999, after "
              "batch " +
              impl_->newest_batch() +
              " (stamped at its last instant, by hand or by a damaged "
              "peer): publishes are refused until its updated_at is "
              "corrected or the row deleted");
      }
      auto found = current.find(record.batch_id);
      if (found == current.end()) {
        auto stored = impl_->load(record.batch_id);
        if (stored)
          found = current.emplace(record.batch_id, *stored).first;
      }
      if (found != current.end() && !supersedes(record, found->second))
        continue;
      impl_->store(record);
      current[record.batch_id] = record;
    }
    // A commit into a file that was deleted or replaced under us reaches no
    // file anybody will open again: rolled back and refused, not
    // acknowledged.
    impl_->check_files_in_place();
    tx.commit();
  } catch (...) {
    impl_->clock = clock_before;
    impl_->last_commit_seq = commit_seq_before;
    throw;
  }

  std::vector<batch_record> result;
  result.reserve(stamped.size());
  for (const auto& record : stamped)
    result.push_back(current.at(record.batch_id));
  return result;
}

std::vector<batch_record> state_store::changed_since(std::int64_t since_ms,
                                                     std::size_t limit) {
  std::vector<batch_record> result;
  if (limit == 0)
    return result;
  constexpr auto max_limit =
      static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  auto query = impl_->db.use(changed_since_sql);
  query->bind(1, since_ms)
      .bind(2, static_cast<std::int64_t>(std::min(limit, max_limit)));
  while (query->step())
    result.push_back(impl_->read_row(*query));
  return result;
}

commit_page state_store::committed_after(std::uint64_t after_seq,
                                         std::size_t limit) {
  commit_page page;
  page.store_id = impl_->store_id;
  page.last_seq = after_seq;
  if (limit == 0)
    return page;
  constexpr auto max_value =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  auto query = impl_->db.use(committed_after_sql);
  query->bind(1, static_cast<std::int64_t>(std::min(after_seq, max_value)))
      .bind(2, static_cast<std::int64_t>(
                   std::min<std::uint64_t>(limit, max_value)));
  while (query->step()) {
    page.records.push_back(impl_->read_row(*query));
    page.last_seq = static_cast<std::uint64_t>(query->column_int64(4));
  }
  return page;
}

}  // namespace batchcast::storage
