// The -wal and -shm files of a database deleted under open connections,
// then a second process (what `batchcast admin` is) writing a new WAL at
// the same path before this one closes. The second process must be a
// real one that never shared this process's SQLite state: SQLite shares
// a database's -shm mapping among the connections of one process, so a
// child forked after a connection opened the file would use the deleted
// one. The writer below is forked before anything is opened and waits
// on a pipe for its turn.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <functional>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "storage/directory_admin.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/sqlite_directory.hpp"
#include "storage/state_store.hpp"
#include "storage/storage_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace batchcast::storage;

constexpr const char* batch_a = "5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2b";
constexpr const char* batch_b = "0c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

// A process forked now, which runs `work` when told to and exits 0 when
// it succeeded.
class later_writer {
 public:
  explicit later_writer(std::function<void()> work) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    BOOST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(fds[1]);
      char go = 0;
      int code = 10;
      if (::read(fds[0], &go, 1) == 1) {
        try {
          work();
          code = 0;
        } catch (...) {
          code = 11;
        }
      }
      // No destructor or exit handler of the parent's copy runs here.
      std::_Exit(code);
    }
    ::close(fds[0]);
    go_ = fds[1];
  }

  ~later_writer() {
    if (go_ >= 0)
      ::close(go_);
    if (pid_ > 0 && !waited_)
      ::waitpid(pid_, nullptr, 0);
  }

  // Runs the work and returns the child's exit code.
  int run() {
    char go = 1;
    BOOST_REQUIRE(::write(go_, &go, 1) == 1);
    int status = 0;
    BOOST_REQUIRE_EQUAL(::waitpid(pid_, &status, 0), pid_);
    waited_ = true;
    BOOST_REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  bool waited_ = false;
};

struct deleted_wal_fixture {
  batchcast::testing::temp_dir dir;
  std::string path = dir.file("state.db");

  // Tables made and checkpointed into the database file, as by the
  // `batchcast admin` runs that seed a node before it serves: the other
  // process must find them in the file, not in the WAL deleted later.
  deleted_wal_fixture() {
    state_store store(path);
    directory_admin admin(path);
  }

  void delete_side_files() {
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
  }

  std::int64_t count(const std::string& sql) {
    sqlite_connection db(path, open_mode::read_only);
    return std::stoll(db.query_text(sql));
  }

  std::string integrity() {
    sqlite_connection db(path, open_mode::read_only);
    return db.query_text("PRAGMA integrity_check");
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(deleted_wal_suite, deleted_wal_fixture)

// What the embedded directory and the state store do when the side files
// go: the directory stops answering from the old WAL, and closing every
// connection leaves the other process's new WAL and its commits alone.
BOOST_AUTO_TEST_CASE(closing_keeps_what_another_process_wrote_since) {
  later_writer writer{[this] {
    directory_admin admin(path);
    admin.add_organization("Written after", true);
  }};
  {
    state_store store(path);
    directory_admin admin(path);
    auto org = admin.add_organization("Written before", true);
    store.save_all({{batch_a, batch_status::completed, 1000, "node-a"}});
    BOOST_TEST(admin.ensure_batch(batch_a, org));
    sqlite_directory directory(path, /*read_only=*/true);
    BOOST_TEST(directory.batch_organization(batch_a).value_or("") == org);

    delete_side_files();
    try {
      directory.find_session("no-such-session");
      BOOST_FAIL("a lookup after the -wal was deleted answered");
    } catch (const storage_error& e) {
      BOOST_TEST(e.needs_restart());
      BOOST_TEST(std::string{e.what()}.find("-wal: this file of the database "
                                            "was deleted") !=
                 std::string::npos);
    }
    BOOST_CHECK_THROW(directory.check(), storage_error);
    // Copies what the store acknowledged into the database file.
    BOOST_CHECK_THROW(store.check(), storage_error);

    BOOST_REQUIRE_EQUAL(writer.run(), 0);
    // Every connection closes here, the last one too, which by default
    // would checkpoint and delete the new -wal at the path.
  }
  BOOST_TEST(count("SELECT count(*) FROM openwisp_users_organization "
                   "WHERE name = 'Written after'") == 1);
  BOOST_TEST(count("SELECT count(*) FROM batch_status WHERE batch_id = '" +
                   std::string{batch_a} + "'") == 1);
  BOOST_TEST(count("SELECT count(*) FROM radbatch") == 1);
  BOOST_TEST(integrity() == "ok");
}

// The deleted WAL is copied into the database file only while nobody else
// has written a new one: under the other process's commits its pages
// would mix two histories. What it held is lost then, and said so.
BOOST_AUTO_TEST_CASE(no_salvage_once_another_process_wrote_a_new_wal) {
  later_writer writer{[this] {
    directory_admin admin(path);
    admin.add_organization("Written after", true);
  }};
  {
    state_store store(path);
    store.save_all({{batch_a, batch_status::completed, 1000, "node-a"}});
    delete_side_files();
    BOOST_REQUIRE_EQUAL(writer.run(), 0);
    try {
      store.save_all({{batch_b, batch_status::failed, 2000, "node-a"}});
      BOOST_FAIL("a commit after the -wal was deleted was taken");
    } catch (const storage_error& e) {
      BOOST_TEST(e.needs_restart());
      std::string what = e.what();
      BOOST_TEST(what.find("were NOT copied into the database file, "
                           "because another process has written a new " +
                           path + "-wal") != std::string::npos,
                 what);
    }
  }
  BOOST_TEST(count("SELECT count(*) FROM openwisp_users_organization "
                   "WHERE name = 'Written after'") == 1);
  // The honest cost: the status acknowledged before the deletion lived
  // only in the deleted WAL.
  BOOST_TEST(count("SELECT count(*) FROM batch_status") == 0);
  BOOST_TEST(integrity() == "ok");
}

// Without another writer the salvage runs as before, and the close
// leaves the database whole.
BOOST_AUTO_TEST_CASE(the_salvage_still_runs_when_nobody_wrote_since) {
  {
    state_store store(path);
    store.save_all({{batch_a, batch_status::completed, 1000, "node-a"}});
    delete_side_files();
    try {
      store.check();
      BOOST_FAIL("the check passed with the -wal deleted");
    } catch (const storage_error& e) {
      BOOST_TEST(std::string{e.what()}.find("were copied into the database "
                                            "file") != std::string::npos);
    }
  }
  BOOST_TEST(count("SELECT count(*) FROM batch_status") == 1);
  BOOST_TEST(integrity() == "ok");
}

BOOST_AUTO_TEST_SUITE_END()
