// A state database whose pages are overwritten with garbage: the
// connection that first reads a damaged page marks the file corrupt for
// every connection of the process, which then refuses it for good, and
// opening the file again is refused outright.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "storage/sqlite_db.hpp"
#include "storage/state_store.hpp"
#include "storage/storage_error.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace batchcast::storage;

constexpr const char* batch_a = "5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2b";

struct corrupt_file_fixture {
  batchcast::testing::temp_dir dir;
  std::string path = dir.file("state.db");

  // Pages after the first overwritten, as `dd if=/dev/urandom bs=4096
  // seek=1 count=20 conv=notrunc` does, once the WAL is checkpointed
  // into the file. A fixed byte, so every run damages alike: 0xa5 is no
  // b-tree page type, so SQLite reports any such page it reads.
  void overwrite_pages() {
    {
      sqlite_connection db(path, open_mode::read_write);
      db.query_text("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    std::FILE* file = std::fopen(path.c_str(), "r+b");
    BOOST_REQUIRE(file != nullptr);
    std::vector<unsigned char> garbage(4096 * 20, 0xa5);
    BOOST_REQUIRE(std::fseek(file, 4096, SEEK_SET) == 0);
    BOOST_REQUIRE(std::fwrite(garbage.data(), 1, garbage.size(), file) ==
                  garbage.size());
    std::fclose(file);
  }
};

batch_record record(const char* id) {
  return batch_record{id, batch_status::completed, stamp_at_commit, "node"};
}

// Runs `call`, which must throw a corruption that lasts until a restart;
// returns whether it was the first notice.
template <class Call>
bool corrupt_failure(Call call) {
  try {
    call();
  } catch (const storage_error& e) {
    BOOST_TEST(e.corrupt());
    BOOST_TEST(e.needs_restart());
    BOOST_TEST(std::string{e.what()}.find(".recover") != std::string::npos);
    return e.first_notice();
  }
  BOOST_FAIL("no storage_error");
  return false;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(corrupt_file_suite, corrupt_file_fixture)

BOOST_AUTO_TEST_CASE(a_corrupt_page_fails_every_connection_until_restart) {
  state_store store(path);
  store.save_all({record(batch_a)});
  overwrite_pages();

  // The store's own connection still has what it read in its cache; a
  // fresh one (as a directory probe opens) reads the damage.
  sqlite_connection fresh(path, open_mode::read_only);
  BOOST_TEST(corrupt_failure(
      [&] { fresh.query_text("SELECT count(*) FROM batch_status"); }));

  // Said once; every later use of the file fails alike, without reading.
  BOOST_TEST(!corrupt_failure([&] { store.check(); }));
  BOOST_TEST(!corrupt_failure([&] { store.check(); }));
  BOOST_TEST(!corrupt_failure([&] { store.save_all({record(batch_a)}); }));
}

BOOST_AUTO_TEST_CASE(a_corrupt_file_is_refused_at_open) {
  {
    state_store store(path);
    store.save_all({record(batch_a)});
  }
  overwrite_pages();
  corrupt_failure([&] { state_store store(path); });
}

BOOST_AUTO_TEST_SUITE_END()
