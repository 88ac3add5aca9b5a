// A real batchcast node in-process, on loopback port 0, over an embedded
// directory in a temporary SQLite file, seeded with the cast every
// integration test needs. Tests talk to it only over real sockets.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "app/service.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_client.hpp"

namespace batchcast::testing {

inline const std::string fixture_secret_key =
    "integration-secret-key-0123456789abcdefghijklmnopqrstuvwxyz";
inline const std::string fixture_token = "integration-publish-token";

// What a browser on http://localhost sends to watch `batch_id` with
// `session`, for tests that write to a bare socket.
std::string browser_upgrade_request(const std::string& batch_id,
                                    const std::string& session);

class service_fixture {
 public:
  service_fixture();
  ~service_fixture();

  // Stops the node (closing sockets with 1001) and starts a new one on the
  // same database.
  void restart();

  // A new client's upgrade to watch `batch_id` with `session` (a session
  // key, or empty for no cookie). Returns the HTTP status.
  int connect(ws_client& client, const std::string& batch_id,
              const std::string& session,
              const std::string& origin = "http://localhost");
  // The same from another loopback address, such as "127.0.0.2".
  int connect_from(const std::string& source_address, ws_client& client,
                   const std::string& batch_id, const std::string& session);

  // POST .../status on the internal listener with the right token.
  http_result publish(const std::string& batch_id, const std::string& status);
  http_result fetch(const std::string& batch_id);

  // Polls `condition` every few milliseconds for up to `limit`.
  template <class Condition>
  bool eventually(Condition condition,
                  std::chrono::milliseconds limit = std::chrono::seconds{10});

  // Actors alive in the node right now.
  std::size_t running_actors();

  app::service& node() { return *node_; }
  std::uint16_t public_port() { return node_->public_port(); }
  std::uint16_t internal_port() { return node_->internal_port(); }

  // How long the node trusts a validated session; takes effect at the
  // next restart(), like the settings below.
  std::chrono::milliseconds session_ttl{std::chrono::seconds{30}};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds{60}};
  std::size_t max_connections = 50000;
  std::size_t max_connections_per_address = 1000;
  // The token GET /metrics requires (empty: none); takes effect at the
  // next restart().
  std::string metrics_token;

  temp_dir dir;
  std::string org_a, org_b;
  std::string batch_a, batch_b;
  // Sessions, one per kind of user.
  std::string manager_of_a;     // staff, administers org_a
  std::string superuser;        // staff superuser
  std::string staff_of_b;       // staff, administers org_b only
  std::string plain_member_a;   // staff, member of org_a but not admin
  std::string non_staff_super;  // superuser without is_staff
  std::string inactive_staff;   // administers org_a, inactive
  std::string expiring;         // manager of org_a, expires in 1 s

 private:
  void seed();
  void start();
  std::unique_ptr<app::service> node_;
};

template <class Condition>
bool service_fixture::eventually(Condition condition,
                                 std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return condition();
}

}  // namespace batchcast::testing
