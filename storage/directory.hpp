// Who may watch what: a read-only view of the Django/OpenWISP tables
// (django_session, openwisp_users_user, openwisp_users_organization,
// openwisp_users_organizationuser, radbatch).
//
// This is the narrow interface the rest of batchcast sees, so the embedded
// SQLite directory, a Django SQLite file and PostgreSQL are interchangeable,
// and a test can substitute one that is slow or fails.
//
// Every call is synchronous and may block on I/O: call it only from a
// detached actor or a thread of its own. An implementation is used by one
// thread at a time. "Not found" is an empty optional; a real failure
// (database missing, locked past its timeout, connection lost) throws
// storage_error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace batchcast::storage {

struct session_row {
  std::string session_data;         // Django-signed payload, see django_signing
  std::int64_t expire_unix_ms = 0;  // expire_date as unix time (UTC)
};

struct user_row {
  std::string id;        // canonical uuid (or the integer id as text)
  std::string password;  // Django password hash, e.g. pbkdf2_sha256$...
  bool is_active = false;
  bool is_staff = false;
  bool is_superuser = false;
};

class directory {
 public:
  virtual ~directory() = default;

  // The session row with this exact key, whether expired or not.
  virtual std::optional<session_row> find_session(
      const std::string& session_key) = 0;

  // The user with this id. `user_id` is as Django writes it in the session
  // (`_auth_user_id`): a canonical uuid for OpenWISP, or an integer.
  virtual std::optional<user_row> find_user(const std::string& user_id) = 0;

  // Canonical ids of the active organizations this user administers
  // (organization-user row with is_admin true). Empty when none.
  virtual std::vector<std::string> managed_organizations(
      const std::string& user_id) = 0;

  // Canonical id of the organization the batch belongs to; nothing for an
  // unknown batch. `batch_id` is canonical.
  virtual std::optional<std::string> batch_organization(
      const std::string& batch_id) = 0;

  // Whether the directory answers right now, for readiness probes: returns
  // when it does, throws storage_error when it does not. It should fail
  // whenever a lookup would (the SQLite and PostgreSQL directories run
  // each lookup's query), so a table or column that went missing makes the
  // node not ready. The default asks only for the organization of a batch
  // that cannot exist, enough for a directory that is all or nothing.
  virtual void check() {
    batch_organization("00000000-0000-0000-0000-000000000000");
  }
};

}  // namespace batchcast::storage
