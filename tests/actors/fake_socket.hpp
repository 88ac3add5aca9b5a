// A client_socket that records what the connection actor asked of it, for
// tests. Like net's ws_session it reports itself closed (socket_closed) once
// it has rejected, sent the final message or closed, unless told to stay
// open; so connection actors end as they would in production.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "actors/client_socket.hpp"

namespace batchcast::actors::testing {

inline constexpr std::chrono::seconds wait_limit{10};

class fake_socket : public client_socket {
 public:
  // What the socket was asked to do so far.
  struct calls {
    int accepts = 0;
    std::vector<unsigned> rejections;  // HTTP statuses
    std::vector<std::string> messages;
    std::vector<std::uint16_t> closes;  // close codes
    bool reported_closed = false;       // socket_closed was sent
  };

  // `report_closed`: call socket_closed after reject, send_final or close.
  explicit fake_socket(bool report_closed = true);

  // The connection actor to report to; set right after spawning it.
  void attach(caf::actor connection);

  void accept() override;
  void reject(unsigned http_status) override;
  void send_final(std::string message) override;
  void close(std::uint16_t code) override;

  calls snapshot() const;

  // Waits until `done` holds for the calls so far, at most `limit`.
  bool wait_for(const std::function<bool(const calls&)>& done,
                std::chrono::milliseconds limit = wait_limit);
  bool wait_for_message() {
    return wait_for([](const calls& c) { return !c.messages.empty(); });
  }
  bool wait_for_rejection() {
    return wait_for([](const calls& c) { return !c.rejections.empty(); });
  }
  bool wait_for_accept() {
    return wait_for([](const calls& c) { return c.accepts > 0; });
  }

 private:
  // With the lock held: the socket is done with; report it once the actor
  // is known.
  void finish_locked();
  void report_locked();

  const bool report_closed_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  calls calls_;
  caf::actor connection_;
  bool finished_ = false;
};

}  // namespace batchcast::actors::testing
