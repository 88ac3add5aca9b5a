// storm: `connections` batches with one watcher each; once all watch,
// every batch is published `completed` at once over `publish-concurrency`
// HTTP connections. Reports durable publishes per second (answers of 200
// over the span from the first request to the last answer) and, per
// batch, the time from its publish request to its watcher's message.
#include <algorithm>
#include <cstdio>

#include "benchmarks/loadgen/crowd.hpp"
#include "benchmarks/loadgen/stats.hpp"
#include "benchmarks/loadgen/workloads.hpp"

namespace batchcast::bench {

int run_storm(run_context& context) {
  const auto& settings = context.settings();
  const auto& server = settings.server_label;
  auto count = std::min(settings.connections, settings.batches.size());
  if (count < settings.connections)
    std::fprintf(stderr, "loadgen: storm: only %zu batch ids given\n", count);
  std::vector<std::string> batches(settings.batches.begin(),
                                   settings.batches.begin() + count);

  if (settings.reset && !publish_each(context, batches, "processing"))
    return exit_incomplete;

  crowd watchers{context,
                 {profile_of(settings)},
                 {count, settings.concurrency,
                  [&](std::size_t i) { return watch_path(batches[i]); },
                  [&](std::size_t) { return settings.session; }}};
  auto opened = watchers.open(context.deadline());
  if (opened != count)
    std::fprintf(stderr, "loadgen: storm: %zu of %zu watchers accepted\n",
                 opened, count);
  context.pause(settings.settle_seconds);

  std::vector<publish_job> jobs;
  for (const auto& batch : batches)
    jobs.push_back({batch, "completed", settings.organization});
  auto records = publish_all(context, *settings.publish, settings.token, jobs,
                             settings.publish_concurrency, context.deadline());
  if (records.empty()) {
    note_deadline("storm", "publishing");
    return exit_deadline;
  }
  bool all_closed = watchers.wait_finished(context.deadline());
  if (!all_closed)
    context.stop();  // makes the live clients' records safe to read

  auto first_sent = clock_type::time_point::max();
  auto last_acked = clock_type::time_point::min();
  std::vector<double> acks, delivery;
  for (std::size_t i = 0; i < count; ++i) {
    const auto& record = records[i];
    if (record.http_status != 200)
      continue;
    first_sent = std::min(first_sent, record.sent);
    last_acked = std::max(last_acked, record.acked);
    acks.push_back(milliseconds_between(record.sent, record.acked));
    const auto& watched = watchers.clients()[i]->record();
    if (watched.got_message)
      delivery.push_back(milliseconds_between(record.sent, watched.message));
  }

  auto extra = "n=" + std::to_string(count) +
               " publishers=" + std::to_string(settings.publish_concurrency);
  auto accepted = count_accepted(records);
  auto span_seconds =
      accepted > 0 ? milliseconds_between(first_sent, last_acked) / 1000 : 0;
  if (span_seconds > 0)
    print_figure(server, "storm_publish_rate",
                 static_cast<double>(accepted) / span_seconds, "per_s", extra);
  print_latency(server, "storm_publish_ack", summarize(acks), extra);
  print_latency(server, "storm_delivery", summarize(delivery), extra);
  print_figure(server, "storm_delivered", static_cast<double>(delivery.size()),
               "count", extra);

  if (!all_closed) {
    note_deadline("storm", "delivery");
    return exit_deadline;
  }
  return delivery.size() == count ? exit_ok : exit_incomplete;
}

}  // namespace batchcast::bench
