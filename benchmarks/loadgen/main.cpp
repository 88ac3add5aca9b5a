// loadgen: the batchcast load generator. It drives a server that speaks
// the OpenWISP RADIUS batch-status protocol (batchcast, or the Django
// Channels peer in benchmarks/peers/channels) over loopback only, and
// prints one line per figure:
//
//   figure=<name> value=<number> unit=<unit> server=<label> [key=value...]
//
// Workloads (--workload):
//
//   handshake  Upgrades per second at --concurrency. Each cycle connects,
//              upgrades on a batch that stays pending, sends a close frame
//              and waits for the server's; the rate counts accepted
//              upgrades over the pass's wall time, closes included.
//              cold: every cycle presents a session key not used before
//                    (--sessions-file; skipped without one), so the server
//                    validates each from its directory.
//              warm: one key (--session) over and over, after a warm-up.
//              -> handshake_rate_{cold,warm} (per_s),
//                 handshake_upgrade_{cold,warm}_{p50,p99,max} (ms, connect
//                 to 101)
//
//   idle       Opens --connections watchers on pending batches and holds
//              them for --hold-seconds. Reads VmRSS and CPU time of
//              --server-pid (several pids are summed) from /proc.
//              -> idle_connections (count still open at the end),
//                 idle_bytes_per_conn (RSS growth / connections),
//                 idle_rss (MiB), idle_cpu (% of one core while holding),
//                 idle_open_rate (per_s)
//
//   fanout     --connections watchers on the first batch; then one POST of
//              `completed` to the publish API. Times run from writing the
//              publish request. Several --url spread the watchers over a
//              cluster's nodes (client i on url i mod count).
//              -> fanout_delivery_{p50,p99,max} (ms to each message),
//                 fanout_last_close (ms to the last close), fanout_delivered,
//                 fanout_publish_ack (ms to the 200), fanout_client_cpu (ms
//                 of the loadgen's own CPU from publish to last close: the
//                 client shares the cores, so this bounds its share),
//                 fanout_server_cpu (the same for --server-pid, if given)
//
//   storm      --connections batches (from --batches-file), one watcher
//              each; then every batch is published at once over
//              --publish-concurrency keep-alive HTTP connections.
//              -> storm_publish_rate (durable publishes per second),
//                 storm_publish_ack_{p50,p99,max},
//                 storm_delivery_{p50,p99,max} (ms from a batch's publish
//                 request to its watcher's message), storm_delivered
//
// fanout and storm first publish `processing` for their batches (unless
// --no-reset), with --organization so a server may create unknown ones, so
// batches left terminal by an earlier run make watchers wait again.
//
// Every run is bounded: by its counts, and by --deadline-seconds for the
// whole process (the waits end there, and a watchdog exits 3 shortly
// after). Clients bind 127.0.0.2 ... 127.0.0.<1+sources> before connecting
// so tens of thousands of connections do not run out of source ports; the
// process raises its descriptor limit to the hard limit.
//
// Exit codes: 0 every step completed, 1 something failed (refused upgrades,
// missing messages, rejected publishes), 2 usage error, 3 deadline.
#include <cstdio>

#include "benchmarks/loadgen/options.hpp"
#include "benchmarks/loadgen/run_context.hpp"
#include "benchmarks/loadgen/system_probe.hpp"
#include "benchmarks/loadgen/workloads.hpp"

namespace bench = batchcast::bench;

int main(int argc, char** argv) {
  bench::options settings;
  if (int code = bench::parse_options(argc, argv, settings); code >= 0)
    return code;

  auto limit = bench::raise_descriptor_limit();
  if (limit < settings.connections + 64)
    std::fprintf(stderr,
                 "loadgen: warning: the descriptor limit is %llu; "
                 "--connections %zu may fail to open\n",
                 static_cast<unsigned long long>(limit), settings.connections);

  bench::run_context context{settings};
  int code = bench::exit_ok;
  if (settings.workload == "handshake")
    code = bench::run_handshake(context);
  else if (settings.workload == "idle")
    code = bench::run_idle(context);
  else if (settings.workload == "fanout")
    code = bench::run_fanout(context);
  else
    code = bench::run_storm(context);
  context.stop();
  return code;
}
