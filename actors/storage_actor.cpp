#include "actors/storage_actor.hpp"

#include <algorithm>
#include <iterator>

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/message_types.hpp"
#include "common/log.hpp"
#include "common/log_throttle.hpp"
#include "storage/storage_error.hpp"
#include "storage/uuid.hpp"

namespace batchcast::actors {

namespace {

using self_ptr = caf::stateful_actor<storage_state>*;

std::shared_ptr<spdlog::logger> log() {
  static auto instance = batchcast::logger("store");
  return instance;
}

// One commit attempt waits this long for a write lock another process
// holds, and the next attempt comes this much later: loads and changes
// queued behind a locked commit are barely delayed.
constexpr std::chrono::milliseconds brief_lock_wait{20};
constexpr std::chrono::milliseconds lock_retry_interval{30};

enum class lock_wait {
  brief,        // a lock held elsewhere keeps the saves queued for a retry
  up_to_limit,  // wait as long as the oldest save may (shutdown: no retry)
};

using pending_saves = std::vector<storage_state::pending_save>;

void refuse(pending_saves& saves, const caf::error& err) {
  for (auto& each : saves)
    each.promise.deliver(err);
}

// The write lock stayed taken for a whole brief attempt: saves past
// lock_wait_limit are refused, the others go back to the queue (before
// anything newer) and a retry is scheduled.
void wait_for_lock(self_ptr self, pending_saves batch, const char* why) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  pending_saves expired;
  pending_saves waiting;
  for (auto& each : batch)
    (now - each.received >= lock_wait_limit ? expired : waiting)
        .push_back(std::move(each));
  std::move(st.pending.begin(), st.pending.end(), std::back_inserter(waiting));
  st.pending = std::move(waiting);

  if (!st.write_locked_since)
    st.write_locked_since = now;
  if (!st.waiting_for_lock)
    log()->warn(
        "state database locked by another connection path={}; saves wait up "
        "to {} ms for it",
        st.path, lock_wait_limit.count());
  if (!expired.empty()) {
    log()->error(
        "commit failed records={} path={} error=write lock still held by "
        "another connection after {} ms ({})",
        expired.size(), st.path, lock_wait_limit.count(), why);
    st.counters->commit_failures.add();
    refuse(expired, make_error(errc::storage_failed, why));
  }
  st.waiting_for_lock = !st.pending.empty();
  if (st.waiting_for_lock) {
    st.commit_scheduled = true;
    self->delayed_send(self, lock_retry_interval, commit_atom::value);
  }
}

// A corrupt state database fails every call until a restart. The call
// that found it says so once, as an error an operator acts on; the
// failures after it are only counted and answered, not logged. True for
// a corruption error.
bool corruption_told(self_ptr self, const std::exception& e) {
  auto* failure = dynamic_cast<const storage::storage_error*>(&e);
  if (failure == nullptr || !failure->corrupt())
    return false;
  if (failure->first_notice())
    log()->error(
        "database file corrupt; whatever needs it (publishes, and "
        "watchers if it holds the directory too) gets 503 and /readyz fails "
        "until batchcast is restarted on a good file path={} error={}",
        self->state.path, e.what());
  return true;
}

// A full disk fails every commit, one for each publish that keeps coming:
// a few lines tell the operator, the metrics count them all.
log_throttle commit_failures_logged;

void commit_failed(self_ptr self, pending_saves& batch,
                   const std::exception& e) {
  auto& st = self->state;
  const char* why = e.what();
  auto held_back =
      corruption_told(self, e) ? std::nullopt : commit_failures_logged.admit();
  if (held_back)
    log()->error("commit failed records={} path={} error={}{}", batch.size(),
                 st.path, why, log_throttle::held_back_note(*held_back));
  st.counters->commit_failures.add();
  st.waiting_for_lock = false;
  refuse(batch, make_error(errc::storage_failed, why));
}

// Commits every queued save in one transaction and answers each request:
// with the stored record after the commit, or with the error when the
// transaction failed (then none of them was acknowledged).
void commit_pending(self_ptr self, lock_wait how) {
  auto& st = self->state;
  st.commit_scheduled = false;
  if (st.pending.empty())
    return;

  auto batch = std::move(st.pending);
  st.pending.clear();
  std::vector<storage::batch_record> records;
  records.reserve(batch.size());
  for (auto& each : batch)
    records.push_back(each.record);

  auto wait = std::chrono::milliseconds{brief_lock_wait};
  if (how == lock_wait::up_to_limit) {
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - batch.front().received);
    wait = std::max(lock_wait_limit - waited, brief_lock_wait);
  }

