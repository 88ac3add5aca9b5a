// readiness: whether this node can do its work right now, for GET /readyz.
// The node is ready when the state database and the directory each answer
// a real probe (storage_actor's and directory_reader's probe_atom) within
// `probe_timeout`, and the state database could take a write: another
// process holding its write lock (a long `BEGIN IMMEDIATE`) leaves reads
// working but every publish waiting, so it makes the node not ready.
//
// Messages and replies:
//
//   (ready_atom) -> readiness_report
//       The latest report when it is younger than `cache_for`; otherwise
//       the report of a new probe round, which every request arriving
//       meanwhile waits for too. So a storm of probes costs at most one
//       round per `cache_for`, and at most one probe message sits in each
//       dependency's mailbox: a dependency whose previous probe has not
//       come back yet is not asked again, and counts as timed out.
//
// Changes are logged: a warning naming what is down when the node stops
// being ready, info when it is ready again.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

namespace batchcast::actors {

// How one dependency answered its probe.
enum class probe_result : std::uint8_t {
  ok,       // answered in time
  failed,   // answered with an error
  timeout,  // no answer within the probe timeout
  // The state database answered, but another process holds its write
  // lock: publishes cannot commit.
  write_locked,
};

// "ok", "failed", "timeout" or "write_locked".
const char* to_string(probe_result result);

struct readiness_report {
  probe_result state_store = probe_result::timeout;
  probe_result directory = probe_result::timeout;
  // While state_store is write_locked: how long the node has seen the
  // lock held (at least; it may have been taken earlier).
  std::chrono::milliseconds state_store_locked_for{0};

  bool ready() const {
    return state_store == probe_result::ok && directory == probe_result::ok;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, readiness_report& x) {
  return f(caf::meta::type_name("readiness_report"), x.state_store, x.directory,
           x.state_store_locked_for);
}

// Why a report is not ready, in words an operator can act on, one clause
// per dependency that is not ok, e.g. "state database write-locked by
// another process for 7 s". Names no file, host or error message (those
// are in the log). Empty when the report is ready.
std::string describe_not_ready(const readiness_report& report);

struct readiness_settings {
  std::chrono::milliseconds probe_timeout{std::chrono::seconds{1}};
  std::chrono::milliseconds cache_for{std::chrono::seconds{1}};
};

struct readiness_state {
  using clock = std::chrono::steady_clock;

  struct dependency {
    caf::actor target;
    bool outstanding = false;  // a probe was sent and has not come back
    std::optional<probe_result> answer;  // in the current round
    std::string failure;  // why its last probe failed, for the log
  };

  dependency store;
  dependency directory;
  std::chrono::milliseconds store_locked_for{0};  // in the current round
  readiness_settings settings;

  std::optional<readiness_report> latest;
  clock::time_point latest_at;
  bool was_ready = true;  // for logging changes only

  bool probing = false;
  std::uint64_t round = 0;
  std::vector<caf::typed_response_promise<readiness_report>> waiters;

  const char* name = "batchcast.readiness";
};

caf::behavior readiness(caf::stateful_actor<readiness_state>* self,
                        caf::actor store, caf::actor directory,
                        readiness_settings settings);

caf::actor spawn_readiness(caf::actor_system& system, caf::actor store,
                           caf::actor directory, readiness_settings settings);

}  // namespace batchcast::actors
