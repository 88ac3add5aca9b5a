// What a node may call itself. The name is given by the operator
// (--node-name) but also arrives unauthenticated in a peer's hello, and it
// is logged, shown in GET /cluster and stored with every record: both
// ends refuse a name that could not be shown as it is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace batchcast {

// The longest node name, in bytes: a host name with room to spare.
inline constexpr std::size_t max_node_name_bytes = 255;

// Why `name` cannot be a node's name, or nothing when it can. Refused:
// the empty name, one longer than max_node_name_bytes, one with a control
// character (C0, DEL, or C1 in UTF-8) or bytes that are not UTF-8, and
// one that starts or ends with a space.
std::optional<std::string> node_name_problem(std::string_view name);

}  // namespace batchcast
