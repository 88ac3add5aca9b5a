// directory_reader: the one user of the directory (users, sessions,
// organizations, batches). Spawned detached, because every lookup blocks on
// the database. session_auth sits in front of it and caches its answers.
//
// Messages and replies:
//
//   (validate_atom, std::string session_key) -> session_lookup
//       The principal, or why the session is refused (storage's
//       validate_session). When the directory cannot be read the answer is
//       auth_failure::directory_failed, not an error.
//
//   (batch_org_atom, std::string batch_id) -> std::vector<std::string>
//       Zero or one canonical organization id: the batch's organization,
//       or none for an unknown batch. errc::directory_failed when the
//       directory cannot be read.
//
//   (probe_atom) -> bool
//       true once the directory answered a real query (readiness, see
//       storage::directory::check); errc::directory_failed when it did not.
//
// Failures are logged as warnings naming the directory: when a kind of
// request (session, batch, probe) starts failing, then at most once per
// interval while failures last. A failure only a restart ends (the
// SQLite file or its -wal deleted or replaced) is logged once, as an
// error asking for the restart. The recovery is logged at info once every
// kind that failed has succeeded again (the probe runs every lookup, so
// its success counts for all of them).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>

#include "storage/directory.hpp"
#include "storage/session_validator.hpp"

namespace batchcast::actors {

struct directory_state {
  std::shared_ptr<storage::directory> directory;
  storage::session_settings settings;
  std::string description;  // what to name in logs, e.g. "sqlite:/var/x.db"

  // The kinds of request (see directory_reader.cpp) whose latest try
  // failed: a batch lookup that works says nothing of the user table.
  unsigned failing = 0;
  std::chrono::steady_clock::time_point last_warning;
  // A file deleted or replaced under the directory is logged once, as an
  // error: it lasts until a restart.
  bool restart_logged = false;

  const char* name = "batchcast.directory";
};

caf::behavior directory_reader(caf::stateful_actor<directory_state>* self,
                               std::shared_ptr<storage::directory> directory,
                               storage::session_settings settings,
                               std::string description);

caf::actor spawn_directory_reader(caf::actor_system& system,
                                  std::shared_ptr<storage::directory> directory,
                                  storage::session_settings settings,
                                  std::string description);

}  // namespace batchcast::actors
