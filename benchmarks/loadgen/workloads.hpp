// The named workloads (documented at the top of main.cpp) and what they
// share. Each returns the process exit code: 0 when every step completed,
// 1 when the run finished but something failed (refused upgrades, missing
// messages, rejected publishes), 3 when the deadline cut it short.
#pragma once

#include <string>
#include <vector>

#include "benchmarks/loadgen/publisher.hpp"
#include "benchmarks/loadgen/run_context.hpp"
#include "benchmarks/loadgen/ws_client.hpp"

namespace batchcast::bench {

int run_handshake(run_context& context);
int run_idle(run_context& context);
int run_fanout(run_context& context);
int run_storm(run_context& context);

constexpr int exit_ok = 0;
constexpr int exit_incomplete = 1;
constexpr int exit_deadline = 3;

// "/ws/radius/batch/<id>/"
std::string watch_path(const std::string& batch);

// The first --url's profile, and one profile per --url.
shared_profile profile_of(const options& settings);
std::vector<shared_profile> profiles_of(const options& settings);

// Publishes `status` for each batch (with the configured organization, so
// the server may create unknown batches) and reports on stderr what went
// wrong. True when every publish was answered 200.
bool publish_each(run_context& context, const std::vector<std::string>& batches,
                  const std::string& status);

// Logs a step that did not finish in time, for the operator.
void note_deadline(const std::string& workload, const std::string& step);

}  // namespace batchcast::bench
