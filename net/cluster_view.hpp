// How a node's view of its cluster peers reads at GET /cluster on the
// internal listener: one JSON object an operator (or a test) can read
// without knowing the actors behind it.
//
//   {"node":"a","clustered":true,"peers":[
//     {"address":"10.0.0.2:4100","name":"b","state":"up",
//      "state_since":"2026-12-04T15:41:40.123Z","reason":null,
//      "last_heard":"2026-12-04T15:41:52.001Z","silent_ms":310,
//      "subscribed":true,"catching_up":false,
//      "relay":{"queued":0,"pages_in_flight":0,"from_store":false,
//               "fell_behind":0}}]}
//
// Times are UTC with milliseconds, like the publish API's updated_at;
// last_heard and silent_ms are null before the peer was ever heard from;
// reason (why it is not up) is null while it is up.
#pragma once

#include <cstdint>
#include <string>

#include "actors/cluster_report.hpp"

namespace batchcast::net {

// The JSON body for `report`, with silent_ms counted up to `now_ms` (unix
// milliseconds).
std::string cluster_report_json(const actors::cluster_report& report,
                                std::int64_t now_ms);

}  // namespace batchcast::net
