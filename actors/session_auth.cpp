#include "actors/session_auth.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "common/log.hpp"

namespace batchcast::actors {

namespace {

using self_ptr = caf::stateful_actor<session_auth_state>*;
using state = session_auth_state;
using storage::auth_failure;

std::shared_ptr<spdlog::logger> log() {
  static auto instance = batchcast::logger("auth");
  return instance;
}

// How long until `unix_ms` on the wall clock; zero once it has passed.
std::chrono::milliseconds time_left(std::int64_t unix_ms) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return std::chrono::milliseconds{std::max<std::int64_t>(0, unix_ms - now)};
}

auth_verdict refused(auth_failure why) {
  auth_verdict verdict;
  verdict.failure = why;
  return verdict;
}

auth_verdict decide(const storage::principal& who,
                    const std::string& organization_id,
                    state::clock::time_point trusted_until) {
  if (!storage::may_watch(who, organization_id))
    return refused(auth_failure::not_allowed);
  auth_verdict verdict;
  verdict.allowed = true;
  verdict.user_id = who.user_id;
  verdict.organization_id = organization_id;
  auto now = state::clock::now();
  if (trusted_until > now)
    verdict.trusted_for = std::chrono::duration_cast<std::chrono::milliseconds>(
        trusted_until - now);
  return verdict;
}

// Keeps a cache under its cap. Dropping an arbitrary entry is enough: the
// cap only matters under a flood of distinct keys, where no entry is worth
// more than another, and a full sweep per insert would be quadratic.
template <class Map>
void make_room(Map& cache, std::size_t max_entries) {
  while (!cache.empty() &&
         cache.size() >= std::max<std::size_t>(max_entries, 1))
    cache.erase(cache.begin());
}

// Waiters of either kind are filed under the batch only while a lookup of
// it is under way; its answer serves them all.
bool batch_lookup_in_flight(const state& st, const std::string& batch_id) {
  return st.batch_misses.count(batch_id) > 0 ||
         st.batch_refresh_misses.count(batch_id) > 0;
}

// Files what the directory said of the batch and answers everyone waiting
// for it. `organization`: empty when the directory has no such batch.
void on_batch_lookup(self_ptr self, const std::string& batch_id,
                     const caf::error& failure,
                     const std::vector<std::string>& organization) {
  auto& st = self->state;
  auto now = state::clock::now();
  auto expires = now + st.settings.session_ttl;
  if (!failure) {
    // A batch found deleted must not be answered from the cache again.
    auto cached = st.batch_organizations.find(batch_id);
    if (cached != st.batch_organizations.end())
      st.batch_organizations.erase(cached);
    if (!organization.empty() && expires > now) {
      make_room(st.batch_organizations, st.settings.max_entries);
      st.batch_organizations[batch_id] = {organization.front(), expires};
    }
  }

  if (auto refreshing = st.batch_refresh_misses.find(batch_id);
      refreshing != st.batch_refresh_misses.end()) {
    auto promises = std::move(refreshing->second);
    st.batch_refresh_misses.erase(refreshing);
    for (auto& each : promises) {
      if (failure)
        each.deliver(failure);
      else
        each.deliver(organization);
    }
  }

  auto found = st.batch_misses.find(batch_id);
  if (found == st.batch_misses.end())
    return;
  auto waiters = std::move(found->second);
  st.batch_misses.erase(found);
  for (auto& each : waiters) {
    if (failure)
      each.promise.deliver(refused(auth_failure::directory_failed));
    else if (organization.empty())
      each.promise.deliver(refused(auth_failure::unknown_batch));
    else
      each.promise.deliver(decide(each.who, organization.front(),
                                  std::min(each.trusted_until, expires)));
  }
}

// Reads the batch's organization from the directory; the answer goes to
// on_batch_lookup. Call only when no lookup of the batch is in flight.
void look_up_batch(self_ptr self, const std::string& batch_id) {
  auto& st = self->state;
  self->request(st.directory, caf::infinite, batch_org_atom::value, batch_id)
      .then(
          [self, batch_id](const std::vector<std::string>& organization) {
            on_batch_lookup(self, batch_id, caf::none, organization);
          },
          [self, batch_id](caf::error& err) {
            on_batch_lookup(self, batch_id, err, {});
          });
}

// Second step: the session is known to be valid; find the batch's
// organization (cached, or one lookup shared by every waiter on the batch).
void authorize_batch(self_ptr self, storage::principal who,
                     state::clock::time_point trusted_until,
                     const std::string& batch_id, state::promise_type promise) {
  auto& st = self->state;
  auto cached = st.batch_organizations.find(batch_id);
  if (cached != st.batch_organizations.end()) {
    auto expires = cached->second.expires;
    if (expires > state::clock::now()) {
      // The verdict is relied on no longer than either of its readings.
      promise.deliver(decide(who, cached->second.organization_id,
                             std::min(trusted_until, expires)));
      return;
    }
    st.batch_organizations.erase(cached);
  }

  auto in_flight = batch_lookup_in_flight(st, batch_id);
  st.batch_misses[batch_id].push_back(
      {std::move(promise), std::move(who), trusted_until});
  if (!in_flight)
    look_up_batch(self, batch_id);
}

// `trusted_until`: when the validation behind `answer` goes stale.
void continue_after_session(self_ptr self, const session_lookup& answer,
                            state::clock::time_point trusted_until,
                            state::session_waiter waiter) {
  if (!answer.valid) {
    waiter.promise.deliver(refused(answer.failure));
    return;
  }
  authorize_batch(self, answer.who, trusted_until, waiter.batch_id,
                  std::move(waiter.promise));
}

void on_session_lookup(self_ptr self, const std::string& session_key,
                       const session_lookup& answer) {
  auto& st = self->state;
  auto now = state::clock::now();

  // directory_failed says nothing about the session: asking again at the
  // next connection is the whole point.
  auto ttl = answer.valid ? st.settings.session_ttl : st.settings.negative_ttl;
  // Nor may a valid session outlive its own expire_date in the cache.
  if (answer.valid)
    ttl = std::min(ttl, time_left(answer.who.session_expires_unix_ms));
  // Connections rely on a validation no longer than it is cached.
  auto trusted_until = now + ttl;
  if (answer.failure != auth_failure::directory_failed || answer.valid) {
    if (ttl.count() > 0) {
      make_room(st.sessions, st.settings.max_entries);
      st.sessions[session_key] = {answer, now + ttl};
    }
  }

  if (auto refreshing = st.refresh_misses.find(session_key);
      refreshing != st.refresh_misses.end()) {
    auto promises = std::move(refreshing->second);
    st.refresh_misses.erase(refreshing);
    for (auto& each : promises)
      each.deliver(answer);
  }

  auto found = st.session_misses.find(session_key);
  if (found == st.session_misses.end())
    return;
  auto waiters = std::move(found->second);
  st.session_misses.erase(found);
  log()->debug("session looked up valid={} waiters={}", answer.valid,
               waiters.size());
  for (auto& each : waiters)
    continue_after_session(self, answer, trusted_until, std::move(each));
}

// Waiters of either kind are filed under the key only while a lookup of it
// is under way; its answer serves them all.
bool lookup_in_flight(const state& st, const std::string& session_key) {
  return st.session_misses.count(session_key) > 0 ||
         st.refresh_misses.count(session_key) > 0;
}

// Reads the session from the directory; the answer goes to
// on_session_lookup. Call only when no lookup of the key is in flight.
void look_up(self_ptr self, const std::string& session_key) {
  auto& st = self->state;
  self->request(st.directory, caf::infinite, validate_atom::value, session_key)
      .then(
          [self, session_key](const session_lookup& answer) {
            on_session_lookup(self, session_key, answer);
          },
          [self, session_key](caf::error& err) {
            log()->warn("directory actor did not answer error={}",
                        describe(err));
            session_lookup failed;
            failed.failure = auth_failure::directory_failed;
            on_session_lookup(self, session_key, failed);
          });
}

template <class Map>
void erase_expired(Map& cache, state::clock::time_point now) {
  for (auto i = cache.begin(); i != cache.end();) {
    if (i->second.expires <= now)
      i = cache.erase(i);
    else
      ++i;
  }
}

void sweep(self_ptr self) {
  auto& st = self->state;
  auto now = state::clock::now();
  erase_expired(st.sessions, now);
  erase_expired(st.batch_organizations, now);
}

std::chrono::milliseconds sweep_interval(const auth_settings& settings) {
  return std::max(settings.session_ttl,
                  std::chrono::milliseconds{std::chrono::seconds{1}});
}

}  // namespace

