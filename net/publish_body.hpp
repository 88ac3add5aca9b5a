// The JSON body of a publish (POST /api/v1/radius/batch/<uuid>/status):
//
//   {"status": "completed"}
//   {"status": "processing", "organization": "<canonical uuid>"}
//
// Kept apart from the handler so it can be tested and fuzzed without a
// socket or an actor system.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/batch_status.hpp"

namespace batchcast::net {

// A publish body, or the reason it is not one. Exactly one of `status`
// and `problem` is set; `organization_id` is empty (none named, or JSON
// null) or a canonical uuid.
struct publish_body {
  std::optional<storage::batch_status> status;
  std::string organization_id;
  const char* problem = nullptr;  // static text, safe to send to the client
};

// Never throws for any input. The object may have no other members, and
// none named twice.
publish_body parse_publish_body(std::string_view text);

}  // namespace batchcast::net
