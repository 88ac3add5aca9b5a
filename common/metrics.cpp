#include "common/metrics.hpp"

#include <algorithm>

namespace batchcast {

void duration_histogram::observe(std::chrono::nanoseconds elapsed) noexcept {
  auto nanoseconds = std::max<std::int64_t>(elapsed.count(), 0);
  auto seconds = static_cast<double>(nanoseconds) / 1e9;
  auto slot = static_cast<std::size_t>(
      std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
  buckets_[slot].add();
  sum_ns_.add(static_cast<std::uint64_t>(nanoseconds));
}

handshake_outcome handshake_outcome_of(unsigned http_status) noexcept {
  switch (http_status) {
    case 101:
      return handshake_outcome::accepted;
    case 400:
      return handshake_outcome::bad_request;
    case 403:
      return handshake_outcome::forbidden;
    case 404:
      return handshake_outcome::not_found;
    case 405:
      return handshake_outcome::method_not_allowed;
    case 426:
      return handshake_outcome::upgrade_required;
    case 429:
      return handshake_outcome::too_many_requests;
    case 431:
      return handshake_outcome::header_too_large;
    case 503:
      return handshake_outcome::unavailable;
    default:
      return handshake_outcome::other;
  }
}

std::size_t api_response_slot(unsigned http_status) noexcept {
  auto found = std::find(api_response_codes.begin(), api_response_codes.end(),
                         http_status);
  return static_cast<std::size_t>(found - api_response_codes.begin());
}

void metrics::set_peers(std::vector<peer_state> peers) {
  std::lock_guard<std::mutex> guard{peer_mutex_};
  peers_ = std::move(peers);
}

void metrics::clear_peers() {
  std::lock_guard<std::mutex> guard{peer_mutex_};
  peers_.reset();
}

std::optional<std::vector<peer_state>> metrics::peers() const {
  std::lock_guard<std::mutex> guard{peer_mutex_};
  return peers_;
}

}  // namespace batchcast