caf::behavior session_auth(self_ptr self, caf::actor directory,
                           auth_settings settings,
                           std::shared_ptr<metrics> counters) {
  self->state.directory = std::move(directory);
  self->state.settings = settings;
  self->state.counters = std::move(counters);
  self->delayed_send(self, sweep_interval(settings), sweep_atom::value);

  return {
      [self](authorize_atom, const std::string& session_key,
             const std::string& batch_id) -> caf::result<auth_verdict> {
        if (session_key.empty())
          return refused(auth_failure::no_session);

        auto& st = self->state;
        auto promise = self->make_response_promise<auth_verdict>();
        state::session_waiter waiter{promise, batch_id};

        auto cached = st.sessions.find(session_key);
        if (cached != st.sessions.end()) {
          if (cached->second.expires > state::clock::now()) {
            st.counters->session_cache_hits.add();
            continue_after_session(self, cached->second.answer,
                                   cached->second.expires, std::move(waiter));
            return promise;
          }
          st.sessions.erase(cached);
        }
        st.counters->session_cache_misses.add();

        // A lookup under way answers this one too.
        auto in_flight = lookup_in_flight(st, session_key);
        st.session_misses[session_key].push_back(std::move(waiter));
        if (!in_flight)
          look_up(self, session_key);
        return promise;
      },
      [self](refresh_atom,
             const std::string& session_key) -> caf::result<session_lookup> {
        if (session_key.empty())
          return session_lookup{};  // no_session

        auto& st = self->state;
        auto now = state::clock::now();
        auto cached = st.sessions.find(session_key);
        if (cached != st.sessions.end() && cached->second.expires > now) {
          // A refusal stands as long as it is cached. A validation is read
          // again once it is half a TTL old: the rounds come every quarter
          // TTL, so the third round after a lookup reads it again, and a
          // session revoked just after a lookup is seen within three
          // quarters of a TTL (one lookup per three quarters of a TTL).
          auto margin = st.settings.session_ttl / 2;
          if (!cached->second.answer.valid ||
              cached->second.expires > now + margin)
            return cached->second.answer;
        }

        auto promise = self->make_response_promise<session_lookup>();
        auto in_flight = lookup_in_flight(st, session_key);
        st.refresh_misses[session_key].push_back(promise);
        if (!in_flight)
          look_up(self, session_key);
        return promise;
      },
      [self](refresh_batch_atom, const std::string& batch_id)
          -> caf::result<std::vector<std::string>> {
        // As for sessions: read again once half a TTL old, so a batch
        // moved or deleted just after a lookup is seen within three
        // quarters of a TTL.
        auto& st = self->state;
        auto margin = st.settings.session_ttl / 2;
        auto cached = st.batch_organizations.find(batch_id);
        if (cached != st.batch_organizations.end() &&
            cached->second.expires > state::clock::now() + margin)
          return std::vector<std::string>{cached->second.organization_id};

        auto promise = self->make_response_promise<std::vector<std::string>>();
        auto in_flight = batch_lookup_in_flight(st, batch_id);
        st.batch_refresh_misses[batch_id].push_back(promise);
        if (!in_flight)
          look_up_batch(self, batch_id);
        return promise;
      },
      [self](sweep_atom) {
        sweep(self);
        self->delayed_send(self, sweep_interval(self->state.settings),
                           sweep_atom::value);
      },
  };
}

std::chrono::milliseconds revalidation_interval(
    std::chrono::milliseconds session_ttl) {
  using std::chrono::milliseconds;
  if (session_ttl.count() <= 0)
    return std::chrono::seconds{1};
  return std::max(session_ttl / 4, milliseconds{100});
}

caf::actor spawn_session_auth(caf::actor_system& system, caf::actor directory,
                              auth_settings settings,
                              std::shared_ptr<metrics> counters) {
  return system.spawn(session_auth, std::move(directory), settings,
                      std::move(counters));
}

}  // namespace batchcast::actors