  try {
    auto started = std::chrono::steady_clock::now();
    auto stored = st.store->save_all(records, wait);
    st.counters->commit_duration.observe(std::chrono::steady_clock::now() -
                                         started);
    if (stored.size() != batch.size())
      throw storage::storage_error(
          "save_all returned " + std::to_string(stored.size()) +
          " records for " + std::to_string(batch.size()));
    for (std::size_t i = 0; i < batch.size(); ++i)
      batch[i].promise.deliver(std::move(stored[i]));
    if (st.waiting_for_lock)
      log()->info("state database writable again path={}", st.path);
    st.waiting_for_lock = false;
    st.write_locked_since.reset();
    log()->debug("committed records={} path={}", batch.size(), st.path);
  } catch (const storage::storage_error& e) {
    if (e.lock_timed_out() && how == lock_wait::brief)
      return wait_for_lock(self, std::move(batch), e.what());
    commit_failed(self, batch, e);
  } catch (const std::exception& e) {
    // Anything else is treated alike, so the actor lives on and no saver
    // is left without an answer.
    commit_failed(self, batch, e);
  }
}

// Read-your-writes for loads and changes, unless the last commit found
// the lock taken: then the read goes ahead without the queued saves (none
// of them was acknowledged yet) instead of waiting for the lock.
void commit_before_read(self_ptr self) {
  if (!self->state.waiting_for_lock)
    commit_pending(self, lock_wait::brief);
}

}  // namespace

