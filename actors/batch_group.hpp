// batch_group: the one actor through which every join and publish for one
// batch passes, in order, so "check the stored status, then join" cannot
// race a publish. Spawned (linked) by the registry, which delegates to it:
// replies go straight to the original requester.
//
// Messages and replies:
//
//   (join_atom, std::string batch_id, caf::actor connection) -> std::string
//       "" when the connection joined and must wait: it will receive
//       (status_atom, std::string message) once, when the batch turns
//       terminal. Otherwise the batch is already terminal and the reply is
//       that one message (late joiner). errc::storage_failed when the
//       stored status could not be loaded (the client should retry).
//
//   (publish_atom, storage::batch_record) -> storage::batch_record
//       The record stored afterwards, replied once the commit is durable.
//       When the latest status is terminal, every member gets its message
//       and leaves the group: each connection receives at most one message
//       from a group, ever. A storage error goes to the publisher only;
//       members keep waiting.
//
//   (retire_atom)  from the registry: quit.
//
// Sends to the registry (idle_atom, std::string batch_id, std::uint64_t
// handled) whenever it has no members and nothing in flight, with the
// number of routed messages it has handled. It never quits on its own: the
// registry retires it only when that number matches what it routed, so a
// message already on its way is never lost with the group.
//
// On an exit message (the registry stopping) it lets saves in flight
// finish and answer their publishers, then quits; members see it go down.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/error.hpp>
#include <caf/stateful_actor.hpp>

#include "storage/batch_status.hpp"

namespace batchcast::actors {

struct batch_group_state {
  std::string batch_id;
  caf::actor registry;
  caf::actor store;

  // The latest committed record; nothing when the batch has none yet.
  std::optional<storage::batch_record> record;
  // False while the stored record is unknown (its load failed): joins are
  // then refused, since a terminal status might be missed. A commit makes
  // the record known again.
  bool loaded = false;

  // Connections waiting for the terminal status, by address (as down
  // messages name them).
  std::unordered_map<caf::actor_addr, caf::actor> members;
  std::size_t saves_in_flight = 0;

  std::uint64_t handled = 0;  // joins and publishes routed here
  std::uint64_t idle_reported_at = std::numeric_limits<std::uint64_t>::max();

  bool stopping = false;  // an exit message arrived
  caf::error stop_reason;

  std::string name;  // "batch_group:<batch id>", for CAF's diagnostics
};

caf::behavior batch_group(caf::stateful_actor<batch_group_state>* self,
                          std::string batch_id, caf::actor registry,
                          caf::actor store);

}  // namespace batchcast::actors
