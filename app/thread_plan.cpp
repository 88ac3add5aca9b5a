#include "app/thread_plan.hpp"

#include <algorithm>
#include <thread>

namespace batchcast::app {

thread_plan plan_threads(int requested_io_threads, int requested_actor_threads,
                         unsigned cores) {
  int half = std::max(1, static_cast<int>(cores / 2));
  thread_plan plan;
  plan.io_threads = requested_io_threads > 0 ? requested_io_threads : half;
  plan.actor_threads =
      requested_actor_threads > 0 ? requested_actor_threads : half;
  return plan;
}

unsigned available_cores() {
  unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 ? cores : 2;
}

}  // namespace batchcast::app
