// The caps on public connections that `serve` can keep: every connection
// is a descriptor, so --max-connections never goes above what the open file
// limit leaves once the service's own descriptors are set aside.
#pragma once

#include <cstddef>
#include <cstdint>

namespace batchcast::app {

// Descriptors kept back from the public listener: up to 128 connections
// to the internal listener (net::internal_connection_cap; more are
// answered 503 at accept), up to 64 public connections over the caps while
// their 503 is written (connection_limits::caps::max_refusing; more are
// closed at accept), and 64 for the databases and their WAL files, the
// cluster's links, logs and the runtime's own (about 15 on an idle single
// node). With a limit of 512 or less the reserve is half the limit, and
// below about 400 a flood of both listeners can then still run the
// process out of descriptors (the internal listener answers that too,
// see net/spare_descriptor.hpp).
inline constexpr std::uint64_t reserved_descriptors = 256;

// The most public connections an open file limit leaves room for: the
// limit minus reserved_descriptors (half the limit when it is tiny).
std::size_t connections_within(std::uint64_t open_file_limit);

// `requested` lowered to connections_within() of the process's current
// open file limit (RLIMIT_NOFILE, soft) when it is above (0, no cap, is
// above any), with a line
// naming both numbers; otherwise `requested` unchanged. The line is a
// warning when the operator set the cap (`set_by_operator`), since what
// they asked for cannot be had; for the default it is information.
std::size_t fit_to_file_limit(std::size_t requested, bool set_by_operator);

}  // namespace batchcast::app
