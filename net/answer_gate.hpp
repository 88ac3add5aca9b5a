// Hands answers that arrive on CAF threads back to the sessions waiting for
// them on I/O strands. While the actor side decides, the gate holds each
// waiting session's way back to its strand (and with it the session); an
// answer is posted only while the gate is open. The server closes the gate,
// dropping every waiting session, after its I/O threads stopped and before
// the io_context goes, so a late answer never touches a dead io_context.
//
// `Answer` is what the actor side answers with: a publish API response for
// the internal listener, a status page or /readyz response for the public
// one. Each listener has a gate of its own.
//
// Thread-safe: sessions wait from their strands, answers come from CAF
// threads, the server closes from its own thread.
#pragma once

#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace batchcast::net {

template <class Answer>
class answer_gate {
 public:
  // Posts the answer to the waiting session's strand; called under the
  // gate's lock, so the io_context is alive while it runs.
  using post_back = std::function<void(Answer)>;

  // Keeps `post` until deliver() or close(). `key` names the waiting
  // session (its address; unique while it waits). False once closed.
  bool hold(const void* key, post_back post) {
    std::lock_guard<std::mutex> guard{mutex_};
    if (closed_)
      return false;
    waiting_[key] = std::move(post);
    return true;
  }

  // Posts `answer` to the session held under `key`, if it is still held.
  void deliver(const void* key, Answer answer) {
    std::lock_guard<std::mutex> guard{mutex_};
    auto found = waiting_.find(key);
    if (closed_ || found == waiting_.end())
      return;
    // Under the lock: close() cannot run meanwhile, so the io_context the
    // session's strand belongs to is still there. `post` may still hold the
    // session once it ran, and goes before the lock does: were it to
    // outlive the lock, the server could be destroyed meanwhile and leave
    // it the last holder, freeing the session on this thread after the
    // io_context, and the connection limits, it uses.
    auto post = std::move(found->second);
    waiting_.erase(found);
    post(std::move(answer));
  }

  // Refuses to hold or deliver from now on, and drops what waits.
  void close() {
    std::unordered_map<const void*, post_back> dropped;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      closed_ = true;
      dropped.swap(waiting_);
    }
    // The sessions go here, outside the lock, while the io_context they
    // belong to still exists.
  }

 private:
  std::mutex mutex_;
  bool closed_ = false;
  std::unordered_map<const void*, post_back> waiting_;
};

}  // namespace batchcast::net
