// session_auth: decides whether a session may watch a batch, with caches in
// front of directory_reader so a burst of connections costs a few lookups.
//
// Messages and replies:
//
//   (authorize_atom, std::string session_key, std::string batch_id)
//       -> auth_verdict
//       Allowed (with the user id for logs, the batch's organization, and
//       how much longer the readings of the session and of the batch may
//       be relied on) or the reason for refusing: the session's failure,
//       unknown_batch, not_allowed, or directory_failed when the directory
//       could not be read. Never an error; an empty key is no_session
//       without a lookup.
//
//   (refresh_atom, std::string session_key) -> session_lookup
//       For session_watch's rounds over open connections (every
//       revalidation_interval): the cached answer, unless it is a
//       validation at least half a TTL old, in which case a fresh lookup,
//       shared with any other lookup of the key, answers and refreshes the
//       cache. So a watched session is read about once per three quarters
//       of session_ttl, and a revocation is seen within that.
//
//   (refresh_batch_atom, std::string batch_id) -> std::vector<std::string>
//       The same for the batches of open connections: the batch's
//       organization (one element), none when the directory no longer has
//       the batch, or errc::directory_failed when it could not be read.
//       The cached organization unless it is at least half a TTL old;
//       then a fresh lookup, shared with any other lookup of the batch,
//       answers and refreshes the cache.
//
// Caches, all owned by this actor:
// - session key -> principal for `session_ttl`; refusals for
//   `negative_ttl`; directory_failed is never cached. Concurrent misses on
//   one key wait for ONE lookup, which answers all of them.
// - batch -> organization for `session_ttl` too: Django may move a batch
//   to another organization or delete it. Only found batches, so a batch
//   created later is seen at once, and one found deleted leaves the cache.
//   Concurrent misses on one batch wait for ONE lookup.
// Both are capped at `max_entries`; expired entries are swept every
// `session_ttl`. A changed password, a revoked flag, a moved or a deleted
// batch therefore takes effect within `session_ttl`.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/message_types.hpp"
#include "common/metrics.hpp"

namespace batchcast::actors {

struct auth_settings {
  std::chrono::milliseconds session_ttl{std::chrono::seconds{30}};
  std::chrono::milliseconds negative_ttl{std::chrono::seconds{2}};
  std::size_t max_entries = 100000;  // per cache
};

struct session_auth_state {
  using clock = std::chrono::steady_clock;
  using promise_type = caf::typed_response_promise<auth_verdict>;

  struct cached_session {
    session_lookup answer;
    clock::time_point expires;
  };

  struct cached_batch {
    std::string organization_id;
    clock::time_point expires;
  };

  // A request waiting for its session lookup.
  struct session_waiter {
    promise_type promise;
    std::string batch_id;
  };

  // A request waiting for its batch's organization.
  struct batch_waiter {
    promise_type promise;
    storage::principal who;
    clock::time_point trusted_until;  // of the session's validation
  };

  caf::actor directory;
  auth_settings settings;
  std::shared_ptr<metrics> counters;  // session cache hits and misses

  std::unordered_map<std::string, cached_session> sessions;
  std::unordered_map<std::string, std::vector<session_waiter>> session_misses;
  std::unordered_map<std::string,
                     std::vector<caf::typed_response_promise<session_lookup>>>
      refresh_misses;
  std::unordered_map<std::string, cached_batch> batch_organizations;
  std::unordered_map<std::string, std::vector<batch_waiter>> batch_misses;
  std::unordered_map<
      std::string,
      std::vector<caf::typed_response_promise<std::vector<std::string>>>>
      batch_refresh_misses;

  const char* name = "batchcast.session_auth";
};

caf::behavior session_auth(caf::stateful_actor<session_auth_state>* self,
                           caf::actor directory, auth_settings settings,
                           std::shared_ptr<metrics> counters);

// How often open connections' sessions are checked again: a quarter of
// the TTL, so each is read again within a quarter TTL of its cached
// validation turning half a TTL old, well before it is a TTL old (at
// least every 100 ms; every second when nothing is cached).
std::chrono::milliseconds revalidation_interval(
    std::chrono::milliseconds session_ttl);

caf::actor spawn_session_auth(caf::actor_system& system, caf::actor directory,
                              auth_settings settings,
                              std::shared_ptr<metrics> counters);

}  // namespace batchcast::actors
