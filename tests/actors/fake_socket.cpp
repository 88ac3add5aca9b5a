#include "tests/actors/fake_socket.hpp"

#include "actors/services.hpp"

namespace batchcast::actors::testing {

fake_socket::fake_socket(bool report_closed) : report_closed_(report_closed) {}

void fake_socket::attach(caf::actor connection) {
  std::lock_guard<std::mutex> guard{mutex_};
  connection_ = std::move(connection);
  // The actor may have finished with us before the test attached it.
  report_locked();
}

void fake_socket::accept() {
  std::lock_guard<std::mutex> guard{mutex_};
  ++calls_.accepts;
  changed_.notify_all();
}

void fake_socket::reject(unsigned http_status) {
  std::lock_guard<std::mutex> guard{mutex_};
  calls_.rejections.push_back(http_status);
  finish_locked();
}

void fake_socket::send_final(std::string message) {
  std::lock_guard<std::mutex> guard{mutex_};
  calls_.messages.push_back(std::move(message));
  finish_locked();
}

void fake_socket::close(std::uint16_t code) {
  std::lock_guard<std::mutex> guard{mutex_};
  calls_.closes.push_back(code);
  finish_locked();
}

fake_socket::calls fake_socket::snapshot() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return calls_;
}

bool fake_socket::wait_for(const std::function<bool(const calls&)>& done,
                           std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock{mutex_};
  return changed_.wait_for(lock, limit, [&] { return done(calls_); });
}

void fake_socket::finish_locked() {
  finished_ = true;
  report_locked();
  changed_.notify_all();
}

void fake_socket::report_locked() {
  if (!report_closed_ || !finished_ || !connection_ || calls_.reported_closed)
    return;
  calls_.reported_closed = true;
  socket_closed(connection_);
  // Like net, the socket forgets its actor once it is gone.
  connection_ = nullptr;
}

}  // namespace batchcast::actors::testing
