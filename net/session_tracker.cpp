#include "net/session_tracker.hpp"

#include <vector>

namespace batchcast::net {

bool session_tracker::add(const std::shared_ptr<tracked_session>& session) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (stopping_)
    return false;
  sessions_[session.get()] = entry{session, true};
  ++open_;
  return true;
}

void session_tracker::finished(tracked_session* session) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto found = sessions_.find(session);
  if (found != sessions_.end() && found->second.open) {
    found->second.open = false;
    --open_;
    changed_.notify_all();
  }
}

std::size_t session_tracker::open() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return open_;
}

void session_tracker::close_all() {
  std::vector<std::shared_ptr<tracked_session>> live;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stopping_ = true;
    for (auto& [key, each] : sessions_) {
      if (auto session = each.session.lock(); session && each.open)
        live.push_back(std::move(session));
    }
  }
  // Outside the lock: dropping the last reference runs a destructor, which
  // takes the lock.
  for (auto& session : live)
    session->close(1001);
}

bool session_tracker::wait_until_idle(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock{mutex_};
  return changed_.wait_for(lock, limit, [this] { return open_ == 0; });
}

void session_tracker::release_all() {
  std::vector<std::shared_ptr<tracked_session>> alive;
  {
    std::unique_lock<std::mutex> lock{mutex_};
    stopping_ = true;
    for (auto each = sessions_.begin(); each != sessions_.end();) {
      auto session = each->second.session.lock();
      if (!session) {
        ++each;  // its destructor is running and will erase it
        continue;
      }
      session->release_io();
      if (each->second.open)
        --open_;
      alive.push_back(std::move(session));
      each = sessions_.erase(each);
    }
    changed_.wait(lock, [this] { return sessions_.empty(); });
  }
  // Dropped outside the lock, for the same reason as in close_all().
  alive.clear();
}

}  // namespace batchcast::net
