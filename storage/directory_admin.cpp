#include "storage/directory_admin.hpp"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "storage/directory_schema.hpp"
#include "storage/django_signing.hpp"
#include "storage/django_sqlite_format.hpp"
#include "storage/password_hasher.hpp"
#include "storage/random.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/storage_error.hpp"
#include "storage/uuid.hpp"

namespace batchcast::storage {

namespace {

// Django's VALID_KEY_CHARS and the length SessionBase generates.
constexpr std::string_view session_key_chars =
    "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::size_t session_key_length = 32;

constexpr std::int64_t us_per_second = 1000000;

std::int64_t now_unix_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch())
      .count();
}

// A slug like django.utils.text.slugify makes for ASCII names: lowercase
// letters and digits, runs of anything else as one "-".
std::string slugify(const std::string& name) {
  std::string slug;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (keep)
      slug += c;
    else if (!slug.empty() && slug.back() != '-')
      slug += '-';
  }
  while (!slug.empty() && slug.back() == '-')
    slug.pop_back();
  return slug.empty() ? "organization" : slug;
}

open_mode open_mode_for(directory_admin::when_missing missing) {
  // read_write leaves creating the file to nobody, so a path that is
  // missing stays missing even when the caller looked before.
  return missing == directory_admin::when_missing::create
             ? open_mode::read_write_create
             : open_mode::read_write;
}

}  // namespace

std::int64_t longest_session_ttl_seconds(std::int64_t now_unix_us) {
  if (now_unix_us >= latest_django_unix_us)
    return 0;
  // Subtracting before dividing: no ttl is ever multiplied, so none can
  // overflow on its way to the check.
  now_unix_us = std::max(now_unix_us, earliest_django_unix_us);
  return (latest_django_unix_us - now_unix_us) / us_per_second;
}

struct directory_admin::impl {
  sqlite_connection db;
  directory_tables tables;

  impl(const std::string& path, when_missing missing)
      : db(path, open_mode_for(missing)) {
    // SQLite opens a file it cannot write read-only rather than fail, and
    // the first write then fails with a message that names neither.
    if (sqlite3_db_readonly(db.handle(), "main") == 1)
      refuse(
          "cannot be written (the file or its filesystem is read-only), "
          "and `batchcast admin` changes the directory in it");
    // WAL, as the state store sharing this file uses it; foreign keys on,
    // as Django turns them on for SQLite.
    db.query_text("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON");
    create_directory_tables(db, tables);
    // So that closing finds a deleted -wal itself (see
    // ~sqlite_connection). Writes are not refused here: in serve the
    // state store refuses the publish a batch is added for.
    db.hold_wal_files_in_place();
  }

  std::string table(const std::string& name) const {
    return quote_identifier(name);
  }

  [[noreturn]] void refuse(const std::string& why, int sqlite_code = 0) const {
    throw storage_error("directory: " + db.path() + ": " + why, sqlite_code);
  }

  // A row that would break a unique constraint, said in the operator's
  // words rather than as the INSERT SQLite refused.
  [[noreturn]] void refuse_duplicate(const std::string& why) const {
    refuse(why, SQLITE_CONSTRAINT);
  }

  bool exists(const std::string& table_name, const std::string& column,
              const std::string& value) {
    auto query = db.use("SELECT 1 FROM " + table(table_name) + " WHERE " +
                        column + " = ?");
    query->bind(1, value);
    return query->step();
  }

  // The stored (32-hex) id of the organization, or nothing.
  std::optional<std::string> organization_key(const std::string& id) {
    auto canonical = canonical_uuid(id);
    if (!canonical)
      return std::nullopt;
    auto key = uuid_hex32(*canonical);
    if (!exists(tables.organization, "id", key))
      return std::nullopt;
    return key;
  }

  // organization_key, refusing an organization that is not there.
  std::string known_organization(const std::string& id) {
    auto key = organization_key(id);
    if (!key)
      refuse("no organization " + id);
    return *key;
  }

  // The canonical form of a batch id; refuses one that is not a uuid.
  std::string canonical_batch_id(const std::string& id) const {
    auto canonical = canonical_uuid(id);
    if (!canonical)
      refuse("not a uuid: \"" + id + "\"");
    return *canonical;
  }

  struct user_key {
    std::string id;  // 32 hex
    std::string password;
  };

  user_key user_by_name(const std::string& username) {
    auto query = db.use("SELECT id, password FROM " + table(tables.user) +
                        " WHERE username = ?");
    query->bind(1, username);
    if (!query->step())
      refuse("no user named \"" + username + "\"");
    return {query->column_text(0), query->column_text(1)};
  }

