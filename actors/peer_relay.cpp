#include "actors/peer_relay.hpp"

#include <algorithm>

namespace batchcast::actors {

peer_relay::peer_relay(relay_limits limits, std::string own_origin)
    : limits_{limits}, own_origin_{std::move(own_origin)} {
  limits_.page_size = std::max<std::size_t>(1, limits_.page_size);
  limits_.pages_in_flight = std::max<std::size_t>(1, limits_.pages_in_flight);
  limits_.queued_records = std::max<std::size_t>(1, limits_.queued_records);
}

void peer_relay::push(const storage::batch_record& record) {
  if (queue_.size() < limits_.queued_records) {
    queue_.push_back(record);
    return;
  }
  // Full: let the whole queue go rather than only this record, so the
  // memory is given back at once; the store holds every one of them.
  auto oldest = record.updated_at_ms;
  for (const auto& queued : queue_)
    oldest = std::min(oldest, queued.updated_at_ms);
  queue_ = {};
  ++fell_behind_;
  fall_behind(oldest);
}

std::optional<peer_relay::records> peer_relay::next_live_page() {
  if (from_store_ || queue_.empty() || in_flight_ >= limits_.pages_in_flight)
    return std::nullopt;
  auto count = std::min(limits_.page_size, queue_.size());
  records page(std::make_move_iterator(queue_.begin()),
               std::make_move_iterator(queue_.begin() + count));
  queue_.erase(queue_.begin(), queue_.begin() + count);
  ++in_flight_;
  return page;
}

std::optional<std::int64_t> peer_relay::next_store_read() {
  if (!from_store_ || reading_ || in_flight_ >= limits_.pages_in_flight)
    return std::nullopt;
  reading_ = true;
  moved_back_ = false;
  return cursor_ms_;
}

peer_relay::records peer_relay::store_read_done(const records& read) {
  reading_ = false;
  records own;
  auto newest = cursor_ms_;
  for (const auto& record : read) {
    newest = std::max(newest, record.updated_at_ms);
    if (record.origin == own_origin_)
      own.push_back(record);
  }
  // A status let go while this read was out may be older than what the
  // read returned: read again from where the cursor moved back to.
  if (!moved_back_) {
    if (read.size() >= limits_.page_size) {
      // The next read starts at the newest time seen (>=, so records
      // sharing that millisecond are not skipped), unless the whole page
      // shared the cursor's millisecond, which would read it forever.
      cursor_ms_ = newest > cursor_ms_ ? newest : cursor_ms_ + 1;
    } else {
      from_store_ = false;
      cursor_ms_ = std::numeric_limits<std::int64_t>::max();
      caught_up_ = true;
    }
  }
  moved_back_ = false;
  if (!own.empty())
    ++in_flight_;
  return own;
}

void peer_relay::store_read_failed() {
  reading_ = false;
  moved_back_ = false;
}

void peer_relay::page_committed() {
  if (in_flight_ > 0)
    --in_flight_;
}

void peer_relay::page_failed(std::int64_t oldest_ms) {
  if (in_flight_ > 0)
    --in_flight_;
  fall_behind(oldest_ms);
}

bool peer_relay::take_caught_up() {
  auto caught_up = caught_up_;
  caught_up_ = false;
  return caught_up;
}

void peer_relay::fall_behind(std::int64_t from_ms) {
  if (!from_store_) {
    from_store_ = true;
    cursor_ms_ = from_ms;
    caught_up_ = false;
    return;
  }
  if (from_ms < cursor_ms_) {
    cursor_ms_ = from_ms;
    if (reading_)
      moved_back_ = true;
  }
}

}  // namespace batchcast::actors
