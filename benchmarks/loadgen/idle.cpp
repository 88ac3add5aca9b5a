// idle: opens `connections` watchers (spread over the given batches, none
// of which turns terminal) and holds them. The server's RSS is read before
// and after, the difference divided by the connections held; its CPU time
// is sampled over `hold-seconds` while nothing but pings happens.
#include <cstdio>

#include "benchmarks/loadgen/crowd.hpp"
#include "benchmarks/loadgen/stats.hpp"
#include "benchmarks/loadgen/system_probe.hpp"
#include "benchmarks/loadgen/workloads.hpp"

namespace batchcast::bench {

int run_idle(run_context& context) {
  const auto& settings = context.settings();
  const auto& server = settings.server_label;
  auto profile = profile_of(settings);

  auto before = sample_processes(settings.server_pids);
  if (!before) {
    std::fprintf(stderr, "loadgen: idle: cannot read /proc for the server\n");
    return exit_incomplete;
  }

  crowd watchers{
      context,
      {profile},
      {settings.connections, settings.concurrency,
       [&](std::size_t i) {
         return watch_path(settings.batches[i % settings.batches.size()]);
       },
       [&](std::size_t) { return settings.session; }}};
  auto opened = watchers.open(context.deadline());
  auto extra = "n=" + std::to_string(settings.connections);
  if (watchers.open_seconds() > 0)
    print_figure(server, "idle_open_rate",
                 static_cast<double>(opened) / watchers.open_seconds(), "per_s",
                 extra);

  // Let the server finish its per-connection setup before sampling.
  context.pause(settings.settle_seconds);
  auto loaded = sample_processes(settings.server_pids);
  context.pause(settings.hold_seconds);
  auto after_hold = sample_processes(settings.server_pids);
  auto held = watchers.still_connected();

  int result = held == settings.connections ? exit_ok : exit_incomplete;
  if (held < opened)
    std::fprintf(stderr,
                 "loadgen: idle: the server ended %zu of %zu connections "
                 "while they were held (is the batch terminal?)\n",
                 opened - held, opened);
  print_figure(server, "idle_connections", static_cast<double>(held), "count",
               extra);
  if (loaded && after_hold && held > 0) {
    auto grown = static_cast<double>(loaded->rss_bytes) -
                 static_cast<double>(before->rss_bytes);
    print_figure(server, "idle_bytes_per_conn",
                 grown / static_cast<double>(held), "bytes", extra);
    print_figure(server, "idle_rss",
                 static_cast<double>(loaded->rss_bytes) / (1024.0 * 1024.0),
                 "MiB", extra);
    if (settings.hold_seconds > 0)
      print_figure(server, "idle_cpu",
                   100.0 * (after_hold->cpu_seconds - loaded->cpu_seconds) /
                       settings.hold_seconds,
                   "pct_core", extra);
  } else {
    result = exit_incomplete;
  }

  if (clock_type::now() >= context.deadline()) {
    note_deadline("idle", "hold");
    result = exit_deadline;
  }
  // Leave politely, but do not wait long: the figures are already out.
  watchers.close_all();
  if (!watchers.wait_finished(context.within(30)))
    watchers.drop_all();
  return result;
}

}  // namespace batchcast::bench