caf::behavior storage_actor(self_ptr self,
                            std::shared_ptr<storage::state_store> store,
                            std::shared_ptr<storage::directory_admin> admin,
                            std::string path,
                            std::shared_ptr<metrics> counters) {
  self->state.store = std::move(store);
  self->state.admin = std::move(admin);
  self->state.path = std::move(path);
  self->state.counters = std::move(counters);

  // Whatever was acknowledged as queued gets its commit before we go.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    commit_pending(self, lock_wait::up_to_limit);
    self->quit(msg.reason);
  });

  return {
      [self](load_atom, const std::string& batch_id)
          -> caf::result<std::vector<storage::batch_record>> {
        // Read-your-writes: a save received earlier is committed first.
        commit_before_read(self);
        try {
          std::vector<storage::batch_record> found;
          if (auto record = self->state.store->load(batch_id))
            found.push_back(std::move(*record));
          return found;
        } catch (const std::exception& e) {
          if (!corruption_told(self, e))
            log()->error("load failed batch={} path={} error={}", batch_id,
                         self->state.path, e.what());
          return make_error(errc::storage_failed, e.what());
        }
      },
      [self](changes_atom, std::int64_t since_ms, std::uint64_t limit)
          -> caf::result<std::vector<storage::batch_record>> {
        // A peer catching up must see every save received before it.
        commit_before_read(self);
        try {
          return self->state.store->changed_since(
              since_ms, static_cast<std::size_t>(limit));
        } catch (const std::exception& e) {
          if (!corruption_told(self, e))
            log()->error("changes failed since={} path={} error={}", since_ms,
                         self->state.path, e.what());
          return make_error(errc::storage_failed, e.what());
        }
      },
      [self](commits_atom, std::uint64_t after_seq,
             std::uint64_t limit) -> caf::result<storage::commit_page> {
        // A peer catching up must see every save received before it.
        commit_before_read(self);
        try {
          return self->state.store->committed_after(
              after_seq, static_cast<std::size_t>(limit));
        } catch (const std::exception& e) {
          if (!corruption_told(self, e))
            log()->error("reading writes failed after={} path={} error={}",
                         after_seq, self->state.path, e.what());
          return make_error(errc::storage_failed, e.what());
        }
      },
      [self](save_atom, storage::batch_record& record)
          -> caf::result<storage::batch_record> {
        auto& st = self->state;
        // One bad id would fail the whole shared transaction, so it is
        // refused here, alone.
        if (!storage::is_canonical_uuid(record.batch_id))
          return make_error(errc::invalid_batch_id, record.batch_id);
        auto promise = self->make_response_promise<storage::batch_record>();
        st.pending.push_back(
            {std::move(record), promise, std::chrono::steady_clock::now()});
        // The commit message lands behind everything already in the mailbox,
        // so saves that arrived together share one transaction and fsync.
        if (!st.commit_scheduled) {
          st.commit_scheduled = true;
          self->send(self, commit_atom::value);
        }
        return promise;
      },
      [self](commit_atom) { commit_pending(self, lock_wait::brief); },
      [self](probe_atom) -> caf::result<store_probe> {
        // Not logged here: readiness logs when the answer changes, which
        // a probe every second would otherwise drown.
        auto& st = self->state;
        try {
          st.store->check();
          // Reads go on under another process's write lock (WAL), so only
          // a write attempt tells whether publishes could commit.
          auto now = std::chrono::steady_clock::now();
          if (st.store->write_lock_available(brief_lock_wait)) {
            st.write_locked_since.reset();
            return store_probe{};
          }
          if (!st.write_locked_since)
            st.write_locked_since = now;
          return store_probe{
              true, std::chrono::duration_cast<std::chrono::milliseconds>(
                        now - *st.write_locked_since)};
        } catch (const std::exception& e) {
          corruption_told(self, e);
          return make_error(errc::storage_failed, e.what());
        }
      },
      [self](flush_atom) -> caf::result<caf::unit_t> {
        // A failed commit answers its own savers with the error; the flush
        // only promises that nothing is left queued behind it.
        commit_pending(self, lock_wait::up_to_limit);
        return caf::unit;
      },
      [self](ensure_batch_atom, const std::string& batch_id,
             const std::string& organization_id) -> caf::result<bool> {
        auto& st = self->state;
        if (!st.admin)
          return false;
        try {
          return st.admin->ensure_batch(batch_id, organization_id);
        } catch (const std::exception& e) {
          // A failed transaction whose publish gets 503, as a failed
          // commit is: counted and logged alike.
          st.counters->commit_failures.add();
          auto* failure = dynamic_cast<const storage::storage_error*>(&e);
          auto held_back = corruption_told(self, e)
                               ? std::nullopt
                               : commit_failures_logged.admit();
          if (held_back)
            log()->error(
                "creating batch failed batch={} path={} error={}{}", batch_id,
                st.path,
                failure != nullptr && failure->lock_timed_out()
                    ? std::string{"write lock held by another connection "
                                  "for the whole wait: "} +
                          e.what()
                    : std::string{e.what()},
                log_throttle::held_back_note(*held_back));
          return make_error(errc::storage_failed, e.what());
        }
      },
  };
}

caf::actor spawn_storage_actor(caf::actor_system& system,
                               std::shared_ptr<storage::state_store> store,
                               std::shared_ptr<storage::directory_admin> admin,
                               std::string path,
                               std::shared_ptr<metrics> counters) {
  return system.spawn<caf::detached>(storage_actor, std::move(store),
                                     std::move(admin), std::move(path),
                                     std::move(counters));
}

}  // namespace batchcast::actors
