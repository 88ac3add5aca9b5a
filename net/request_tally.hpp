// The requests of one listener handed on to be answered and not yet
// answered, so that stopping can let them finish: a producer whose
// publish is committed while the node stops should get its answer, not a
// reset connection that makes it doubt the commit. Once stopping, no
// request is handed on any more: each is refused instead, so the ones in
// progress are all there is to wait for.
//
// Thread-safe: requests begin and end on I/O strands, and a session
// holding a request may be destroyed on any thread, even after the
// server; the server waits from its own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>

namespace batchcast::net {

class request_tally {
 public:
  // One request in progress; it ends when the ticket is destroyed.
  class ticket {
   public:
    ticket() = default;
    ticket(const ticket&) = delete;
    ticket& operator=(const ticket&) = delete;
    ticket(ticket&& other) noexcept = default;
    ticket& operator=(ticket&& other) noexcept;
    ~ticket();

   private:
    friend class request_tally;
    struct shared;
    explicit ticket(std::shared_ptr<shared> counts) : counts_{counts} {}
    std::shared_ptr<shared> counts_;
  };

  request_tally();

  // A ticket for a request about to be handed on; nothing once
  // stop_taking() was called.
  std::optional<ticket> try_begin();

  // From now on try_begin() refuses.
  void stop_taking();
  bool taking() const;

  std::size_t in_progress() const;

  // Waits until no request is in progress, for at most `limit`. True if
  // none is.
  bool wait_until_none(std::chrono::milliseconds limit);

 private:
  std::shared_ptr<ticket::shared> counts_;
};

}  // namespace batchcast::net
