#include "actors/readiness.hpp"

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/message_types.hpp"
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
        "not ready state_store={} directory={} ({}): /readyz answers 503 "
        "until both answer within {} ms and the state database can take a "
        "write{}{}",
        to_string(report.state_store), to_string(report.directory),
        describe_not_ready(report), st.settings.probe_timeout.count(),
        // The probes' own errors, which /readyz keeps to itself: they
        // name files, and the public listener answers /readyz too.
        report.state_store == probe_result::failed
            ? "; state database: " + st.store.failure
            : std::string{},
        report.directory == probe_result::failed
            ? "; directory: " + st.directory.failure
            : std::string{});
}

void finish_round(self_ptr self) {
  auto& st = self->state;
  st.probing = false;
  readiness_report report;
  report.state_store = st.store.answer.value_or(probe_result::timeout);
  report.directory = st.directory.answer.value_or(probe_result::timeout);
  if (report.state_store == probe_result::write_locked)
    report.state_store_locked_for = st.store_locked_for;
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
// `judge` turns the reply into the dependency's result.
template <class Reply, class Judge>
void ask(self_ptr self, state::dependency state::*member, Judge judge) {
  auto& which = self->state.*member;
  which.answer.reset();
  if (which.outstanding)
    return;
  which.outstanding = true;
  self->request(which.target, caf::infinite, probe_atom::value)
      .then(
          [self, member, judge](Reply& reply) {
            on_answer(self, self->state.*member, judge(reply));
          },
          [self, member](caf::error& err) {
            (self->state.*member).failure = describe(err);
            on_answer(self, self->state.*member, probe_result::failed);
          });
}

void start_round(self_ptr self) {
  auto& st = self->state;
  st.probing = true;
  ++st.round;
  ask<store_probe>(self, &state::store, [self](const store_probe& probe) {
    if (!probe.write_locked)
      return probe_result::ok;
    self->state.store_locked_for = probe.locked_for;
    return probe_result::write_locked;
  });
  ask<bool>(self, &state::directory, [](bool) { return probe_result::ok; });
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
    case probe_result::write_locked:
      return "write_locked";
  }
  return "failed";
}

std::string describe_not_ready(const readiness_report& report) {
  std::string reasons;
  auto add = [&reasons](const std::string& clause) {
    if (!reasons.empty())
      reasons += "; ";
    reasons += clause;
  };
  switch (report.state_store) {
    case probe_result::ok:
      break;
    case probe_result::write_locked:
      add("state database write-locked by another process for " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                             report.state_store_locked_for)
                             .count()) +
          " s");
      break;
    case probe_result::failed:
      add("state database failed its check (the log says why)");
      break;
    case probe_result::timeout:
      add("state database did not answer in time");
      break;
  }
  switch (report.directory) {
    case probe_result::ok:
      break;
    case probe_result::failed:
    case probe_result::write_locked:  // never reported for the directory
      add("directory failed a read");
      break;
    case probe_result::timeout:
      add("directory did not answer in time");
      break;
  }
  return reasons;
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
