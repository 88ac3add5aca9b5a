// Creates and fills the embedded directory: the Django/OpenWISP-shaped
// tables inside batchcast's own SQLite file, for standalone operation and
// for tests. This is what `batchcast admin ...` runs.
//
// Rows are written exactly as Django on SQLite would write them (32-hex
// UUIDs, UTC text datetimes, PBKDF2 password hashes, signed session data),
// so sqlite_directory reads them with the same code it uses for a real
// Django database. Throws storage_error on failure, including a violated
// constraint (unknown organization, duplicate username).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace batchcast::storage {

// The range of datetimes Django can read back, in microseconds since the
// epoch (UTC): Python's datetime.min, 0001-01-01 00:00:00, to datetime.max,
// 9999-12-31 23:59:59.999999.
inline constexpr std::int64_t earliest_django_unix_us =
    -62135596800LL * 1000000;
inline constexpr std::int64_t latest_django_unix_us =
    253402300800LL * 1000000 - 1;

// The most seconds a session issued at `now_unix_us` may last and still
// expire within that range; 0 when `now_unix_us` is not before its end.
std::int64_t longest_session_ttl_seconds(std::int64_t now_unix_us);

struct new_user {
  std::string username;
  bool is_staff = false;
  bool is_superuser = false;
  bool is_active = true;
  std::string password;  // empty: an unusable password ("!" + random)
};

class directory_admin {
 public:
  // What opening a path where no file is does.
  enum class when_missing {
    create,  // makes a new, empty directory there
    refuse,  // throws storage_error and creates nothing
  };

  // Opens the SQLite file at `path` and creates the directory tables when
  // missing.
  explicit directory_admin(const std::string& path,
                           when_missing missing = when_missing::create);
  ~directory_admin();

  // Each returns the new row's canonical uuid. Organizations may share a
  // name (each gets a slug of its own); a username taken already throws,
  // with SQLITE_CONSTRAINT as the code and nothing added.
  std::string add_organization(const std::string& name, bool is_active);
  std::string add_user(const new_user& user);
  // `organization_id` canonical. Throws when user or organization is unknown
  // or the user is already a member (SQLITE_CONSTRAINT).
  void add_member(const std::string& username,
                  const std::string& organization_id, bool is_admin);
  // `batch_id` empty: a fresh uuid; `name` empty: the id. Throws for an
  // unknown organization, and (SQLITE_CONSTRAINT, nothing added) for an id
  // taken already or a name the organization has already.
  std::string add_batch(const std::string& organization_id,
                        const std::string& batch_id, const std::string& name);
  // Adds the batch unless it exists; returns false when the organization
  // is unknown, the batch exists under another organization, or either id
  // is not a uuid. True means the batch now belongs to that organization.
  // Safe against a concurrent call for the same batch (one transaction).
  // Takes the write lock only to add a batch; an existing one is a read.
  bool ensure_batch(const std::string& batch_id,
                    const std::string& organization_id);

  // Creates a Django session for `username` signed with `secret_key`,
  // carrying `_auth_user_id`, `_auth_user_backend` = `auth_backend` and
  // `_auth_user_hash`, valid for `ttl_seconds` (a negative ttl makes an
  // already expired session, for tests). Returns the session key, 32
  // characters of [a-z0-9] like Django's. Throws for an unknown user, and
  // for a ttl whose expiry Django could not read (see
  // longest_session_ttl_seconds), adding nothing.
  std::string issue_session(const std::string& username,
                            const std::string& secret_key,
                            const std::string& auth_backend,
                            std::int64_t ttl_seconds);

  // Replaces a user's password hash (ends their sessions, as in Django). An
  // empty password makes the password unusable.
  void set_password(const std::string& username, const std::string& password);
  // Updates a user's flags, for tests of revocation.
  void set_user_flags(const std::string& username, bool is_active,
                      bool is_staff, bool is_superuser);
  // Sets whether a member administers the organization, for tests of
  // revocation. Throws when the user is not a member.
  void set_member_admin(const std::string& username,
                        const std::string& organization_id, bool is_admin);
  // Moves a batch to another organization, as the Django admin may. Throws
  // when the batch or the organization is unknown.
  void move_batch(const std::string& batch_id,
                  const std::string& organization_id);
  // Deletes a batch, as the Django admin does. Returns false when no batch
  // has that id (nothing to delete).
  bool delete_batch(const std::string& batch_id);
  // Deletes a session, as Django's logout does. Returns false when no
  // session has that key (nothing to delete).
  bool delete_session(const std::string& session_key);

  // What the admin site's revocations do, one flag or row at a time (the
  // other flags are left as they are). Each throws storage_error when the
  // user, or for remove_member the membership, does not exist.
  //
  // Clears is_active: the user's sessions no longer authenticate.
  void deactivate_user(const std::string& username);
  // Clears is_staff: the user may no longer watch any batch.
  void revoke_staff(const std::string& username);
  // Deletes the user's membership of the organization (canonical uuid),
  // and with it any right to watch that organization's batches.
  void remove_member(const std::string& username,
                     const std::string& organization_id);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace batchcast::storage
