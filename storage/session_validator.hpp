// Decides whether a Django session key belongs to a staff user who may
// watch batches, exactly as Django and Channels decide it:
//
// 1. a django_session row with that key whose expire_date is in the future;
// 2. session_data verifies with the current SECRET_KEY or a fallback;
// 3. it names a user (_auth_user_id) who exists and is active;
// 4. _auth_user_hash matches the user's password under the current key or a
//    fallback (a changed password ends the session);
// 5. _auth_user_backend is one of the accepted backends;
// and, for batchcast, the user is staff.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "storage/directory.hpp"

namespace batchcast::storage {

// Why a session was refused. Logged, never sent to the client.
enum class auth_failure {
  no_session,        // no cookie, or no row with that key
  expired,           // expire_date has passed
  bad_signature,     // session_data does not verify or does not decode
  not_logged_in,     // no _auth_user_id in the session
  unknown_user,      // _auth_user_id names no user
  inactive_user,     // is_active is false
  bad_backend,       // _auth_user_backend is not accepted
  stale_auth_hash,   // password changed since login (or hash missing)
  not_staff,         // authenticated but not is_staff
  not_allowed,       // staff, but may not watch this batch
  unknown_batch,     // the batch is not in the directory
  directory_failed,  // the directory could not be read
};

// Short stable name for logs and metrics, e.g. "stale_auth_hash".
const char* to_string(auth_failure failure);

// Who is watching: the facts authorization needs.
struct principal {
  std::string user_id;  // as in the session (_auth_user_id)
  bool is_superuser = false;
  // Canonical uuids of the active organizations the user administers.
  // Left empty for a superuser, who may watch any batch anyway.
  std::vector<std::string> managed_organizations;
  // The session's expire_date (unix ms): a cache must not trust the
  // principal past it.
  std::int64_t session_expires_unix_ms = 0;
};

// With no secret key every session is a bad_signature; with no backend
// every session is a bad_backend (Django refuses to run with none).
struct session_settings {
  std::vector<std::string> secret_keys;    // current key first, then fallbacks
  std::vector<std::string> auth_backends;  // accepted _auth_user_backend
};

// The default accepted backends: OpenWISP's and Django's ModelBackend.
std::vector<std::string> default_auth_backends();

using session_verdict = std::variant<principal, auth_failure>;

// Runs checks 1-5 and the staff check against `dir`, in Django's order, and
// returns the first failure or the principal. A key that Django could not
// have issued (not 8 to 40 characters of [a-z0-9]) is no_session without a
// directory lookup. Never returns not_allowed, unknown_batch or
// directory_failed: those belong to the caller. Throws storage_error when
// the directory fails (the caller maps that to directory_failed).
session_verdict validate_session(directory& dir,
                                 const session_settings& settings,
                                 const std::string& session_key,
                                 std::int64_t now_unix_ms);

// A superuser may watch any batch; other staff only batches of the
// organizations they administer.
bool may_watch(const principal& who, const std::string& organization_id);

}  // namespace batchcast::storage
