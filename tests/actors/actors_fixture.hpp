// The actor layer running against real storage: a state database and an
// embedded directory in a temporary folder, an actor system with the
// services started, and the verbs the tests are written in (connect,
// publish, fetch, group_count, ...).
//
// The directory holds two organizations, each with one batch, and these
// users, each with a session:
//   admin      staff, administers `org`
//   root       superuser, administers nothing
//   clerk      active but not staff
//   outsider   staff, administers `other_org` only
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/services.hpp"
#include "storage/directory_admin.hpp"
#include "tests/actors/counting_directory.hpp"
#include "tests/actors/fake_socket.hpp"
#include "tests/support/temp_dir.hpp"

namespace batchcast::actors::testing {

inline constexpr const char* secret_key = "actors-test-secret-key";

struct test_config : caf::actor_system_config {
  test_config();
};

struct watcher {
  std::shared_ptr<fake_socket> socket;
  caf::actor actor;
};

class actors_fixture {
 public:
  // `session_ttl`: how long session_auth trusts a validated session.
  explicit actors_fixture(
      std::chrono::milliseconds session_ttl = std::chrono::seconds{30});
  ~actors_fixture();

  // Spawns a connection actor for this session and batch, as net does for
  // an upgrade request. `report_closed`: see fake_socket. `watched`: false
  // leaves session_watch out, so only the connection's own check at
  // delivery guards against a revoked session.
  watcher connect(const std::string& session_key, const std::string& batch_id,
                  bool report_closed = true, bool watched = true);

  // Publishes and waits for the callback; fails the test on a failure.
  storage::batch_record publish(const std::string& batch_id,
                                storage::batch_status status);
  // Publishes and waits for the callback, whatever it brings.
  api_result try_publish(publish_request request);
  api_result fetch(const std::string& batch_id);

  // A new session of an existing user.
  std::string login(const std::string& username);
  // A new batch of `organization_id` in the directory.
  std::string add_batch(const std::string& organization_id);

  // Live batch groups, asked of the registry.
  std::uint64_t group_count();
  std::size_t running_actors();

  // Polls `done` until it holds, at most `limit`.
  static bool eventually(const std::function<bool()>& done,
                         std::chrono::milliseconds limit = wait_limit);
  // Waits until `actor` has terminated, at most `limit`.
  bool ended(const caf::actor& actor,
             std::chrono::milliseconds limit = wait_limit);

  // Stops the services now (the destructor does it otherwise).
  void stop();

  batchcast::testing::temp_dir dir;
  std::string db_path;
  runtime_settings settings;
  storage::directory_admin admin;

  std::string org, other_org;      // organization ids
  std::string batch, other_batch;  // one batch of each
  std::string admin_session, root_session, clerk_session, outsider_session;

  std::shared_ptr<counting_directory> directory;
  test_config config;
  caf::actor_system system;
  services running;
  // Actors running once the services are up: what the count returns to.
  std::size_t baseline = 0;

 private:
  std::vector<caf::actor> watchers_;  // every connection spawned
  int batches_added_ = 0;
  bool stopped_ = false;
};

// For BOOST_TEST messages.
std::string describe(const api_result& result);

}  // namespace batchcast::actors::testing

namespace batchcast::storage {

// Lets Boost.Test print a status in a failed check.
inline std::ostream& boost_test_print_type(std::ostream& out,
                                           batch_status status) {
  return out << to_string(status);
}

}  // namespace batchcast::storage
