// registry: batch id -> batch_group. Routes every join and publish to the
// batch's group, spawning one when there is none, so a join and a publish
// for one batch always meet in one live actor.
//
// Messages and replies:
//
//   (join_atom, std::string batch_id, caf::actor connection)
//       -> std::string, answered by the group (see batch_group.hpp).
//   (publish_atom, storage::batch_record)
//       -> storage::batch_record, answered by the group after the commit.
//       With a cluster attached, the registry awaits the group's answer,
//       replies it, and then hands the stored record to the cluster, which
//       forwards it to the peers.
//   (apply_atom, storage::batch_record) -> storage::batch_record
//       A status from a cluster peer: routed to the group like a publish
//       (stored newest-wins, delivered if terminal) but never forwarded, so
//       statuses do not loop between nodes.
//   (attach_atom, caf::actor cluster)
//       Makes later local publishes go to `cluster` after their commit.
//   (idle_atom, std::string batch_id, std::uint64_t handled)  from a group:
//       retires it (erase, then retire_atom) when `handled` equals the
//       number of messages routed to it; otherwise some are still on their
//       way and the group will report again.
//   (count_atom) -> std::uint64_t
//       The number of live groups (tests, metrics).
//
// Groups are linked to the registry and monitored by it. An exit message to the
// registry (shutdown) stops every group, each after its saves in flight were
// answered, and the registry quits once the last one has ended: waiting
// for the registry waits for them all. Joins and publishes arriving
// meanwhile get errc::shutting_down. A group that dies on its own is
// forgotten, and the next message for its batch spawns a new one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/stateful_actor.hpp>

#include "common/metrics.hpp"

namespace batchcast::actors {

struct registry_state {
  struct entry {
    caf::actor group;
    std::uint64_t routed = 0;  // joins and publishes delegated to it
  };

  caf::actor store;
  caf::actor cluster;                 // null on a single node
  std::shared_ptr<metrics> counters;  // batch_groups follows groups.size()
  std::unordered_map<std::string, entry> groups;
  // Every group still running, retired or not, until its down message:
  // shutdown waits for them, and their linked exit messages are told apart
  // from the one that stops the registry.
  std::unordered_map<caf::actor_addr, std::string> running;

  // Set by an exit message: groups are being stopped, nothing is routed,
  // and the registry quits with `stop_reason` once the last group ended.
  bool stopping = false;
  caf::error stop_reason;

  const char* name = "batchcast.registry";
};

caf::behavior registry(caf::stateful_actor<registry_state>* self,
                       caf::actor store, std::shared_ptr<metrics> counters);

caf::actor spawn_registry(caf::actor_system& system, caf::actor store,
                          std::shared_ptr<metrics> counters);

}  // namespace batchcast::actors
