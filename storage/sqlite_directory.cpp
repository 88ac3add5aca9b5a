#include "storage/sqlite_directory.hpp"

#include <limits>

#include "storage/directory_schema.hpp"
#include "storage/django_sqlite_format.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/uuid.hpp"

namespace batchcast::storage {

namespace {

// The primary key as Django stores it: a uuid as 32 hex digits, an integer
// as its decimal text (SQLite compares that with an integer column by
// value). Nothing for an id that cannot name a row.
std::optional<std::string> stored_key(const std::string& id) {
  if (auto uuid = canonical_uuid(id))
    return uuid_hex32(*uuid);
  if (id.empty() || id.size() > 18)
    return std::nullopt;
  for (char c : id)
    if (c < '0' || c > '9')
      return std::nullopt;
  return std::to_string(std::stoll(id));
}

// The id as the rest of batchcast spells it: canonical for a uuid column,
// the text of anything else (an integer key).
std::string spoken_key(const std::string& stored) {
  if (auto uuid = canonical_uuid(stored))
    return *uuid;
  return stored;
}

}  // namespace

struct sqlite_directory::impl {
  sqlite_connection db;
  std::string find_session_sql;
  std::string find_user_sql;
  std::string managed_organizations_sql;
  std::string batch_organization_sql;

  impl(const std::string& path, bool read_only, const directory_tables& t)
      : db(path,
           read_only ? open_mode::read_only : open_mode::read_write_create) {
    auto q = [](const std::string& name) { return quote_identifier(name); };
    find_session_sql = "SELECT session_data, expire_date FROM " + q(t.session) +
                       " WHERE session_key = ?";
    find_user_sql =
        "SELECT id, password, is_active, is_staff, is_superuser "
        "FROM " +
        q(t.user) + " WHERE id = ?";
    managed_organizations_sql =
        "SELECT o.id FROM " + q(t.organization_user) + " AS ou JOIN " +
        q(t.organization) +
        " AS o ON o.id = ou.organization_id "
        "WHERE ou.user_id = ? AND ou.is_admin = 1 AND o.is_active = 1 "
        "ORDER BY o.id";
    batch_organization_sql =
        "SELECT organization_id FROM " + q(t.batch) + " WHERE id = ?";

    if (!read_only) {
      // Shared with the state store in standalone mode, which has already
      // made the file WAL; this covers a directory opened first.
      db.query_text("PRAGMA journal_mode = WAL");
      create_directory_tables(db, t);
    } else {
      // Someone else's file (Django's). A wrong path, a file that is not a
      // database or one without the tables is a configuration mistake:
      // preparing every query now says so at start, rather than 503 to
      // every watcher later.
      for (const auto* sql :
           {&find_session_sql, &find_user_sql, &managed_organizations_sql,
            &batch_organization_sql})
        db.use(*sql);
    }
    // Both branches read the file, which opens the WAL of one in WAL
    // mode. Holding its side files makes a deleted -wal fail lookups
    // rather than answer from the old one: a session ended since by
    // another process (`batchcast admin`, Django) writing a new WAL would
    // still authenticate.
    db.hold_wal_files_in_place();
  }
};

sqlite_directory::sqlite_directory(const std::string& path, bool read_only,
                                   directory_tables tables)
    : impl_(std::make_unique<impl>(path, read_only, tables)) {}

sqlite_directory::~sqlite_directory() = default;

std::optional<session_row> sqlite_directory::find_session(
    const std::string& session_key) {
  // Every validation starts here. A file replaced under us (a restore done
  // with `mv`) would be read as it was at open, logouts and all: fail, so
  // watchers get 503 as /readyz says, rather than old answers.
  impl_->db.check_file_in_place();
  auto query = impl_->db.use(impl_->find_session_sql);
  query->bind(1, session_key);
  if (!query->step())
    return std::nullopt;
  session_row row;
  row.session_data = query->column_text(0);
  auto expires = parse_django_datetime(query->column_text(1));
  // An unreadable expiry must not keep a session alive.
  row.expire_unix_ms =
      expires ? *expires : std::numeric_limits<std::int64_t>::min();
  return row;
}

std::optional<user_row> sqlite_directory::find_user(
    const std::string& user_id) {
  auto key = stored_key(user_id);
  if (!key)
    return std::nullopt;
  auto query = impl_->db.use(impl_->find_user_sql);
  query->bind(1, *key);
  if (!query->step())
    return std::nullopt;
  user_row row;
  row.id = spoken_key(query->column_text(0));
  row.password = query->column_text(1);
  row.is_active = query->column_int64(2) != 0;
  row.is_staff = query->column_int64(3) != 0;
  row.is_superuser = query->column_int64(4) != 0;
  return row;
}

std::vector<std::string> sqlite_directory::managed_organizations(
    const std::string& user_id) {
  std::vector<std::string> result;
  auto key = stored_key(user_id);
  if (!key)
    return result;
  auto query = impl_->db.use(impl_->managed_organizations_sql);
  query->bind(1, *key);
  while (query->step())
    result.push_back(spoken_key(query->column_text(0)));
  return result;
}

std::optional<std::string> sqlite_directory::batch_organization(
    const std::string& batch_id) {
  if (!is_canonical_uuid(batch_id))
    return std::nullopt;
  impl_->db.check_file_in_place();
  auto query = impl_->db.use(impl_->batch_organization_sql);
  query->bind(1, uuid_hex32(batch_id));
  if (!query->step())
    return std::nullopt;
  return spoken_key(query->column_text(0));
}

void sqlite_directory::check() {
  impl_->db.check_file_in_place();
  // A fresh connection reads the file as it is now: the open one may keep
  // answering from its page cache after the file was overwritten.
  sqlite_connection fresh{impl_->db.path(), open_mode::read_only};
  fresh.query_text("SELECT count(*) FROM sqlite_master");

  // Every lookup's own statement, so a table or column it reads that went
  // missing (a migration, a hand edit) fails here as it fails watchers;
  // SQLite prepares a cached statement again after a schema change, so
  // this also passes again once the schema is back. NULL matches no row
  // and makes each one a single index probe at most.
  for (const auto* sql :
       {&impl_->find_session_sql, &impl_->find_user_sql,
        &impl_->managed_organizations_sql, &impl_->batch_organization_sql}) {
    auto query = impl_->db.use(*sql);
    query->bind_null(1);
    query->step();
  }
}

}  // namespace batchcast::storage
