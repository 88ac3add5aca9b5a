#include "actors/directory_reader.hpp"

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/message_types.hpp"
#include "common/log.hpp"
#include "storage/storage_error.hpp"

namespace batchcast::actors {

namespace {

using self_ptr = caf::stateful_actor<directory_state>*;

// While the directory is down every lookup fails; one warning per interval
// is enough for an operator and keeps the log readable.
constexpr auto warning_interval = std::chrono::seconds{30};

std::shared_ptr<spdlog::logger> log() {
  static auto instance = batchcast::logger("auth");
  return instance;
}

std::int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

// The kinds of request, as bits of directory_state::failing.
enum request_kind : unsigned {
  session_request = 1,
  batch_request = 2,
  probe_request = 4,  // runs every lookup (storage::directory::check)
};

const char* name_of(request_kind kind) {
  switch (kind) {
    case session_request:
      return "session";
    case batch_request:
      return "batch";
    case probe_request:
      return "probe";
  }
  return "unknown";
}

// Only a file deleted, replaced or found corrupt under a SQLite directory
// outlasts every fix but a restart: the connection keeps reading the file
// it opened.
bool needs_restart(const std::exception& e) {
  auto* failure = dynamic_cast<const storage::storage_error*>(&e);
  return failure && failure->needs_restart();
}

void note_failure(self_ptr self, request_kind kind, const std::exception& e) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  auto* failure = dynamic_cast<const storage::storage_error*>(&e);
  if (failure && failure->corrupt()) {
    // Said once per file and process, by whoever found it first (in
    // standalone mode the state store may have): every lookup and probe
    // fails alike from now on.
    if (failure->first_notice())
      log()->error(
          "database file corrupt; whatever needs it (watchers, and publishes "
          "if it holds the state too) gets 503 and /readyz fails until "
          "batchcast is restarted on a good file directory={} "
          "lookup={} error={}",
          st.description, name_of(kind), e.what());
    st.restart_logged = true;
    st.failing |= kind;
    return;
  }
  if (needs_restart(e)) {
    // Nothing but a restart ends it, so saying it once is enough; every
    // kind of lookup fails alike from now on.
    if (!st.restart_logged)
      log()->error(
          "directory file deleted or replaced while in use; watchers are "
          "refused with 503 until batchcast is restarted, so restart it "
          "directory={} lookup={} error={}",
          st.description, name_of(kind), e.what());
    st.restart_logged = true;
    st.failing |= kind;
    return;
  }
  // A kind failing anew is news (a probe names what a session lookup may
  // not reach); the same failures again are not, within the interval.
  if ((st.failing & kind) == 0 || now - st.last_warning >= warning_interval) {
    log()->warn(
        "directory unreadable, watchers are refused with 503 until it "
        "answers again directory={} lookup={} error={}",
        st.description, name_of(kind), e.what());
    st.last_warning = now;
  }
  st.failing |= kind;
}

void note_success(self_ptr self, request_kind kind) {
  auto& st = self->state;
  if (st.failing == 0)
    return;
  st.failing &= kind == probe_request ? 0u : ~unsigned{kind};
  if (st.failing == 0)
    log()->info("directory readable again directory={}", st.description);
}

}  // namespace

caf::behavior directory_reader(self_ptr self,
                               std::shared_ptr<storage::directory> directory,
                               storage::session_settings settings,
                               std::string description) {
  self->state.directory = std::move(directory);
  self->state.settings = std::move(settings);
  self->state.description = std::move(description);

  return {
      [self](validate_atom, const std::string& session_key) {
        auto& st = self->state;
        session_lookup answer;
        try {
          auto verdict = storage::validate_session(*st.directory, st.settings,
                                                   session_key, now_unix_ms());
          note_success(self, session_request);
          if (auto* who = std::get_if<storage::principal>(&verdict)) {
            answer.valid = true;
            answer.who = std::move(*who);
          } else {
            answer.failure = std::get<storage::auth_failure>(verdict);
          }
        } catch (const std::exception& e) {
          // storage throws storage_error; anything else is treated alike so
          // this actor keeps serving and every waiter gets an answer.
          note_failure(self, session_request, e);
          answer.failure = storage::auth_failure::directory_failed;
        }
        return answer;
      },
      [self](batch_org_atom, const std::string& batch_id)
          -> caf::result<std::vector<std::string>> {
        auto& st = self->state;
        try {
          std::vector<std::string> found;
          if (auto organization = st.directory->batch_organization(batch_id))
            found.push_back(std::move(*organization));
          note_success(self, batch_request);
          return found;
        } catch (const std::exception& e) {
          note_failure(self, batch_request, e);
          return make_error(errc::directory_failed, e.what());
        }
      },
      [self](probe_atom) -> caf::result<bool> {
        try {
          self->state.directory->check();
          note_success(self, probe_request);
          return true;
        } catch (const std::exception& e) {
          note_failure(self, probe_request, e);
          return make_error(errc::directory_failed, e.what());
        }
      },
  };
}

caf::actor spawn_directory_reader(caf::actor_system& system,
                                  std::shared_ptr<storage::directory> directory,
                                  storage::session_settings settings,
                                  std::string description) {
  return system.spawn<caf::detached>(directory_reader, std::move(directory),
                                     std::move(settings),
                                     std::move(description));
}

}  // namespace batchcast::actors
