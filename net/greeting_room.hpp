// The connections to a node port that have not yet proved they hold the
// cluster secret, oldest first, and at most `room` of them: a connection
// that comes when the room is full pushes the oldest one out.
//
// Why: anything that reaches the node port may open connections and say
// nothing. Refused only by the gate's connection cap, a steady stream of
// them (each closed at the greeting deadline, a new one opened meanwhile)
// keeps the cap full, and a peer that restarts is refused at accept for
// as long as the stream lasts. Pushed out oldest first, such connections
// never hold more than `room` slots, and a node's own greeting, which
// completes in a round trip or two, is pushed out only if `room` newer
// connections arrive within that time.
//
// Thread-safe: sessions enter and leave from their own strands.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <utility>

namespace batchcast::net {

template <class Session>
class greeting_room {
 public:
  explicit greeting_room(std::size_t room) : room_{room} {}

  // Lets `session` in; returns the oldest session still greeting that
  // must leave to make room for it, or null. The caller closes that one
  // (on its own strand) and need not call leave() for it.
  std::shared_ptr<Session> enter(const std::shared_ptr<Session>& session) {
    std::lock_guard<std::mutex> guard{mutex_};
    greeting_.emplace_back(session.get(), session);
    while (greeting_.size() > room_) {
      auto oldest = greeting_.front().second.lock();
      greeting_.pop_front();
      if (oldest)
        return oldest;
      // Gone without leaving (its io_context stopped): no room to make.
    }
    return nullptr;
  }

  // `session` greeted, or closed; nothing when it was pushed out.
  void leave(const Session* session) {
    std::lock_guard<std::mutex> guard{mutex_};
    for (auto at = greeting_.begin(); at != greeting_.end(); ++at)
      if (at->first == session) {
        greeting_.erase(at);
        return;
      }
  }

  std::size_t room() const { return room_; }

  std::size_t size() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return greeting_.size();
  }

 private:
  mutable std::mutex mutex_;
  const std::size_t room_;
  std::list<std::pair<const Session*, std::weak_ptr<Session>>> greeting_;
};

}  // namespace batchcast::net
