// Every WebSocket session of one server, so that stop() can close them all
// and wait for them, and so that no session keeps an Asio object past the
// io_context it belongs to (connection actors may hold a session longer
// than the server lives).
//
// Thread-safe: sessions register and finish on their strands, the server
// stops from its own thread, and a session's destructor may run on a CAF
// thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "actors/client_socket.hpp"

namespace batchcast::net {

// What the tracker asks of a WebSocket session, whatever its transport
// (implemented by ws_session).
class tracked_session : public actors::client_socket {
 public:
  // Frees the session's Asio objects; see ws_session::release_io.
  virtual void release_io() = 0;
};

class session_tracker {
 public:
  // Registers a session that has started its upgrade. Returns false once
  // the server is stopping: the caller then refuses the upgrade.
  bool add(const std::shared_ptr<tracked_session>& session);

  // The session's socket is finished; it no longer counts as open.
  void finished(tracked_session* session);

  // Called by a session's destructor: frees the session's Asio objects
  // (`release`) while holding the lock release_all() waits on, then
  // forgets the session.
  template <class Release>
  void forget(tracked_session* session, Release release);

  // Sessions added and not yet finished.
  std::size_t open() const;

  // Refuses new sessions from now on and asks every live one to go away
  // (1001, or 503 while still upgrading).
  void close_all();

  // Waits until no session is open, for at most `limit`. True if none is.
  bool wait_until_idle(std::chrono::milliseconds limit);

  // After the I/O threads have stopped: frees the Asio objects of every
  // session still alive, and waits for sessions being destroyed on other
  // threads to finish doing so. Afterwards the io_context may go.
  void release_all();

 private:
  struct entry {
    std::weak_ptr<tracked_session> session;
    bool open = true;
  };

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::unordered_map<tracked_session*, entry> sessions_;
  std::size_t open_ = 0;
  bool stopping_ = false;
};

template <class Release>
void session_tracker::forget(tracked_session* session, Release release) {
  std::lock_guard<std::mutex> guard{mutex_};
  release();
  auto found = sessions_.find(session);
  if (found != sessions_.end()) {
    if (found->second.open)
      --open_;
    sessions_.erase(found);
  }
  changed_.notify_all();
}

}  // namespace batchcast::net