  bool is_member(const std::string& user_key,
                 const std::string& organization_key) {
    auto query = db.use("SELECT 1 FROM " + table(tables.organization_user) +
                        " WHERE user_id = ? AND organization_id = ?");
    query->bind(1, user_key).bind(2, organization_key);
    return query->step();
  }

  bool batch_named(const std::string& name,
                   const std::string& organization_key) {
    auto query = db.use("SELECT 1 FROM " + table(tables.batch) +
                        " WHERE name = ? AND organization_id = ?");
    query->bind(1, name).bind(2, organization_key);
    return query->step();
  }

  // When a session issued at `now_us` for `ttl_seconds` expires; refuses
  // an expiry Django could not read back (a year past 9999 or before 1),
  // comparing before multiplying so that no ttl overflows.
  std::int64_t session_expiry(std::int64_t now_us, std::int64_t ttl_seconds) {
    auto longest = longest_session_ttl_seconds(now_us);
    auto shortest = -((now_us - earliest_django_unix_us) / us_per_second);
    if (ttl_seconds > longest)
      refuse("a session lasting " + std::to_string(ttl_seconds) +
             " seconds would expire after 9999-12-31 23:59:59 UTC, the "
             "latest date Django can read; at most " +
             std::to_string(longest) + " seconds are left until then");
    if (ttl_seconds < shortest)
      refuse("a session lasting " + std::to_string(ttl_seconds) +
             " seconds would have expired before 0001-01-01, the earliest "
             "date Django can read");
    return now_us + ttl_seconds * us_per_second;
  }

  // Where a batch lives (32 hex), if it exists.
  std::optional<std::string> batch_owner(const std::string& batch_key) {
    auto query = db.use("SELECT organization_id FROM " + table(tables.batch) +
                        " WHERE id = ?");
    query->bind(1, batch_key);
    if (!query->step())
      return std::nullopt;
    return query->column_text(0);
  }

  void insert_batch(const std::string& batch_key,
                    const std::string& organization_key,
                    const std::string& name) {
    auto now = format_django_datetime(now_unix_us());
    auto insert = db.use(
        "INSERT INTO " + table(tables.batch) +
        " (id, created, modified, name, strategy, csvfile, prefix,"
        " user_credentials, expiration_date, status, organization_id)"
        " VALUES (?, ?, ?, ?, 'prefix', '', ?, NULL, NULL, 'pending', ?)");
    insert->bind(1, batch_key)
        .bind(2, now)
        .bind(3, now)
        .bind(4, name)
        .bind(5, name.substr(0, 20))
        .bind(6, organization_key);
    insert->run();
  }
};

directory_admin::directory_admin(const std::string& path, when_missing missing)
    : impl_(std::make_unique<impl>(path, missing)) {}

directory_admin::~directory_admin() = default;

std::string directory_admin::add_organization(const std::string& name,
                                              bool is_active) {
  auto id = new_uuid4();
  auto key = uuid_hex32(id);
  auto slug = slugify(name);
  sqlite_transaction tx(impl_->db);
  // Slugs are unique; a second organization of the same name gets the
  // start of its id appended rather than failing.
  if (impl_->exists(impl_->tables.organization, "slug", slug))
    slug += "-" + key.substr(0, 8);
  auto now = format_django_datetime(now_unix_us());
  auto insert = impl_->db.use(
      "INSERT INTO " + impl_->table(impl_->tables.organization) +
      " (id, name, is_active, created, modified, slug, description, email,"
      " url) VALUES (?, ?, ?, ?, ?, ?, '', '', '')");
  insert->bind(1, key)
      .bind(2, name)
      .bind(3, is_active ? 1 : 0)
      .bind(4, now)
      .bind(5, now)
      .bind(6, slug);
  insert->run();
  tx.commit();
  return id;
}

std::string directory_admin::add_user(const new_user& user) {
  auto id = new_uuid4();
  auto password = user.password.empty() ? make_unusable_password()
                                        : make_password_hash(user.password);
  sqlite_transaction tx(impl_->db);
  if (impl_->exists(impl_->tables.user, "username", user.username))
    impl_->refuse_duplicate("a user named \"" + user.username +
                            "\" already exists");
  auto insert = impl_->db.use(
      "INSERT INTO " + impl_->table(impl_->tables.user) +
      " (id, password, last_login, is_superuser, username, first_name,"
      " last_name, email, is_staff, is_active, date_joined, bio, url,"
      " company, location, phone_number, birth_date, notes, language)"
      " VALUES (?, ?, NULL, ?, ?, '', '', NULL, ?, ?, ?, '', '', '', '',"
      " NULL, NULL, '', 'en-gb')");
  insert->bind(1, uuid_hex32(id))
      .bind(2, password)
      .bind(3, user.is_superuser ? 1 : 0)
      .bind(4, user.username)
      .bind(5, user.is_staff ? 1 : 0)
      .bind(6, user.is_active ? 1 : 0)
      .bind(7, format_django_datetime(now_unix_us()));
  insert->run();
  tx.commit();
  return id;
}

