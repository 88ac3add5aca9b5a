// handshake: `concurrency` workers each repeat connect, upgrade, close
// until `connections` cycles ran or `duration-seconds` passed. The cold
// pass gives every cycle a session key the server has not seen (from
// --sessions-file), so each upgrade validates a session from scratch; the
// warm pass reuses one key, after a short unmeasured warm-up.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>

#include "benchmarks/loadgen/stats.hpp"
#include "benchmarks/loadgen/workloads.hpp"

namespace batchcast::bench {

namespace {

struct pass_plan {
  std::string name;  // cold, warm or warmup
  std::size_t cycles = 0;
  double seconds = 0;
  std::function<std::string(std::size_t)> session_for;
};

struct pass_outcome {
  std::size_t accepted = 0;
  std::size_t refused = 0;  // answered, but not with 101
  std::size_t failed = 0;   // no answer: connect or I/O error
  double seconds = 0;
  std::vector<double> upgrade_ms;
  bool in_time = true;
};

// Shared by every cycle of a pass; cycles reach it through weak pointers.
struct pass_state {
  pass_state(run_context& context, const pass_plan& plan)
      : context{context},
        plan{plan},
        profile{profile_of(context.settings())},
        path{watch_path(context.settings().batches.front())},
        sources{source_addresses(profile->server.address,
                                 context.settings().sources)},
        workers{context.settings().concurrency} {}

  run_context& context;
  pass_plan plan;
  shared_profile profile;
  std::string path;
  std::vector<boost::asio::ip::address> sources;
  clock_type::time_point stop_at{};
  std::atomic<std::size_t> next{0};
  countdown workers;

  std::mutex mutex;  // guards the fields below
  pass_outcome outcome;
  clock_type::time_point last_end{};

  void record(const ws_client& client) {
    const auto& r = client.record();
    std::lock_guard lock{mutex};
    if (client.upgraded()) {
      ++outcome.accepted;
      outcome.upgrade_ms.push_back(milliseconds_between(r.started, r.upgraded));
    } else if (r.http_status != 0) {
      ++outcome.refused;
    } else {
      ++outcome.failed;
    }
    last_end = std::max(last_end, r.finished);
  }
};

// One cycle of a worker; the client's end starts the worker's next cycle.
void start_cycle(const std::shared_ptr<pass_state>& state) {
  auto index = state->next.fetch_add(1);
  if (index >= state->plan.cycles || clock_type::now() >= state->stop_at) {
    state->workers.arrive();
    return;
  }
  std::weak_ptr<pass_state> weak = state;
  auto on_finished = [weak](ws_client& client) {
    if (auto shared = weak.lock()) {
      shared->record(client);
      start_cycle(shared);
    }
  };
  std::make_shared<ws_client>(state->context.io(), state->profile, state->path,
                              state->plan.session_for(index),
                              state->sources[index % state->sources.size()],
                              after_upgrade::close, nullptr, on_finished)
      ->start();
}

pass_outcome run_pass(run_context& context, const pass_plan& plan) {
  auto state = std::make_shared<pass_state>(context, plan);
  auto started = clock_type::now();
  state->stop_at = context.within(plan.seconds);
  for (std::size_t i = 0; i < context.settings().concurrency; ++i)
    start_cycle(state);
  // Cycles already started may run past stop_at; give them a little room
  // before calling it a deadline.
  bool in_time = state->workers.wait_until(context.within(plan.seconds + 30));

  std::lock_guard lock{state->mutex};
  auto outcome = state->outcome;
  outcome.in_time = in_time;
  outcome.seconds = milliseconds_between(started, state->last_end) / 1000;
  return outcome;
}

int report_pass(const options& settings, const std::string& name,
                pass_outcome& outcome) {
  auto extra = "accepted=" + std::to_string(outcome.accepted) +
               " concurrency=" + std::to_string(settings.concurrency);
  const auto& server = settings.server_label;
  if (outcome.seconds > 0)
    print_figure(server, "handshake_rate_" + name,
                 static_cast<double>(outcome.accepted) / outcome.seconds,
                 "per_s", extra);
  print_latency(server, "handshake_upgrade_" + name,
                summarize(outcome.upgrade_ms), extra);
  if (outcome.refused + outcome.failed > 0) {
    print_figure(server, "handshake_refused_" + name,
                 static_cast<double>(outcome.refused), "count", extra);
    print_figure(server, "handshake_failed_" + name,
                 static_cast<double>(outcome.failed), "count", extra);
  }
  if (!outcome.in_time) {
    note_deadline("handshake", name + " pass");
    return exit_deadline;
  }
  return outcome.refused + outcome.failed > 0 ? exit_incomplete : exit_ok;
}

}  // namespace

int run_handshake(run_context& context) {
  const auto& settings = context.settings();
  int worst = exit_ok;

  if (settings.sessions.size() > 1) {
    pass_plan cold{"cold",
                   std::min(settings.connections, settings.sessions.size()),
                   settings.duration_seconds,
                   [&](std::size_t i) { return settings.sessions[i]; }};
    auto outcome = run_pass(context, cold);
    worst = std::max(worst, report_pass(settings, "cold", outcome));
  } else {
    std::fprintf(stderr,
                 "loadgen: handshake: no --sessions-file with several keys, "
                 "skipping the cold pass\n");
  }

  auto same_session = [&](std::size_t) { return settings.session; };
  run_pass(context, {"warmup", settings.concurrency, settings.duration_seconds,
                     same_session});
  auto outcome = run_pass(context, {"warm", settings.connections,
                                    settings.duration_seconds, same_session});
  return std::max(worst, report_pass(settings, "warm", outcome));
}

}  // namespace batchcast::bench
