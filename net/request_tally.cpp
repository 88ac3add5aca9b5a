#include "net/request_tally.hpp"

namespace batchcast::net {

struct request_tally::ticket::shared {
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t in_progress = 0;
  bool taking = true;
};

request_tally::ticket& request_tally::ticket::operator=(
    ticket&& other) noexcept {
  if (this != &other) {
    ticket ending{std::move(*this)};
    counts_ = std::move(other.counts_);
  }
  return *this;
}

request_tally::ticket::~ticket() {
  if (!counts_)
    return;
  std::lock_guard<std::mutex> guard{counts_->mutex};
  --counts_->in_progress;
  counts_->changed.notify_all();
}

request_tally::request_tally() : counts_{std::make_shared<ticket::shared>()} {}

std::optional<request_tally::ticket> request_tally::try_begin() {
  std::lock_guard<std::mutex> guard{counts_->mutex};
  if (!counts_->taking)
    return std::nullopt;
  ++counts_->in_progress;
  return ticket{counts_};
}

void request_tally::stop_taking() {
  std::lock_guard<std::mutex> guard{counts_->mutex};
  counts_->taking = false;
}

bool request_tally::taking() const {
  std::lock_guard<std::mutex> guard{counts_->mutex};
  return counts_->taking;
}

std::size_t request_tally::in_progress() const {
  std::lock_guard<std::mutex> guard{counts_->mutex};
  return counts_->in_progress;
}

bool request_tally::wait_until_none(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock{counts_->mutex};
  return counts_->changed.wait_for(
      lock, limit, [this] { return counts_->in_progress == 0; });
}

}  // namespace batchcast::net
