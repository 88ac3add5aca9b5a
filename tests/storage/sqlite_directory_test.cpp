#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <utility>

#include "storage/directory_schema.hpp"
#include "storage/django_sqlite_format.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/storage_error.hpp"
#include "storage/uuid.hpp"
#include "tests/storage/directory_fixture.hpp"

namespace {

using namespace batchcast::storage;
using namespace batchcast::storage::testing;

constexpr const char* batch_id = "5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2b";

struct raw_fixture : directory_fixture {
  // The first column of the first row of `sql`, read with plain SQLite.
  std::string raw(const std::string& sql) {
    sqlite_connection db(path, open_mode::read_only);
    return db.query_text(sql);
  }
};

constexpr std::string_view lower_hex = "0123456789abcdef";
constexpr std::string_view lower_alnum = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view alnum =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

bool made_of(std::string_view text, std::size_t size,
             std::string_view alphabet) {
  return text.size() == size &&
         text.find_first_not_of(alphabet) == std::string_view::npos;
}

bool is_hex32(const std::string& text) {
  return made_of(text, 32, lower_hex);
}

// "YYYY-MM-DD HH:MM:SS", with ".ffffff" or nothing after it.
bool is_django_datetime(const std::string& text) {
  return (text.size() == 19 || (text.size() == 26 && text[19] == '.')) &&
         text[10] == ' ' && parse_django_datetime(text).has_value();
}

// "pbkdf2_sha256$260000$<22 alphanumerics>$<43 base64 digits>="
// The storage_error `call` throws, or a test failure when it throws none.
template <typename Call>
std::string error_of(Call call) {
  try {
    call();
  } catch (const storage_error& e) {
    return e.what();
  }
  BOOST_ERROR("no storage_error was thrown");
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch())
      .count();
}

