#include "benchmarks/loadgen/run_context.hpp"

#include <cstdio>
#include <cstdlib>

namespace batchcast::bench {

void countdown::arrive() {
  std::lock_guard lock{mutex_};
  if (remaining_ > 0 && --remaining_ == 0)
    zero_.notify_all();
}

bool countdown::wait_until(clock_type::time_point limit) {
  std::unique_lock lock{mutex_};
  return zero_.wait_until(lock, limit, [this] { return remaining_ == 0; });
}

std::size_t countdown::remaining() {
  std::lock_guard lock{mutex_};
  return remaining_;
}

namespace {

std::chrono::milliseconds seconds_to_ms(double seconds) {
  return std::chrono::milliseconds{static_cast<long long>(seconds * 1000)};
}

// The last resort of the hard deadline: if the orderly path (waits that end
// at the deadline, then teardown) hangs anyway, leave without cleanup.
void start_watchdog(clock_type::time_point deadline) {
  std::thread{[deadline] {
    std::this_thread::sleep_until(deadline + std::chrono::seconds{10});
    std::fprintf(stderr, "loadgen: hard deadline passed, exiting\n");
    std::_Exit(3);
  }}.detach();
}

}  // namespace

run_context::run_context(const options& settings)
    : settings_{settings},
      deadline_{clock_type::now() + seconds_to_ms(settings.deadline_seconds)},
      work_{boost::asio::make_work_guard(io_)} {
  start_watchdog(deadline_);
  for (unsigned i = 0; i < settings.threads; ++i)
    threads_.emplace_back([this] { io_.run(); });
}

void run_context::stop() {
  work_.reset();
  io_.stop();
  for (auto& thread : threads_)
    thread.join();
  threads_.clear();
}

clock_type::time_point run_context::within(double seconds) const {
  return std::min(deadline_, clock_type::now() + seconds_to_ms(seconds));
}

void run_context::pause(double seconds) const {
  std::this_thread::sleep_until(within(seconds));
}

}  // namespace batchcast::bench
