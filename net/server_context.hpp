// What every listener and session of one server shares: the settings, the
// actor side, the Origin rules and the session tracker. Built once by the
// server; sessions hold it by shared_ptr because connection actors may
// keep a session alive after the server is gone.
#pragma once

#include <memory>

#include <caf/actor_system.hpp>

#include "actors/services.hpp"
#include "net/origin.hpp"
#include "net/page_gate.hpp"
#include "net/server.hpp"
#include "net/session_tracker.hpp"

namespace batchcast::net {

struct server_context {
  server_context(caf::actor_system& actor_system, actors::services running,
                 server_settings config)
      : system{actor_system},
        services{std::move(running)},
        settings{std::move(config)},
        origins{settings.allowed_hosts} {}

  caf::actor_system& system;
  // Cleared by the server once stopped: sessions held by actors must not
  // keep the long-lived actors alive, or the actor system never ends.
  actors::services services;
  const server_settings settings;
  const origin_validator origins;
  session_tracker sessions;
  page_gate pages;  // status page requests waiting for the actor side
};

}  // namespace batchcast::net
