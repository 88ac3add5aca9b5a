// The actor side of batchcast, as the network layer and the application
// see it: start the long-lived actors, spawn one connection actor per
// upgrade request, publish and fetch statuses.
//
// Callbacks passed here run on a CAF scheduler thread; the network layer
// posts back to its own strand from them. None of these calls block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>

#include "actors/client_socket.hpp"
#include "actors/cluster_report.hpp"
#include "actors/message_types.hpp"
#include "actors/readiness.hpp"
#include "common/metrics.hpp"
#include "storage/batch_status.hpp"
#include "storage/directory.hpp"
#include "storage/session_validator.hpp"
#include "storage/sqlite_directory.hpp"

namespace batchcast::actors {

struct runtime_settings {
  std::string state_db_path = "batchcast.db";
  std::string directory_path = "batchcast.db";  // SQLite file
  // True when the directory lives in batchcast's own file (standalone
  // mode): publishes may then create unknown batches.
  bool standalone = true;
  storage::directory_tables tables;
  storage::session_settings session;
  std::string node_name = "node";  // recorded as the origin of publishes
  bool clustered = false;  // it has a node port: peers take its statuses
  std::chrono::milliseconds session_ttl{std::chrono::seconds{30}};
  std::chrono::milliseconds negative_ttl{std::chrono::seconds{2}};
  readiness_settings readiness;
};

// The long-lived actors. Handles are cheap to copy.
struct services {
  caf::actor store;         // detached; owns the state_store
  caf::actor directory;     // detached; owns the directory reader
  caf::actor session_auth;  // cache in front of `directory`
  caf::actor registry;      // batch id -> batch_group
  caf::actor cluster;       // null on a single node (see cluster.hpp)
  caf::actor readiness;     // probes store and directory for /readyz
  // Checks the sessions of open connections again, every half TTL.
  caf::actor session_watch;

  // The node's counters, made by start_services and shared with every
  // actor and session that counts into them; also read at each scrape.
  std::shared_ptr<metrics> counters;

  // Copied from the settings for publish(): the origin it records, and
  // whether it may add unknown batches to the embedded directory.
  std::string node_name = "node";
  bool standalone = true;
};

// Adds the message types the actors exchange; call on the config before
// the actor_system is made from it.
void register_message_types(caf::actor_system_config& config);

// Opens the databases and spawns the long-lived actors. Fails (with a
// message naming the file) when a database cannot be opened or migrated.
caf::expected<services> start_services(caf::actor_system& system,
                                       const runtime_settings& settings);

// The same with a directory the caller opened (PostgreSQL, or a test's
// instrumented one) instead of the SQLite file in `settings`. The state
// database and, in standalone mode, the embedded directory's writer are
// still opened from `settings`. The directory is used by one detached
// actor from then on. `description` names the directory in warnings an operator
// acts on (a URL without credentials).
caf::expected<services> start_services(
    caf::actor_system& system, const runtime_settings& settings,
    std::shared_ptr<storage::directory> directory,
    std::string description = "external directory");

// Whether the node can serve: see readiness.hpp. `done` is called exactly
// once, on a CAF thread; when the actor side cannot answer (it is
// stopping), every dependency reads as failed.
void check_ready(caf::actor_system& system, const services& running,
                 std::function<void(readiness_report)> done);

// Waits until every acknowledged status is committed, then stops the
// long-lived actors. Blocks the calling thread (not an actor's).
//
// Order: the registry first, which quits only after all its groups ended,
// each once its saves in flight were answered (connections still waiting
// see their group go and close their socket with 1001); then a flush of the
// store, then session_watch, session_auth, the directory and the store.
// Publishes arriving later fail with shutting_down. Connection actors end
// only on socket_closed, so the network layer must report every socket gone
// before the actor system is destroyed (its destructor waits for every
// actor).
void stop_services(caf::actor_system& system, const services& running);

// One WebSocket upgrade request that passed routing and the Origin check.
struct connection_request {
  std::uint64_t connection_id = 0;  // for logs
  std::string batch_id;             // canonical uuid
  std::string session_key;          // empty when there is no cookie
  std::string peer;                 // "address:port", for logs
};

// Spawns the actor that authenticates, admits and later notifies this one
// socket. The actor ends after socket_closed.
caf::actor spawn_connection(caf::actor_system& system, const services& running,
                            connection_request request,
                            client_socket_ptr socket);

// Tells a connection actor its socket is gone (closed, failed or timed
// out). Safe to call from any thread, more than once.
void socket_closed(const caf::actor& connection);

// Why the publish API could not do what was asked.
enum class api_failure {
  not_found,              // fetch: no stored status for that batch
  unknown_organization,   // publish with an organization the directory lacks
  organization_mismatch,  // the batch exists under another organization
  storage_failed,         // the state database failed; nothing acknowledged
  shutting_down,          // the service is stopping
};

const char* to_string(api_failure failure);

struct publish_request {
  std::string batch_id;  // canonical uuid
  storage::batch_status status = storage::batch_status::pending;
  std::string organization_id;  // canonical uuid or empty
};

using api_result = std::variant<storage::batch_record, api_failure>;
using api_callback = std::function<void(api_result)>;

// Stores the status (durably: the callback runs after the commit) and
// delivers it to the batch's watchers when terminal. The record gets
// origin = node_name, and its updated_at from the state store as it
// commits (after every stamp the store holds: see stamp_clock.hpp), so
// it replaces whatever the batch had.
// In standalone mode a non-empty organization first adds the batch to the
// embedded directory (unknown_organization, organization_mismatch); in
// other modes the organization is not used.
//
// `done` is called exactly once, on a CAF thread: with the committed
// record, or a failure (storage_failed, or shutting_down once the services
// are stopping).
void publish(caf::actor_system& system, const services& running,
             publish_request request, api_callback done);

// The stored record of one batch, or not_found. `done` as for publish.
void fetch(caf::actor_system& system, const services& running,
           std::string batch_id, api_callback done);

// This node's view of its cluster peers (for GET /cluster and metrics).
// On a single node the report says so and lists no peers. `done` is
// called exactly once, on a CAF thread; with nothing when the cluster
// actor cannot answer within a few seconds (it is stopping).
void cluster_status(caf::actor_system& system, const services& running,
                    std::function<void(std::optional<cluster_report>)> done);

// Whether `session_key` may watch `batch_id`: the same session_auth
// decision (and caches) as a WebSocket upgrade, for callers that are not
// a socket, such as the status page. `done` is called exactly once, on a
// CAF thread, with the verdict; when session_auth cannot answer (it is
// gone, or the services are stopping) the verdict is a refusal with
// directory_failed, which callers answer with 503 rather than 403.
void authorize(caf::actor_system& system, const services& running,
               std::string session_key, std::string batch_id,
               std::function<void(auth_verdict)> done);

}  // namespace batchcast::actors