bool is_django_pbkdf2(const std::string& text) {
  const std::string prefix = "pbkdf2_sha256$260000$";
  if (text.rfind(prefix, 0) != 0 || text.size() != prefix.size() + 67)
    return false;
  std::string_view rest(text);
  rest.remove_prefix(prefix.size());
  return made_of(rest.substr(0, 22), 22, alnum) && rest[22] == '$' &&
         made_of(rest.substr(23, 43), 43, std::string(alnum) + "+/") &&
         rest.back() == '=';
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(sqlite_directory_suite, raw_fixture)

BOOST_AUTO_TEST_CASE(ids_are_stored_as_32_hex_digits_and_read_as_uuids) {
  auto org = admin.add_organization("Acme", true);
  auto user = add_staff("operator");
  admin.add_member("operator", org, true);
  admin.add_batch(org, batch_id, "first");

  BOOST_TEST(raw("SELECT id FROM openwisp_users_user") == uuid_hex32(user));
  BOOST_TEST(raw("SELECT id FROM openwisp_users_organization") ==
             uuid_hex32(org));
  BOOST_TEST(raw("SELECT organization_id FROM radbatch") == uuid_hex32(org));
  BOOST_TEST(is_hex32(raw("SELECT id FROM openwisp_users_organizationuser")));
  BOOST_TEST(directory.find_user(user)->id == user);
  BOOST_TEST(*directory.batch_organization(batch_id) == org);
}

BOOST_AUTO_TEST_CASE(datetimes_are_stored_as_utc_text) {
  auto org = admin.add_organization("Acme", true);
  add_staff("operator");
  login("operator");
  admin.add_batch(org, "", "");
  for (const char* sql : {"SELECT expire_date FROM django_session",
                          "SELECT date_joined FROM openwisp_users_user",
                          "SELECT created FROM openwisp_users_organization",
                          "SELECT modified FROM radbatch"})
    BOOST_TEST(is_django_datetime(raw(sql)), sql << ": " << raw(sql));
}

BOOST_AUTO_TEST_CASE(session_keys_look_like_djangos) {
  add_staff("operator");
  auto key = login("operator");
  BOOST_TEST(made_of(key, 32, lower_alnum));
  BOOST_TEST(login("operator") != key);
}

BOOST_AUTO_TEST_CASE(passwords_are_stored_as_pbkdf2_hashes) {
  new_user user;
  user.username = "with-password";
  user.password = "s3cret";
  admin.add_user(user);
  add_staff("without-password");
  auto usable =
      raw("SELECT password FROM openwisp_users_user WHERE username = "
          "'with-password'");
  BOOST_TEST(is_django_pbkdf2(usable), usable);
  auto unusable =
      raw("SELECT password FROM openwisp_users_user WHERE username = "
          "'without-password'");
  BOOST_TEST(unusable.front() == '!');
  BOOST_TEST(made_of(unusable.substr(1), 40, alnum), unusable);
}

BOOST_AUTO_TEST_CASE(an_unknown_batch_has_no_organization) {
  BOOST_TEST(!directory.batch_organization(batch_id));
  BOOST_TEST(!directory.batch_organization("not-a-uuid"));
}

BOOST_AUTO_TEST_CASE(a_moved_or_deleted_batch_is_read_as_it_is_now) {
  auto org = admin.add_organization("Acme", true);
  auto other = admin.add_organization("Globex", true);
  admin.add_batch(org, batch_id, "first");

  admin.move_batch(batch_id, other);
  BOOST_TEST(*directory.batch_organization(batch_id) == other);
  BOOST_CHECK_THROW(admin.move_batch(batch_id, batch_id), storage_error);
  BOOST_TEST(admin.delete_batch(batch_id));
  BOOST_TEST(!directory.batch_organization(batch_id));
  BOOST_TEST(!admin.delete_batch(batch_id));
  BOOST_CHECK_THROW(admin.move_batch(batch_id, org), storage_error);
}

BOOST_AUTO_TEST_CASE(an_unknown_user_is_not_found) {
  BOOST_TEST(!directory.find_user(batch_id));
  BOOST_TEST(!directory.find_user("42"));
  BOOST_TEST(!directory.find_user("not an id"));
  BOOST_TEST(directory.managed_organizations(batch_id).empty());
}

BOOST_AUTO_TEST_CASE(an_unknown_session_is_not_found) {
  BOOST_TEST(!directory.find_session("abcdefgh12345678"));
}

BOOST_AUTO_TEST_CASE(ensure_batch_adds_a_batch_once_to_one_organization) {
  auto org = admin.add_organization("Acme", true);
  auto other = admin.add_organization("Other", true);
  BOOST_TEST(admin.ensure_batch(batch_id, org));
  BOOST_TEST(admin.ensure_batch(batch_id, org));
  BOOST_TEST(!admin.ensure_batch(batch_id, other));
  BOOST_TEST(*directory.batch_organization(batch_id) == org);
}

BOOST_AUTO_TEST_CASE(ensure_batch_refuses_an_unknown_organization) {
  BOOST_TEST(!admin.ensure_batch(batch_id, new_uuid4()));
  BOOST_TEST(!admin.ensure_batch(batch_id, "not-a-uuid"));
  BOOST_TEST(!directory.batch_organization(batch_id));
}

BOOST_AUTO_TEST_CASE(adding_rows_that_break_constraints_throws) {
  auto org = admin.add_organization("Acme", true);
  add_staff("operator");
  BOOST_CHECK_THROW(add_staff("operator"), storage_error);
  BOOST_CHECK_THROW(admin.add_member("nobody", org, true), storage_error);
  BOOST_CHECK_THROW(admin.add_member("operator", new_uuid4(), true),
                    storage_error);
  admin.add_member("operator", org, true);
  try {
    admin.add_member("operator", org, false);
    BOOST_FAIL("a duplicate membership was added");
  } catch (const storage_error& e) {
    BOOST_TEST(e.sqlite_code() == SQLITE_CONSTRAINT);
    BOOST_TEST(std::string(e.what()).find(path) != std::string::npos);
  }
  BOOST_CHECK_THROW(admin.add_batch(new_uuid4(), "", ""), storage_error);
  BOOST_CHECK_THROW(admin.issue_session("nobody", current_key, "b", 1),
                    storage_error);
}

BOOST_AUTO_TEST_CASE(a_taken_username_is_refused_in_words_adding_nothing) {
  add_staff("alice");
  auto error = error_of([&] { add_user("alice", false, true); });
  BOOST_TEST(contains(error, "a user named \"alice\" already exists"), error);
  BOOST_TEST(!contains(error, "INSERT"), error);
  BOOST_TEST(raw("SELECT COUNT(*) FROM openwisp_users_user") == "1");
  BOOST_TEST(raw("SELECT is_superuser FROM openwisp_users_user") == "0");
}

BOOST_AUTO_TEST_CASE(a_taken_batch_name_or_id_is_refused_in_words) {
  auto org = admin.add_organization("Acme", true);
  auto other = admin.add_organization("Globex", true);
  admin.add_batch(org, batch_id, "March import");

  auto error = error_of([&] { admin.add_batch(org, "", "March import"); });
  BOOST_TEST(contains(error, "a batch named \"March import\" already exists"),
             error);
  error = error_of([&] { admin.add_batch(org, batch_id, "April import"); });
  BOOST_TEST(contains(error, std::string("a batch with id ") + batch_id +
                                 " already exists"),
             error);
  BOOST_TEST(!contains(error, "INSERT"), error);
  BOOST_TEST(raw("SELECT COUNT(*) FROM radbatch") == "1");
  // Names are unique per organization, as in OpenWISP.
  admin.add_batch(other, "", "March import");
  BOOST_TEST(raw("SELECT COUNT(*) FROM radbatch") == "2");
}

BOOST_AUTO_TEST_CASE(a_second_membership_is_refused_in_words) {
  auto org = admin.add_organization("Acme", true);
  add_staff("alice");
  admin.add_member("alice", org, true);
  auto error = error_of([&] { admin.add_member("alice", org, false); });
  BOOST_TEST(contains(error, "\"alice\" is already a member of " + org), error);
  BOOST_TEST(raw("SELECT is_admin FROM openwisp_users_organizationuser") ==
             "1");
}

BOOST_AUTO_TEST_CASE(longest_session_ttl_ends_at_the_last_second_of_9999) {
  BOOST_TEST(longest_session_ttl_seconds(0) == 253402300799);
  BOOST_TEST(longest_session_ttl_seconds(1000001) == 253402300798);
  BOOST_TEST(format_django_datetime(latest_django_unix_us) ==
             "9999-12-31 23:59:59.999999");
  BOOST_TEST(format_django_datetime(earliest_django_unix_us) ==
             "0001-01-01 00:00:00");
  BOOST_TEST(longest_session_ttl_seconds(latest_django_unix_us) == 0);
  BOOST_TEST(longest_session_ttl_seconds(
                 std::numeric_limits<std::int64_t>::max()) == 0);
}

BOOST_AUTO_TEST_CASE(a_session_expiring_past_9999_is_refused_adding_nothing) {
  add_staff("alice");
  auto longest = longest_session_ttl_seconds(now_us());
  for (std::int64_t ttl :
       {std::numeric_limits<std::int64_t>::max(), std::int64_t{9223372036854},
        std::int64_t{300000000000}, longest + 1,
        std::numeric_limits<std::int64_t>::min(), -longest - 63000000000}) {
    auto error =
        error_of([&] { login("alice", current_key, model_backend, ttl); });
    BOOST_TEST(contains(error, std::to_string(ttl) + " seconds"), error);
  }
  BOOST_TEST(raw("SELECT COUNT(*) FROM django_session") == "0");

  // A minute short of the limit is still a session Django can read.
  auto key = login("alice", current_key, model_backend, longest - 60);
  auto expires = raw("SELECT expire_date FROM django_session");
  BOOST_TEST(expires.rfind("9999-12-31 23:5", 0) == 0, expires);
  BOOST_TEST(describe(validate(key)) == "accepted");
}

BOOST_AUTO_TEST_CASE(a_directory_that_must_exist_creates_nothing) {
  auto missing = dir.file("mistyped.db");
  BOOST_CHECK_THROW(
      directory_admin(missing, directory_admin::when_missing::refuse),
      storage_error);
  BOOST_TEST(!std::filesystem::exists(missing));
  // An existing one opens as before.
  directory_admin existing(path, directory_admin::when_missing::refuse);
  existing.add_organization("Acme", true);
}

BOOST_AUTO_TEST_CASE(organizations_with_one_name_get_distinct_slugs) {
  admin.add_organization("Acme Corp", true);
  admin.add_organization("Acme Corp", true);
  BOOST_TEST(raw("SELECT COUNT(DISTINCT slug) FROM "
                 "openwisp_users_organization") == "2");
  BOOST_TEST(raw("SELECT MIN(slug) FROM openwisp_users_organization") ==
             "acme-corp");
}

BOOST_AUTO_TEST_CASE(an_unreadable_expire_date_reads_as_long_expired) {
  put_session("oddexpiry123", "data");
  {
    sqlite_connection db(path, open_mode::read_write);
    db.exec("UPDATE django_session SET expire_date = 'soon'");
  }
  auto row = directory.find_session("oddexpiry123");
  BOOST_REQUIRE(row);
  BOOST_TEST(row->expire_unix_ms < 0);
}

BOOST_AUTO_TEST_CASE(a_read_only_directory_reads_what_django_wrote) {
  auto org = admin.add_organization("Acme", true);
  admin.add_batch(org, batch_id, "");
  sqlite_directory reader(path, /*read_only=*/true);
  BOOST_TEST(*reader.batch_organization(batch_id) == org);
}

BOOST_AUTO_TEST_CASE(a_read_only_directory_sees_rows_written_after_it_opened) {
  // Standalone serve: the reader stays open while directory_admin (and the
  // state store) write to the same WAL file.
  sqlite_directory reader(path, /*read_only=*/true);
  auto org = admin.add_organization("Acme", true);
  BOOST_TEST(!reader.batch_organization(batch_id));
  BOOST_TEST(admin.ensure_batch(batch_id, org));
  BOOST_TEST(*reader.batch_organization(batch_id) == org);
  add_staff("late");
  auto key = login("late");
  BOOST_TEST(reader.find_session(key).has_value());
}

BOOST_AUTO_TEST_CASE(a_read_only_directory_needs_an_existing_file) {
  BOOST_CHECK_THROW(sqlite_directory(dir.file("missing.db"), true),
                    storage_error);
}

BOOST_AUTO_TEST_CASE(a_read_only_directory_without_tables_is_refused_at_open) {
  {
    sqlite_connection(dir.file("empty.db"), open_mode::read_write_create)
        .exec("CREATE TABLE unrelated (x)");
  }
  try {
    sqlite_directory reader(dir.file("empty.db"), true);
    BOOST_FAIL("a directory without Django's tables was opened");
  } catch (const storage_error& e) {
    BOOST_TEST(std::string{e.what()}.find("no such table: django_session") !=
                   std::string::npos,
               e.what());
  }
}

BOOST_AUTO_TEST_CASE(a_fresh_writable_directory_creates_its_tables) {
  sqlite_directory fresh(dir.file("fresh.db"), false);
  BOOST_TEST(!fresh.find_session("abcdefgh12345678"));
  BOOST_TEST(!fresh.batch_organization(batch_id));
}

// Every column a lookup reads, by table: what a deployment must keep.
const std::pair<const char*, const char*> columns_read[] = {
    {"django_session", "session_key"},
    {"django_session", "session_data"},
    {"django_session", "expire_date"},
    {"openwisp_users_user", "id"},
    {"openwisp_users_user", "password"},
    {"openwisp_users_user", "is_active"},
    {"openwisp_users_user", "is_staff"},
    {"openwisp_users_user", "is_superuser"},
    {"openwisp_users_organization", "id"},
    {"openwisp_users_organization", "is_active"},
    {"openwisp_users_organizationuser", "user_id"},
    {"openwisp_users_organizationuser", "organization_id"},
    {"openwisp_users_organizationuser", "is_admin"},
    {"radbatch", "id"},
    {"radbatch", "organization_id"},
};

BOOST_AUTO_TEST_CASE(the_check_fails_naming_a_renamed_column_until_it_returns) {
  // A migration or a hand edit while batchcast runs: every lookup that
  // reads the column fails, so the readiness check must fail too.
  sqlite_directory reader(path, /*read_only=*/true);
  for (auto [table, column] : columns_read) {
    auto rename = [&, table = table](const std::string& from,
                                     const std::string& to) {
      sqlite_connection db(path, open_mode::read_write);
      db.exec("ALTER TABLE " + quote_identifier(table) + " RENAME COLUMN " +
              quote_identifier(from) + " TO " + quote_identifier(to));
    };
    rename(column, std::string(column) + "_renamed");
    // The embedded directory (writable) and one on a Django file.
    using any_directory = batchcast::storage::directory;
    for (auto* checked : {static_cast<any_directory*>(&directory),
                          static_cast<any_directory*>(&reader)}) {
      try {
        checked->check();
        BOOST_ERROR(table << "." << column << " renamed, yet the check passed");
      } catch (const storage_error& e) {
        BOOST_TEST(std::string{e.what()}.find(column) != std::string::npos,
                   e.what());
      }
    }
    rename(std::string(column) + "_renamed", column);
    BOOST_CHECK_NO_THROW(directory.check());
    BOOST_CHECK_NO_THROW(reader.check());
  }
  BOOST_TEST(!reader.batch_organization(batch_id));
}

BOOST_AUTO_TEST_CASE(an_integer_keyed_user_table_is_read_by_its_integer_id) {
  // Plain Django: auth_user with an integer primary key.
  {
    sqlite_connection db(dir.file("django.db"), open_mode::read_write_create);
    // The other tables as batchcast makes them; only the users differ.
    create_directory_tables(db, directory_tables{});
    db.exec(
        "CREATE TABLE auth_user (id integer NOT NULL PRIMARY KEY "
        "AUTOINCREMENT, password varchar(128) NOT NULL, is_superuser bool "
        "NOT NULL, is_staff bool NOT NULL, is_active bool NOT NULL);"
        "INSERT INTO auth_user VALUES (42, 'pbkdf2_sha256$1$s$h', 1, 1, 1);");
  }
  directory_tables tables;
  tables.user = "auth_user";
  sqlite_directory reader(dir.file("django.db"), true, tables);
  auto user = reader.find_user("42");
  BOOST_REQUIRE(user);
  BOOST_TEST(user->id == "42");
  BOOST_TEST(user->is_superuser);
  BOOST_TEST(user->password == "pbkdf2_sha256$1$s$h");
  BOOST_TEST(reader.find_user("042").has_value());
  BOOST_TEST(!reader.find_user("43"));
}

BOOST_AUTO_TEST_SUITE_END()