void directory_admin::add_member(const std::string& username,
                                 const std::string& organization_id,
                                 bool is_admin) {
  sqlite_transaction tx(impl_->db);
  auto user = impl_->user_by_name(username);
  auto organization = impl_->known_organization(organization_id);
  if (impl_->is_member(user.id, organization))
    impl_->refuse_duplicate("\"" + username + "\" is already a member of " +
                            organization_id);
  auto now = format_django_datetime(now_unix_us());
  auto insert = impl_->db.use(
      "INSERT INTO " + impl_->table(impl_->tables.organization_user) +
      " (id, created, modified, is_admin, organization_id, user_id)"
      " VALUES (?, ?, ?, ?, ?, ?)");
  insert->bind(1, uuid_hex32(new_uuid4()))
      .bind(2, now)
      .bind(3, now)
      .bind(4, is_admin ? 1 : 0)
      .bind(5, organization)
      .bind(6, user.id);
  insert->run();
  tx.commit();
}

std::string directory_admin::add_batch(const std::string& organization_id,
                                       const std::string& batch_id,
                                       const std::string& name) {
  auto canonical =
      impl_->canonical_batch_id(batch_id.empty() ? new_uuid4() : batch_id);
  auto stored_name = name.empty() ? canonical : name;
  auto key = uuid_hex32(canonical);
  sqlite_transaction tx(impl_->db);
  auto organization = impl_->known_organization(organization_id);
  if (impl_->batch_owner(key))
    impl_->refuse_duplicate("a batch with id " + canonical + " already exists");
  if (impl_->batch_named(stored_name, organization))
    impl_->refuse_duplicate("a batch named \"" + stored_name +
                            "\" already exists in organization " +
                            organization_id);
  impl_->insert_batch(key, organization, stored_name);
  tx.commit();
  return canonical;
}

bool directory_admin::ensure_batch(const std::string& batch_id,
                                   const std::string& organization_id) {
  auto canonical = canonical_uuid(batch_id);
  if (!canonical)
    return false;
  auto batch_key = uuid_hex32(*canonical);
  // A file found corrupt is neither trusted nor written to.
  impl_->db.refuse_if_corrupt();
  // A batch that exists (the usual case: producers name the organization
  // in every publish) is answered by a read, which takes no write lock and
  // so does not wait for another process's write transaction.
  auto organization = impl_->organization_key(organization_id);
  if (!organization)
    return false;
  if (auto owner = impl_->batch_owner(batch_key))
    return *owner == *organization;

  // One write transaction, so two publishers racing for the same new batch
  // cannot both insert it: both questions are asked again under the lock.
  sqlite_transaction tx(impl_->db);
  organization = impl_->organization_key(organization_id);
  if (!organization)
    return false;
  if (auto owner = impl_->batch_owner(batch_key))
    return *owner == *organization;
  impl_->insert_batch(batch_key, *organization, *canonical);
  tx.commit();
  return true;
}

std::string directory_admin::issue_session(const std::string& username,
                                           const std::string& secret_key,
                                           const std::string& auth_backend,
                                           std::int64_t ttl_seconds) {
  auto user = impl_->user_by_name(username);
  auto user_id = canonical_uuid(user.id);
  if (!user_id)
    impl_->refuse("user \"" + username + "\" has no uuid id");

  // Keys in the order django.contrib.auth.login sets them.
  nlohmann::ordered_json session;
  session["_auth_user_id"] = *user_id;
  session["_auth_user_backend"] = auth_backend;
  session["_auth_user_hash"] = session_auth_hash(user.password, secret_key);
  auto now_us = now_unix_us();
  auto expires_us = impl_->session_expiry(now_us, ttl_seconds);
  auto data = sign_json_text(
      session.dump(-1, ' ', true, nlohmann::json::error_handler_t::strict),
      session_salt, secret_key, static_cast<std::uint64_t>(now_us / 1000000));
  auto expires = format_django_datetime(expires_us);

  auto insert = impl_->db.use(
      "INSERT OR IGNORE INTO " + impl_->table(impl_->tables.session) +
      " (session_key, session_data, expire_date) VALUES (?, ?, ?)");
  // 36^32 keys make a collision all but impossible; SessionStore.create
  // retries on one all the same, and so does this.
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto key = random_string(session_key_length, session_key_chars);
    insert->bind(1, key).bind(2, data).bind(3, expires);
    insert->run();
    if (impl_->db.changes() == 1)
      return key;
  }
  impl_->refuse("cannot find an unused session key");
}

