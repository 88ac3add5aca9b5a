#include "actors/readiness.hpp"

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "common/log.hpp"

namespace batchcast::actors {

namespace {

using self_ptr = caf::stateful_actor<readiness_state>*;
using state = readiness_state;

std::shared_ptr<spdlog::logger> log() {
  static auto instance = batchcast::logger("ready");
  return instance;
}

void log_change(self_ptr self, const readiness_report& report) {
  auto& st = self->state;
  if (report.ready() == st.was_ready)
    return;
  st.was_ready = report.ready();
  if (report.ready())
    log()->info("ready again: state database and directory answer");
  else
    log()->warn(
        "not ready state_store={} directory={}: /readyz answers 503 until "
        "both answer within {} ms",
        to_string(report.state_store), to_string(report.directory),
        st.settings.probe_timeout.count());
}

void finish_round(self_ptr self) {
  auto& st = self->state;
  st.probing = false;
  readiness_report report;
  report.state_store = st.store.answer.value_or(probe_result::timeout);
  report.directory = st.directory.answer.value_or(probe_result::timeout);
  st.latest = report;
  st.latest_at = state::clock::now();
  log_change(self, report);

  auto waiters = std::move(st.waiters);
  st.waiters.clear();
  for (auto& each : waiters)
    each.deliver(report);
}

void on_answer(self_ptr self, state::dependency& which, probe_result result) {
  auto& st = self->state;
  which.outstanding = false;
  if (!st.probing)
    return;  // came back after its round closed; the next round asks anew
  which.answer = result;
  if (st.store.answer && st.directory.answer)
    finish_round(self);
}

// Sends the probe unless the previous one is still on its way. The
// request has no CAF timeout: its late answer must still clear
// `outstanding`, while the round's own deadline decides "timeout".
void ask(self_ptr self, state::dependency state::*member) {
  auto& which = self->state.*member;
  which.answer.reset();
  if (which.outstanding)
    return;
  which.outstanding = true;
  self->request(which.target, caf::infinite, probe_atom::value)
      .then(
          [self, member](bool) {
            on_answer(self, self->state.*member, probe_result::ok);
          },
          [self, member](caf::error&) {
            on_answer(self, self->state.*member, probe_result::failed);
          });
}

void start_round(self_ptr self) {
  auto& st = self->state;
  st.probing = true;
  ++st.round;
  ask(self, &state::store);
  ask(self, &state::directory);
  self->delayed_send(self, st.settings.probe_timeout,
                     probe_deadline_atom::value, st.round);
}

}  // namespace

const char* to_string(probe_result result) {
  switch (result) {
    case probe_result::ok:
      return "ok";
    case probe_result::failed:
      return "failed";
    case probe_result::timeout:
      return "timeout";
  }
  return "failed";
}

caf::behavior readiness(self_ptr self, caf::actor store, caf::actor directory,
                        readiness_settings settings) {
  auto& st = self->state;
  st.store.target = std::move(store);
  st.directory.target = std::move(directory);
  st.settings = settings;

  return {
      [self](ready_atom) -> caf::result<readiness_report> {
        auto& st = self->state;
        if (st.latest &&
            state::clock::now() - st.latest_at < st.settings.cache_for)
          return *st.latest;
        auto promise = self->make_response_promise<readiness_report>();
        st.waiters.push_back(promise);
        if (!st.probing)
          start_round(self);
        return promise;
      },
      [self](probe_deadline_atom, std::uint64_t round) {
        auto& st = self->state;
        if (st.probing && round == st.round)
          finish_round(self);
      },
  };
}

caf::actor spawn_readiness(caf::actor_system& system, caf::actor store,
                           caf::actor directory, readiness_settings settings) {
  return system.spawn(readiness, std::move(store), std::move(directory),
                      settings);
}

}  // namespace batchcast::actors
