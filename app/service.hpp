// One running batchcast node: the actor system, the long-lived actors and
// both listeners, started and stopped in the right order. `batchcast serve`
// runs one; the integration tests run one in-process on port 0.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "actors/cluster.hpp"
#include "actors/services.hpp"
#include "app/state_claim.hpp"
#include "net/server.hpp"

namespace batchcast::app {

struct service_settings {
  actors::runtime_settings runtime;
  // When set, start() reads the directory from what this opens (a
  // PostgreSQL database) instead of runtime.directory_path. It may block
  // and throw; `directory_description` names it in logs and errors, so it
  // must hold no credentials.
  std::function<std::shared_ptr<storage::directory>()> open_directory;
  std::string directory_description;
  // network.io_threads and actor_threads of 0 take half the cores each
  // (see app/thread_plan.hpp).
  net::server_settings network;
  int actor_threads = 0;
  std::string actor_scheduler = "sharing";  // CAF: "sharing" or "stealing"
  // A node port of 0 (the default) runs a single node without CAF's
  // middleman.
  actors::cluster_settings cluster;
  // What the gates of a clustered node prove to other nodes' gates; not
  // empty when the node port is set.
  std::string cluster_secret;
};

class service {
 public:
  explicit service(service_settings settings);
  ~service();  // stops if still running
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  // Opens the databases, spawns the actors and binds both listeners.
  // Throws std::runtime_error with a message an operator can act on.
  void start();

  std::uint16_t public_port() const;
  std::uint16_t internal_port() const;

  // Stops accepting, closes open sockets with 1001 (waiting up to `grace`
  // for them), commits every acknowledged status and stops the actors.
  // Call it from the thread that called start(): with CAF 0.17 a stop from
  // another thread was seen to wait forever for the detached actors'
  // threads in the actor system's destructor.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds{5});

  caf::actor_system& system();
  const actors::services& actors() const;
  const net::server& network() const;

 private:
  // start_services with the directory the settings ask for.
  caf::expected<actors::services> open_services();

  service_settings settings_;
  // Held from before the state database is opened until after it is
  // closed (declared first, so destroyed last).
  std::optional<state_claim> claim_;
  std::unique_ptr<caf::actor_system_config> actor_config_;
  std::unique_ptr<caf::actor_system> system_;
  actors::services actors_;
  caf::actor cluster_;  // null on a single node
  std::unique_ptr<net::server> server_;
  bool running_ = false;
};

}  // namespace batchcast::app