void directory_admin::set_password(const std::string& username,
                                   const std::string& password) {
  auto hash = password.empty() ? make_unusable_password()
                               : make_password_hash(password);
  auto update = impl_->db.use("UPDATE " + impl_->table(impl_->tables.user) +
                              " SET password = ? WHERE username = ?");
  update->bind(1, hash).bind(2, username);
  update->run();
  if (impl_->db.changes() == 0)
    impl_->refuse("no user named \"" + username + "\"");
}

void directory_admin::set_user_flags(const std::string& username,
                                     bool is_active, bool is_staff,
                                     bool is_superuser) {
  auto update = impl_->db.use(
      "UPDATE " + impl_->table(impl_->tables.user) +
      " SET is_active = ?, is_staff = ?, is_superuser = ? WHERE username = ?");
  update->bind(1, is_active ? 1 : 0)
      .bind(2, is_staff ? 1 : 0)
      .bind(3, is_superuser ? 1 : 0)
      .bind(4, username);
  update->run();
  if (impl_->db.changes() == 0)
    impl_->refuse("no user named \"" + username + "\"");
}

void directory_admin::set_member_admin(const std::string& username,
                                       const std::string& organization_id,
                                       bool is_admin) {
  auto user = impl_->user_by_name(username);
  auto canonical = canonical_uuid(organization_id);
  auto update = impl_->db.use(
      "UPDATE " + impl_->table(impl_->tables.organization_user) +
      " SET is_admin = ? WHERE user_id = ? AND organization_id = ?");
  update->bind(1, is_admin ? 1 : 0)
      .bind(2, user.id)
      .bind(3, canonical ? uuid_hex32(*canonical) : organization_id);
  update->run();
  if (impl_->db.changes() == 0)
    impl_->refuse("\"" + username + "\" is not a member of " + organization_id);
}

void directory_admin::move_batch(const std::string& batch_id,
                                 const std::string& organization_id) {
  auto canonical = impl_->canonical_batch_id(batch_id);
  sqlite_transaction tx(impl_->db);
  auto organization = impl_->known_organization(organization_id);
  auto update = impl_->db.use("UPDATE " + impl_->table(impl_->tables.batch) +
                              " SET organization_id = ? WHERE id = ?");
  update->bind(1, organization).bind(2, uuid_hex32(canonical));
  update->run();
  if (impl_->db.changes() == 0)
    impl_->refuse("no batch " + batch_id);
  tx.commit();
}

bool directory_admin::delete_batch(const std::string& batch_id) {
  auto canonical = canonical_uuid(batch_id);
  if (!canonical)
    return false;
  auto remove = impl_->db.use(
      "DELETE FROM " + impl_->table(impl_->tables.batch) + " WHERE id = ?");
  remove->bind(1, uuid_hex32(*canonical));
  remove->run();
  return impl_->db.changes() > 0;
}

bool directory_admin::delete_session(const std::string& session_key) {
  auto remove =
      impl_->db.use("DELETE FROM " + impl_->table(impl_->tables.session) +
                    " WHERE session_key = ?");
  remove->bind(1, session_key);
  remove->run();
  return impl_->db.changes() > 0;
}

void directory_admin::deactivate_user(const std::string& username) {
  auto update = impl_->db.use("UPDATE " + impl_->table(impl_->tables.user) +
                              " SET is_active = 0 WHERE username = ?");
  update->bind(1, username);
  update->run();
  if (impl_->db.changes() == 0)
    impl_->refuse("no user named \"" + username + "\"");
}

void directory_admin::revoke_staff(const std::string& username) {
  auto update = impl_->db.use("UPDATE " + impl_->table(impl_->tables.user) +
                              " SET is_staff = 0 WHERE username = ?");
  update->bind(1, username);
  update->run();
  if (impl_->db.changes() == 0)
    impl_->refuse("no user named \"" + username + "\"");
}

void directory_admin::remove_member(const std::string& username,
                                    const std::string& organization_id) {
  sqlite_transaction tx(impl_->db);
  auto user = impl_->user_by_name(username);
  auto canonical = canonical_uuid(organization_id);
  auto remove = impl_->db.use("DELETE FROM " +
                              impl_->table(impl_->tables.organization_user) +
                              " WHERE user_id = ? AND organization_id = ?");
  remove->bind(1, user.id)
      .bind(2, canonical ? uuid_hex32(*canonical) : organization_id);
  remove->run();
  if (impl_->db.changes() == 0)
    impl_->refuse("\"" + username + "\" is not a member of " + organization_id);
  tx.commit();
}

}  // namespace batchcast::storage
