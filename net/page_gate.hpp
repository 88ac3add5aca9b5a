// Hands status page answers, which arrive on CAF threads, back to the
// public sessions waiting for them. While the actor side decides, the gate
// holds the session's way back to its strand (and with it the session);
// an answer is posted only while the gate is open. The server closes the
// gate, dropping every waiting session, after its I/O threads stopped and
// before the io_context goes, so a late answer never touches a dead
// io_context.
//
// Thread-safe: sessions wait from their strands, answers come from CAF
// threads, the server closes from its own thread.
#pragma once

#include <functional>
#include <mutex>
#include <unordered_map>

#include "net/status_page_handler.hpp"

namespace batchcast::net {

class page_gate {
 public:
  // Posts the answer to the waiting session's strand; called under the
  // gate's lock, so the io_context is alive while it runs.
  using post_back = std::function<void(page_response)>;

  // Keeps `post` until deliver() or close(). `key` names the waiting
  // session (its address; unique while it waits). False once closed.
  bool hold(const void* key, post_back post);

  // Posts `answer` to the session held under `key`, if it is still held.
  void deliver(const void* key, page_response answer);

  // Refuses to hold or deliver from now on, and drops what waits.
  void close();

 private:
  std::mutex mutex_;
  bool closed_ = false;
  std::unordered_map<const void*, post_back> waiting_;
};

}  // namespace batchcast::net
