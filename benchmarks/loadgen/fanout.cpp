// fanout: `connections` watchers on one batch, then one publish of
// `completed`. Latency is measured from the moment the publish request is
// written to each watcher's message, and to each watcher's close. Given
// several --url (the nodes of a cluster), the watchers are spread over
// them in turn and the publish goes to --publish-url alone.
#include <cstdio>

#include "benchmarks/loadgen/crowd.hpp"
#include "benchmarks/loadgen/stats.hpp"
#include "benchmarks/loadgen/system_probe.hpp"
#include "benchmarks/loadgen/workloads.hpp"

namespace batchcast::bench {

int run_fanout(run_context& context) {
  const auto& settings = context.settings();
  const auto& server = settings.server_label;
  const auto& batch = settings.batches.front();

  // A batch left terminal by an earlier run would answer every watcher at
  // once; re-running it makes them wait for the publish again.
  if (settings.reset && !publish_each(context, {batch}, "processing"))
    return exit_incomplete;

  crowd watchers{context,
                 profiles_of(settings),
                 {settings.connections, settings.concurrency,
                  [&](std::size_t) { return watch_path(batch); },
                  [&](std::size_t) { return settings.session; }}};
  auto opened = watchers.open(context.deadline());
  auto extra = "n=" + std::to_string(settings.connections) +
               " accepted=" + std::to_string(opened);
  if (opened != settings.connections) {
    std::fprintf(stderr, "loadgen: fanout: %zu of %zu watchers accepted\n",
                 opened, settings.connections);
  }
  context.pause(settings.settle_seconds);
  // A watcher the server let go before the publish cannot get the message;
  // say so, since the delivered count alone would not tell why.
  auto waiting = watchers.still_connected();
  if (waiting < opened)
    std::fprintf(stderr,
                 "loadgen: fanout: the server closed %zu of %zu watchers "
                 "before the publish\n",
                 opened - waiting, opened);

  // The client shares the cores with the server; its own CPU time over the
  // delivery says how much of the latency could be the client's.
  auto client_before = own_cpu_seconds();
  auto server_before = sample_processes(settings.server_pids);
  auto records = publish_all(context, *settings.publish, settings.token,
                             {{batch, "completed", settings.organization}}, 1,
                             context.deadline());
  if (records.empty() || records.front().http_status != 200) {
    std::fprintf(stderr, "loadgen: fanout: the publish was not accepted\n");
    watchers.drop_all();
    return records.empty() ? exit_deadline : exit_incomplete;
  }
  auto published = records.front().sent;
  bool all_closed = watchers.wait_finished(context.deadline());
  // Past the deadline some clients are still live; stopping the I/O
  // threads makes their records safe to read for the partial figures.
  if (!all_closed)
    context.stop();
  auto client_after = own_cpu_seconds();
  auto server_after = sample_processes(settings.server_pids);

  std::vector<double> delivery, closing;
  std::size_t silent = 0;  // ended without the message
  const client_record* first_silent = nullptr;
  for (const auto& client : watchers.clients()) {
    const auto& r = client->record();
    if (!client->upgraded())
      continue;
    if (r.got_message) {
      delivery.push_back(milliseconds_between(published, r.message));
    } else if (r.finished != clock_type::time_point{}) {
      ++silent;
      first_silent = first_silent ? first_silent : &r;
    }
    if (r.finished != clock_type::time_point{})
      closing.push_back(milliseconds_between(published, r.finished));
  }
  if (first_silent)
    std::fprintf(stderr,
                 "loadgen: fanout: %zu watchers ended without the message; "
                 "one of them %s %.0f ms after the publish (%s)\n",
                 silent, first_silent->closed_cleanly ? "was closed" : "failed",
                 milliseconds_between(published, first_silent->finished),
                 first_silent->error.c_str());
  print_figure(server, "fanout_publish_ack",
               milliseconds_between(published, records.front().acked), "ms",
               extra);
  print_latency(server, "fanout_delivery", summarize(delivery), extra);
  auto closes = summarize(closing);
  if (closes.count > 0)
    print_figure(server, "fanout_last_close", closes.max, "ms", extra);
  print_figure(server, "fanout_client_cpu",
               1000 * (client_after - client_before), "ms", extra);
  if (!settings.server_pids.empty() && server_before && server_after)
    print_figure(
        server, "fanout_server_cpu",
        1000 * (server_after->cpu_seconds - server_before->cpu_seconds), "ms",
        extra);
  print_figure(server, "fanout_delivered", static_cast<double>(delivery.size()),
               "count", extra);

  if (!all_closed) {
    note_deadline("fanout", "delivery");
    return exit_deadline;
  }
  return delivery.size() == settings.connections ? exit_ok : exit_incomplete;
}

}  // namespace batchcast::bench
