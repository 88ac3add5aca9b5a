// Another process holding the state database's write lock: how long the
// storage calls wait for it, and which of them need it at all.
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "storage/directory_admin.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/state_store.hpp"
#include "storage/storage_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace batchcast::storage;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr const char* batch_id = "5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2b";

// A second connection, as another process would open it, in BEGIN
// IMMEDIATE until the object goes away.
struct write_lock_holder {
  explicit write_lock_holder(const std::string& path)
      : db(path, open_mode::read_write) {
    db.exec("BEGIN IMMEDIATE");
  }
  ~write_lock_holder() { db.exec("ROLLBACK"); }

  sqlite_connection db;
};

struct lock_fixture {
  batchcast::testing::temp_dir dir;
  std::string path = dir.file("state.db");
  state_store store{path};
  directory_admin admin{path};
};

double seconds_since(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(write_lock, lock_fixture)

BOOST_AUTO_TEST_CASE(save_all_gives_up_on_a_held_lock_after_its_lock_wait) {
  write_lock_holder holder{path};
  auto start = steady_clock::now();
  try {
    store.save_all({{batch_id, batch_status::completed, 1000, "node"}},
                   milliseconds{50});
    BOOST_FAIL("saved while another connection held the write lock");
  } catch (const storage_error& e) {
    BOOST_TEST(e.lock_timed_out());
  }
  BOOST_TEST(seconds_since(start) < 1.0);
}

BOOST_AUTO_TEST_CASE(save_all_waits_for_the_lock_again_with_the_default) {
  {
    write_lock_holder holder{path};
    BOOST_CHECK_THROW(
        store.save_all({{batch_id, batch_status::completed, 1000, "node"}},
                       milliseconds{10}),
        storage_error);
  }
  // The short wait was for that one call: nothing holds the lock now and
  // the next save goes through.
  store.save_all({{batch_id, batch_status::failed, 2000, "node"}});
  BOOST_TEST(store.load(batch_id).has_value());
}

BOOST_AUTO_TEST_CASE(ensure_batch_of_an_existing_batch_needs_no_write_lock) {
  auto org = admin.add_organization("Org", true);
  admin.add_batch(org, batch_id, "import");
  auto other = admin.add_organization("Other", true);

  write_lock_holder holder{path};
  auto start = steady_clock::now();
  BOOST_TEST(admin.ensure_batch(batch_id, org));
  BOOST_TEST(!admin.ensure_batch(batch_id, other));
  // Waiting for the lock would take the busy timeout (5 s).
  BOOST_TEST(seconds_since(start) < 1.0);
}

BOOST_AUTO_TEST_CASE(write_lock_available_says_no_while_another_holds_it) {
  BOOST_TEST(store.write_lock_available(milliseconds{20}));
  {
    write_lock_holder holder{path};
    auto start = steady_clock::now();
    BOOST_TEST(!store.write_lock_available(milliseconds{20}));
    BOOST_TEST(seconds_since(start) < 1.0);
    // Reads still work meanwhile (WAL): only writes are stuck.
    BOOST_CHECK_NO_THROW(store.check());
  }
  BOOST_TEST(store.write_lock_available(milliseconds{20}));
  // The attempt wrote nothing and left no transaction open: a save that
  // waits the default busy timeout goes through at once.
  store.save_all({{batch_id, batch_status::completed, 1000, "node"}});
  BOOST_TEST(store.load(batch_id).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
