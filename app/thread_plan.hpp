// How many threads serve sockets and how many run actors, and how CAF's
// scheduler finds work for them.
//
// Both pools share the machine's cores with each other and with the
// kernel's network stack. Profiles of a 10,000-watcher fan-out on two cores
// showed that more threads than cores costs more than it gives: threads
// woke each other for every socket, and idle CAF workers of the default
// work-stealing scheduler polled for work, together a third of the server's
// CPU time. Half the cores for each pool, and the work-sharing scheduler
// (idle workers sleep on a condition variable), roughly halved that CPU
// time with no loss of handshake throughput.
#pragma once

namespace batchcast::app {

struct thread_plan {
  int io_threads = 1;
  int actor_threads = 1;
};

// Fills in the counts left at 0 ("automatic") from `cores`: half of them
// for each pool, at least one each.
thread_plan plan_threads(int requested_io_threads, int requested_actor_threads,
                         unsigned cores);

// The machine's core count as the standard library reports it; 2 when it
// cannot tell.
unsigned available_cores();

}  // namespace batchcast::app
