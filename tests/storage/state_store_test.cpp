#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "storage/directory_admin.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/state_store.hpp"
#include "storage/storage_error.hpp"
#include "storage/uuid.hpp"
#include "tests/support/temp_dir.hpp"

namespace batchcast::storage {

// Printing for BOOST_TEST comparisons.
std::ostream& operator<<(std::ostream& out, batch_status status) {
  return out << to_string(status);
}

std::ostream& operator<<(std::ostream& out, const batch_record& r) {
  return out << r.batch_id << ' ' << to_string(r.status) << " @"
             << r.updated_at_ms << " from " << r.origin;
}

bool operator==(const batch_record& a, const batch_record& b) {
  return a.batch_id == b.batch_id && a.status == b.status &&
         a.updated_at_ms == b.updated_at_ms && a.origin == b.origin;
}

}  // namespace batchcast::storage

namespace {

using namespace batchcast::storage;

constexpr const char* batch_a = "5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2b";
constexpr const char* batch_b = "0c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

batch_record record(const std::string& id, batch_status status, std::int64_t at,
                    const std::string& origin = "node-a") {
  return batch_record{id, status, at, origin};
}

// A stamp an hour from now: what a burst of publishes, a clock stepped
// back or a peer's fast clock can leave in the store.
std::int64_t an_hour_ahead() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(
             (system_clock::now() + hours{1}).time_since_epoch())
      .count();
}

// A status this node publishes: the store stamps it.
batch_record publish(const std::string& id, batch_status status) {
  return record(id, status, stamp_at_commit);
}

struct store_fixture {
  batchcast::testing::temp_dir dir;
  std::string path = dir.file("state.db");

  batch_record save(const batch_record& r) {
    state_store store(path);
    return store.save_all({r}).at(0);
  }

  std::optional<batch_record> load(const std::string& id) {
    state_store store(path);
    return store.load(id);
  }

  // From now on, storing a record whose origin is "poison" fails, and
  // with it the transaction it is in.
  void poison_inserts() {
    sqlite_connection db(path, open_mode::read_write);
    db.exec(
        "CREATE TRIGGER poison BEFORE INSERT ON batch_status "
        "WHEN NEW.origin = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); "
        "END");
  }

