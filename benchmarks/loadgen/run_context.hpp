// The machinery one run shares: a single io_context served by one or two
// threads, the run's hard deadline, and a small latch the main thread
// waits on between phases. All socket work is asynchronous on the I/O
// threads; the main thread only sequences phases and prints figures.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "benchmarks/loadgen/options.hpp"

namespace batchcast::bench {

using clock_type = std::chrono::steady_clock;

inline double milliseconds_between(clock_type::time_point from,
                                   clock_type::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// Counts events down to zero; any thread may arrive, one thread waits.
class countdown {
 public:
  explicit countdown(std::size_t count) : remaining_{count} {}

  void arrive();

  // True when the count reached zero before `limit`.
  bool wait_until(clock_type::time_point limit);

  std::size_t remaining();

 private:
  std::mutex mutex_;
  std::condition_variable zero_;
  std::size_t remaining_;
};

class run_context {
 public:
  // Starts the I/O threads and a watchdog that ends the process a few
  // seconds after the deadline if an orderly stop did not happen by then.
  explicit run_context(const options& settings);

  // Stops the io_context, abandoning whatever is in flight, and joins its
  // threads. Idempotent; the destructor calls it too.
  void stop();
  ~run_context() { stop(); }

  run_context(const run_context&) = delete;
  run_context& operator=(const run_context&) = delete;

  boost::asio::io_context& io() { return io_; }
  const options& settings() const { return settings_; }
  clock_type::time_point deadline() const { return deadline_; }

  // The earlier of the deadline and now + `seconds`.
  clock_type::time_point within(double seconds) const;

  // Sleeps for `seconds`, or less if the deadline comes first.
  void pause(double seconds) const;

 private:
  const options& settings_;
  clock_type::time_point deadline_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      work_;
  std::vector<std::thread> threads_;
};

}  // namespace batchcast::bench
