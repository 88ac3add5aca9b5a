// What every listener and session of one server shares: the settings, the
// actor side, the Origin rules, the session tracker and the counters. Built
// once by the server; sessions hold it by shared_ptr because connection actors
// may keep a session alive after the server is gone.
#pragma once

#include <atomic>
#include <memory>

#include <caf/actor_system.hpp>

#include "actors/services.hpp"
#include "net/answer_gate.hpp"
#include "net/connection_limits.hpp"
#include "net/origin.hpp"
#include "net/server.hpp"
#include "net/session_tracker.hpp"
#include "net/status_page_handler.hpp"

namespace batchcast::net {

struct server_context {
  server_context(caf::actor_system& actor_system, actors::services running,
                 server_settings config)
      : system{actor_system},
        services{std::move(running)},
        settings{std::move(config)},
        origins{settings.allowed_hosts},
        limits{
            {settings.max_connections, settings.max_connections_per_address}},
        counters{services.counters} {}

  caf::actor_system& system;
  // Cleared by the server once stopped: sessions held by actors must not
  // keep the long-lived actors alive, or the actor system never ends.
  actors::services services;
  const server_settings settings;
  const origin_validator origins;
  connection_limits limits;  // public connections only
  session_tracker sessions;
  // Status page and /readyz requests waiting for actors.
  answer_gate<page_response> pages;
  // Kept apart from `services`, which is cleared at stop, so a session
  // finishing late still has somewhere to count.
  const std::shared_ptr<metrics> counters;
  // Set when stop() begins: /readyz answers 503 from then on.
  std::atomic<bool> stopping{false};
};

}  // namespace batchcast::net