  std::string pragma(const std::string& name) {
    sqlite_connection db(path, open_mode::read_write);
    return db.query_text("PRAGMA " + name);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(state_store_suite, store_fixture)

BOOST_AUTO_TEST_CASE(a_saved_record_loads_back_unchanged) {
  state_store store(path);
  auto saved = record(batch_a, batch_status::completed, 1000);
  store.save_all({saved});
  auto loaded = store.load(batch_a);
  BOOST_REQUIRE(loaded);
  BOOST_TEST(*loaded == saved);
}

BOOST_AUTO_TEST_CASE(loading_an_unknown_batch_finds_nothing) {
  state_store store(path);
  BOOST_TEST(!store.load(batch_a));
}

BOOST_AUTO_TEST_CASE(a_newer_record_replaces_the_stored_one) {
  state_store store(path);
  store.save_all({record(batch_a, batch_status::processing, 1000)});
  auto newer = record(batch_a, batch_status::failed, 2000);
  auto stored = store.save_all({newer});
  BOOST_TEST(stored.at(0) == newer);
  BOOST_TEST(*store.load(batch_a) == newer);
}

BOOST_AUTO_TEST_CASE(an_older_record_is_ignored_and_the_newer_one_returned) {
  state_store store(path);
  auto newer = record(batch_a, batch_status::completed, 2000);
  store.save_all({newer});
  auto stored =
      store.save_all({record(batch_a, batch_status::processing, 1000)});
  BOOST_TEST(stored.at(0) == newer);
  BOOST_TEST(*store.load(batch_a) == newer);
}

BOOST_AUTO_TEST_CASE(a_tie_in_time_is_broken_by_the_greater_origin) {
  state_store store(path);
  auto from_b = record(batch_a, batch_status::failed, 1000, "node-b");
  store.save_all({from_b});
  store.save_all({record(batch_a, batch_status::completed, 1000, "node-a")});
  BOOST_TEST(*store.load(batch_a) == from_b);
}

BOOST_AUTO_TEST_CASE(records_survive_reopening_the_file) {
  auto saved = save(record(batch_a, batch_status::completed, 1234));
  auto loaded = load(batch_a);
  BOOST_REQUIRE(loaded);
  BOOST_TEST(*loaded == saved);
}

BOOST_AUTO_TEST_CASE(a_new_database_is_at_the_current_version_in_wal_mode) {
  state_store store(path);
  BOOST_TEST(state_store::schema_version() >= 2);
  BOOST_TEST(pragma("user_version") ==
             std::to_string(state_store::schema_version()));
  BOOST_TEST(pragma("journal_mode") == "wal");
}

BOOST_AUTO_TEST_CASE(a_database_at_version_one_is_migrated_keeping_its_rows) {
  {
    sqlite_connection db(path, open_mode::read_write_create);
    db.exec(
        "CREATE TABLE batch_status (batch_id TEXT PRIMARY KEY NOT NULL,"
        " status TEXT NOT NULL, updated_at INTEGER NOT NULL,"
        " origin TEXT NOT NULL);"
        "INSERT INTO batch_status VALUES"
        " ('5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2b', 'failed', 77, 'old');"
        "PRAGMA user_version = 1;");
  }
  state_store store(path);
  BOOST_TEST(*store.load(batch_a) ==
             record(batch_a, batch_status::failed, 77, "old"));
  BOOST_TEST(pragma("user_version") ==
             std::to_string(state_store::schema_version()));
  sqlite_connection db(path, open_mode::read_only);
  BOOST_TEST(db.query_text("SELECT name FROM sqlite_master WHERE type = "
                           "'index' AND name = 'batch_status_updated_at'") ==
             "batch_status_updated_at");
}

// Rows from before the write numbers are numbered in stamp order, so a
// peer pulling from zero gets them all and later writes come after them.
BOOST_AUTO_TEST_CASE(a_database_at_version_two_numbers_its_rows_by_stamp) {
  auto c = "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a";
  {
    sqlite_connection db(path, open_mode::read_write_create);
    db.exec(
        "CREATE TABLE batch_status (batch_id TEXT PRIMARY KEY NOT NULL,"
        " status TEXT NOT NULL, updated_at INTEGER NOT NULL,"
        " origin TEXT NOT NULL);"
        "CREATE INDEX batch_status_updated_at ON batch_status (updated_at);"
        "INSERT INTO batch_status VALUES"
        " ('5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2b', 'failed', 900, 'x'),"
        " ('0c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', 'completed', 100, 'y');"
        "PRAGMA user_version = 2;");
  }
  state_store store(path);
  store.save_all({record(c, batch_status::processing, 50)});
  auto page = store.committed_after(0, 10);
  BOOST_REQUIRE(page.records.size() == 3u);
  BOOST_TEST(page.records[0].batch_id == batch_b);
  BOOST_TEST(page.records[1] ==
             record(batch_a, batch_status::failed, 900, "x"));
  BOOST_TEST(page.records[2].batch_id == c);
  BOOST_TEST(page.last_seq == 3u);
  BOOST_TEST(store.committed_after(1, 10).records.size() == 2u);
}

// A file whose tables do not match its version (user_version set by
// hand) is refused in words, not with the failing step's bare SQL error.
BOOST_AUTO_TEST_CASE(a_database_whose_tables_belie_its_version_is_refused) {
  { state_store store(path); }
  {
    sqlite_connection db(path, open_mode::read_write);
    db.exec("PRAGMA user_version = 0");
  }
  try {
    state_store store(path);
    BOOST_FAIL("expected an error");
  } catch (const storage_error& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("cannot migrate the schema from version 0") !=
                   std::string::npos,
               what);
    BOOST_TEST(what.find("changed by hand") != std::string::npos, what);
  }
}

// A negative user_version indexed the migrations before their start:
// serve crashed with SIGSEGV.
BOOST_AUTO_TEST_CASE(a_negative_schema_version_is_refused_in_words) {
  for (auto version : {"-1", "-2147483648"}) {
    {
      sqlite_connection db(path, open_mode::read_write_create);
      db.exec(std::string{"PRAGMA user_version = "} + version);
    }
    try {
      state_store store(path);
      BOOST_FAIL("expected an error");
    } catch (const storage_error& e) {
      BOOST_TEST(
          std::string{e.what()}.find(std::string{"schema version "} + version +
                                     " is none") != std::string::npos,
          e.what());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_database_from_a_newer_build_is_refused) {
  {
    sqlite_connection db(path, open_mode::read_write_create);
    db.exec("PRAGMA user_version = 999");
  }
  try {
    state_store store(path);
    BOOST_FAIL("a future schema was opened");
  } catch (const storage_error& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("999") != std::string::npos);
    BOOST_TEST(what.find("newer") != std::string::npos);
    BOOST_TEST(what.find(path) != std::string::npos);
  }
  BOOST_TEST(pragma("user_version") == "999");
}

BOOST_AUTO_TEST_CASE(changed_since_lists_newer_records_oldest_first) {
  state_store store(path);
  auto c = "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a";
  store.save_all({record(batch_a, batch_status::completed, 300),
                  record(batch_b, batch_status::failed, 100),
                  record(c, batch_status::processing, 200)});
  auto changed = store.changed_since(200, 10);
  BOOST_REQUIRE(changed.size() == 2u);
  BOOST_TEST(changed[0].batch_id == c);
  BOOST_TEST(changed[1].batch_id == batch_a);
}

BOOST_AUTO_TEST_CASE(changed_since_stops_at_the_limit) {
  state_store store(path);
  store.save_all({record(batch_a, batch_status::completed, 300),
                  record(batch_b, batch_status::failed, 100)});
  auto changed = store.changed_since(0, 1);
  BOOST_REQUIRE(changed.size() == 1u);
  BOOST_TEST(changed[0].batch_id == batch_b);
  BOOST_TEST(store.changed_since(0, 0).empty());
}

// Written order, not stamp order: a peer's record older than the rest,
// taken last, comes last; a batch written again moves to the end.
BOOST_AUTO_TEST_CASE(committed_after_lists_records_in_the_order_written) {
  state_store store(path);
  auto c = "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a";
  store.save_all({record(batch_a, batch_status::processing, 300)});
  store.save_all({record(batch_b, batch_status::failed, 500)});
  store.save_all({record(c, batch_status::completed, 100, "node-c")});
  store.save_all({record(batch_a, batch_status::completed, 600)});
  // Not written: older than what batch_b holds.
  store.save_all({record(batch_b, batch_status::completed, 400)});

  auto page = store.committed_after(0, 10);
  BOOST_REQUIRE(page.records.size() == 3u);
  BOOST_TEST(page.records[0].batch_id == batch_b);
  BOOST_TEST(page.records[1].batch_id == c);
  BOOST_TEST(page.records[2] == record(batch_a, batch_status::completed, 600));
  BOOST_TEST(page.last_seq == 4u);

  auto first = store.committed_after(0, 1);
  BOOST_REQUIRE(first.records.size() == 1u);
  BOOST_TEST(first.records[0].batch_id == batch_b);
  auto rest = store.committed_after(first.last_seq, 10);
  BOOST_REQUIRE(rest.records.size() == 2u);
  BOOST_TEST(rest.records[0].batch_id == c);

  auto nothing = store.committed_after(page.last_seq, 10);
  BOOST_TEST(nothing.records.empty());
  BOOST_TEST(nothing.last_seq == page.last_seq);
  BOOST_TEST(store.committed_after(0, 0).records.empty());
}

// Each open is its own numbering for peers: the file may have been
// replaced by an older copy of itself, which numbers again from lower.
BOOST_AUTO_TEST_CASE(each_open_of_the_store_has_its_own_id) {
  std::string first_id;
  {
    state_store store(path);
    store.save_all({record(batch_a, batch_status::completed, 300)});
    first_id = store.committed_after(0, 10).store_id;
    BOOST_TEST(first_id.size() == 16u);
  }
  state_store store(path);
  auto page = store.committed_after(0, 10);
  BOOST_TEST(page.store_id != first_id);
  BOOST_TEST(page.last_seq == 1u);
  store.save_all({record(batch_b, batch_status::failed, 100)});
  BOOST_TEST(store.committed_after(1, 10).records.at(0).batch_id == batch_b);
}

BOOST_AUTO_TEST_CASE(a_group_of_saves_commits_all_or_nothing) {
  state_store store(path);
  // A trigger stands in for a failure halfway through the group.
  poison_inserts();
  BOOST_CHECK_THROW(
      store.save_all({record(batch_a, batch_status::completed, 1),
                      record(batch_b, batch_status::failed, 1, "poison")}),
      storage_error);
  BOOST_TEST(!store.load(batch_a));
  BOOST_TEST(!store.load(batch_b));

  // The store stays usable after the failed group.
  store.save_all({record(batch_a, batch_status::completed, 2)});
  BOOST_TEST(store.load(batch_a).has_value());
}

// Producers retrying through a full disk: every attempt is stamped and
// rolled back. The stamps it took must not push later ones ahead.
BOOST_AUTO_TEST_CASE(a_group_that_fails_gives_its_stamps_back) {
  state_store store(path);
  poison_inserts();
  // Ten thousand publishes in one group take ten seconds of stamps.
  std::vector<batch_record> refused;
  for (int i = 0; i < 10000; ++i) {
    char id[37];
    std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
    refused.push_back(publish(id, batch_status::processing));
  }
  refused.push_back(record(batch_b, batch_status::failed, 1, "poison"));
  BOOST_CHECK_THROW(store.save_all(refused), storage_error);

  using namespace std::chrono;
  auto before =
      duration_cast<milliseconds>(system_clock::now().time_since_epoch())
          .count();
  auto stored = store.save_all({publish(batch_a, batch_status::completed)});
  BOOST_TEST(stored.at(0).updated_at_ms - before < 2000);
  // Its write numbers too: the next write is the first.
  BOOST_TEST(store.committed_after(0, 10).last_seq == 1u);
}

// A row stamped near the end of int64 (written by hand, or damaged)
// would hold its batch's status for good, every publish answered 200 and
// lost; one within a day of the end of 9999 leaves publishes soon
// without a stamp (a tester's row at 9999-12-31T23:59:59.990 let nine
// publishes through, then refused all). The store refuses to open.
BOOST_AUTO_TEST_CASE(a_stamp_near_or_past_9999_keeps_the_store_from_opening) {
  save(record(batch_a, batch_status::completed, 1, "node-b"));
  for (auto stamp : {std::numeric_limits<std::int64_t>::max(),
                     std::int64_t{253402300799990}}) {
    sqlite_connection db(path, open_mode::read_write);
    db.exec("UPDATE batch_status SET updated_at = " + std::to_string(stamp));
    try {
      state_store store(path);
      BOOST_FAIL("expected an error");
    } catch (const storage_error& e) {
      std::string what = e.what();
      BOOST_TEST(what.find(std::string{"batch "} + batch_a + " is stamped") !=
                     std::string::npos,
                 what);
      BOOST_TEST(what.find("end of 9999") != std::string::npos, what);
    }
  }
  // Two days before the end is still taken.
  sqlite_connection db(path, open_mode::read_write);
  db.exec("UPDATE batch_status SET updated_at = 253402128000000");
  BOOST_CHECK_NO_THROW(state_store{path});
}

// Taken from a peer while running (peers drop records a day ahead of
// their clock, but a store must hold its line without them): no publish
// can be stamped after the last instant of 9999, so each is refused,
// nothing is written, readiness says why, and the file still opens once
// the row is corrected.
BOOST_AUTO_TEST_CASE(a_publish_that_would_be_stamped_past_9999_is_refused) {
  state_store store(path);
  store.save_all(
      {record(batch_a, batch_status::completed, 253402300799999, "node-b")});
  try {
    store.save_all({publish(batch_b, batch_status::failed)});
    BOOST_FAIL("expected an error");
  } catch (const storage_error& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("past the end of 9999") != std::string::npos, what);
    BOOST_TEST(what.find(batch_a) != std::string::npos, what);
  }
  BOOST_TEST(!store.load(batch_b));
  try {
    store.check();
    BOOST_FAIL("ready with no stamp left");
  } catch (const storage_error& e) {
    BOOST_TEST(std::string{e.what()}.find(batch_a) != std::string::npos,
               e.what());
  }
}

// A status none of the four cannot be loaded, sent to a watcher or
// passed to a peer, whose catch-up stopped at it for good: the file is
// refused at start, naming the batch and the fix.
BOOST_AUTO_TEST_CASE(
    a_row_with_an_unknown_status_keeps_the_store_from_opening) {
  save(record(batch_a, batch_status::completed, 100));
  {
    sqlite_connection db(path, open_mode::read_write);
    db.exec("UPDATE batch_status SET status = 'done'");
  }
  try {
    state_store store(path);
    BOOST_FAIL("expected an error");
  } catch (const storage_error& e) {
    std::string what = e.what();
    BOOST_TEST(
        what.find(std::string{"batch '"} + batch_a +
                  "' has the status 'done', none of") != std::string::npos,
        what);
    BOOST_TEST(what.find(std::string{"DELETE FROM batch_status WHERE "
                                     "batch_id = '"} +
                         batch_a + "'") != std::string::npos,
               what);
  }
}

// Rows read as something else than they hold: a stamp that is text
// ('12abc' was served as 12 ms after 1970) or negative, a status stored
// as a blob, a batch id no request can name. Refused at start too.
BOOST_AUTO_TEST_CASE(rows_batchcast_never_writes_keep_the_store_from_opening) {
  for (auto [edit, words] :
       {std::pair{"UPDATE batch_status SET updated_at = '12abc'",
                  "the stamp '12abc', not a whole number"},
        {"UPDATE batch_status SET updated_at = -5", "the stamp -5, not"},
        {"UPDATE batch_status SET updated_at = 1.5", "the stamp 1.5, not"},
        {"UPDATE batch_status SET status = x'636f6d706c65746564'",
         "the status X'636F6D706C65746564', none of"},
        {"UPDATE batch_status SET batch_id = upper(batch_id)",
         "not a canonical uuid"},
        {"UPDATE batch_status SET batch_id = 'NOT-A-UUID'",
         "not a canonical uuid"},
        // The next write would overflow; pulls stopped passing statuses.
        {"UPDATE batch_status SET commit_seq = 9223372036854775807",
         "the write number 9223372036854775807, none"},
        {"UPDATE batch_status SET commit_seq = -7", "the write number -7"},
        {"UPDATE batch_status SET batch_id = "
         "'5b1f4a2e8c3d-4e5f-9a6b-7c8d9e0f1a2b-'",
         "not a canonical uuid"}}) {
    std::remove(path.c_str());
    save(record(batch_a, batch_status::completed, 100));
    {
      sqlite_connection db(path, open_mode::read_write);
      db.exec(edit);
    }
    try {
      state_store store(path);
      BOOST_ERROR("opened after: " << edit);
    } catch (const storage_error& e) {
      BOOST_TEST(std::string{e.what()}.find(words) != std::string::npos,
                 e.what());
    }
  }
}

BOOST_AUTO_TEST_CASE(records_for_one_batch_in_one_group_settle_on_the_newest) {
  state_store store(path);
  auto newest = record(batch_a, batch_status::completed, 300);
  auto stored =
      store.save_all({record(batch_a, batch_status::processing, 200), newest,
                      record(batch_a, batch_status::failed, 100)});
  BOOST_REQUIRE(stored.size() == 3u);
  for (const auto& each : stored)
    BOOST_TEST(each == newest);
  BOOST_TEST(*store.load(batch_a) == newest);
}

BOOST_AUTO_TEST_CASE(a_publish_supersedes_a_stored_status_ahead_of_the_clock) {
  state_store store(path);
  auto ahead = an_hour_ahead();
  store.save_all({record(batch_a, batch_status::processing, ahead)});
  auto stored = store.save_all({publish(batch_a, batch_status::completed)});
  BOOST_TEST(stored.at(0).status == batch_status::completed);
  BOOST_TEST(stored.at(0).updated_at_ms > ahead);
  BOOST_TEST(store.load(batch_a)->status == batch_status::completed);
}

BOOST_AUTO_TEST_CASE(a_reopened_store_stamps_after_every_stored_record) {
  auto ahead = an_hour_ahead();
  save(record(batch_a, batch_status::processing, ahead));
  // Another batch: a peer resuming catch-up from `ahead` must find it.
  auto stored = save(publish(batch_b, batch_status::completed));
  BOOST_TEST(stored.updated_at_ms > ahead);
  // And the batch itself, once the store is opened a third time.
  stored = save(publish(batch_a, batch_status::completed));
  BOOST_TEST(stored.status == batch_status::completed);
}

BOOST_AUTO_TEST_CASE(a_peers_record_moves_the_stamps_of_later_publishes) {
  state_store store(path);
  auto ahead = an_hour_ahead();
  store.save_all({record(batch_a, batch_status::completed, ahead, "node-b")});
  auto stored = store.save_all({publish(batch_b, batch_status::completed)});
  BOOST_TEST(stored.at(0).updated_at_ms > ahead);
  BOOST_TEST(stored.at(0).origin == "node-a");
}

// A producer publishes `processing` on node B, then `failed` here; B's
// record arrives in the transaction that commits `failed`, listed first
// or last. The later publish must not lose to it.
BOOST_AUTO_TEST_CASE(a_publish_supersedes_a_peers_record_committed_with_it) {
  state_store store(path);
  auto ahead = an_hour_ahead();
  auto from_peer = record(batch_a, batch_status::processing, ahead, "node-b");
  auto stored =
      store.save_all({publish(batch_a, batch_status::failed), from_peer});
  BOOST_REQUIRE(stored.size() == 2u);
  BOOST_TEST(stored.at(0).status == batch_status::failed);
  BOOST_TEST(stored.at(0).updated_at_ms > ahead);
  BOOST_TEST(stored.at(1) == stored.at(0));

  stored = store.save_all(
      {record(batch_b, batch_status::processing, ahead + 10, "node-b"),
       publish(batch_b, batch_status::failed)});
  BOOST_TEST(stored.at(1).status == batch_status::failed);
  BOOST_TEST(store.load(batch_a)->status == batch_status::failed);
  BOOST_TEST(store.load(batch_b)->status == batch_status::failed);
}

BOOST_AUTO_TEST_CASE(publishes_in_one_group_settle_on_the_last_one) {
  state_store store(path);
  auto stored = store.save_all({publish(batch_a, batch_status::processing),
                                publish(batch_a, batch_status::failed),
                                publish(batch_a, batch_status::completed)});
  for (const auto& each : stored)
    BOOST_TEST(each.status == batch_status::completed);
  BOOST_TEST(store.load(batch_a)->status == batch_status::completed);
}

// An operator deletes the -wal and -shm files next to a running store's
// database. The store must refuse further commits, and what it
// acknowledged before must survive the process dying without a close
// (kill -9): the child process below ends with _exit, which runs no
// destructor, so SQLite never gets to checkpoint on close.
BOOST_AUTO_TEST_CASE(a_deleted_wal_refuses_commits_and_keeps_what_was_saved) {
  auto acknowledged = record(batch_a, batch_status::completed, 1000);
  pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    int code = 10;
    try {
      auto* store = new state_store(path);  // never closed: a crash
      store->save_all({acknowledged});
      std::remove((path + "-wal").c_str());
      std::remove((path + "-shm").c_str());
      code = 11;
      store->save_all({record(batch_b, batch_status::failed, 2000)});
    } catch (const storage_error& e) {
      std::string what = e.what();
      code = what.find(path +
                       "-wal: this file of the database was "
                       "deleted") != std::string::npos &&
                     what.find("were copied into the database file") !=
                         std::string::npos
                 ? 0
                 : 12;
    }
    std::_Exit(code);
  }
  int status = 0;
  BOOST_REQUIRE_EQUAL(::waitpid(child, &status, 0), child);
  BOOST_REQUIRE(WIFEXITED(status));
  // 11: the commit after the deletion was not refused; 12: refused with
  // another reason.
  BOOST_REQUIRE_EQUAL(WEXITSTATUS(status), 0);
  state_store reopened(path);
  auto loaded = reopened.load(batch_a);
  BOOST_REQUIRE(loaded);
  BOOST_TEST(*loaded == acknowledged);
  BOOST_TEST(!reopened.load(batch_b));
  BOOST_TEST(pragma("integrity_check") == "ok");
}

BOOST_AUTO_TEST_CASE(a_batch_id_that_is_not_canonical_is_refused) {
  state_store store(path);
  BOOST_CHECK_THROW(
      store.save_all({record("5B1F4A2E-8C3D-4E5F-9A6B-7C8D9E0F1A2B",
                             batch_status::completed, 1)}),
      storage_error);
}

BOOST_AUTO_TEST_CASE(the_state_and_the_embedded_directory_share_one_file) {
  directory_admin admin(path);
  auto org = admin.add_organization("Shared", true);
  state_store store(path);
  store.save_all({record(batch_a, batch_status::completed, 5)});
  BOOST_TEST(admin.ensure_batch(batch_a, org));
  directory_admin reopened(path);
  state_store again(path);
  BOOST_TEST(again.load(batch_a).has_value());
  BOOST_TEST(pragma("journal_mode") == "wal");
}

BOOST_AUTO_TEST_SUITE_END()
