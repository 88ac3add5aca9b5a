// The values batchcast's actors send each other, and the inspect overloads
// CAF needs to copy, print and (between cluster nodes) serialize them.
//
// Storage types get their overloads here, in their own namespace so ADL
// finds them: storage knows nothing of CAF (dependency rule).
#pragma once

#include <chrono>
#include <string>

#include <caf/meta/type_name.hpp>

#include "storage/batch_status.hpp"
#include "storage/commit_page.hpp"
#include "storage/session_validator.hpp"

namespace batchcast::storage {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_record& x) {
  return f(caf::meta::type_name("batch_record"), x.batch_id, x.status,
           x.updated_at_ms, x.origin);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_page& x) {
  return f(caf::meta::type_name("commit_page"), x.store_id, x.records,
           x.last_seq);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, principal& x) {
  return f(caf::meta::type_name("principal"), x.user_id, x.is_superuser,
           x.managed_organizations, x.session_expires_unix_ms);
}

}  // namespace batchcast::storage

namespace batchcast::actors {

// What directory_reader answers for one session key: a principal when
// `valid`, otherwise why not (directory_failed when it could not read).
struct session_lookup {
  bool valid = false;
  storage::principal who;  // meaningful only when valid
  storage::auth_failure failure = storage::auth_failure::no_session;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_lookup& x) {
  return f(caf::meta::type_name("session_lookup"), x.valid, x.who, x.failure);
}

// What session_auth answers for (session key, batch): allowed, with the
// user id for logs, or the reason for refusing.
struct auth_verdict {
  bool allowed = false;
  std::string user_id;          // set when allowed
  std::string organization_id;  // the batch's organization, when allowed
  // How much longer the session's validation and the batch's organization
  // may be relied on: the rest of the session_ttl of the older reading
  // (zero when refused, or when nothing is cached).
  std::chrono::milliseconds trusted_for{0};
  storage::auth_failure failure = storage::auth_failure::no_session;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auth_verdict& x) {
  return f(caf::meta::type_name("auth_verdict"), x.allowed, x.user_id,
           x.organization_id, x.trusted_for, x.failure);
}

// What storage_actor answers a readiness probe once the state database
// answered a read: whether a write could commit, and if not, how long the
// node has seen another process hold the write lock.
struct store_probe {
  bool write_locked = false;
  std::chrono::milliseconds locked_for{0};  // since first seen held
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, store_probe& x) {
  return f(caf::meta::type_name("store_probe"), x.write_locked, x.locked_for);
}

}  // namespace batchcast::actors
