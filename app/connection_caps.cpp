#include "app/connection_caps.hpp"

#include <limits>
#include <string>

#include <sys/resource.h>

#include "common/log.hpp"
#include "net/connection_limits.hpp"
#include "net/server.hpp"

namespace batchcast::app {

// Raising either cap means raising the reserve with it, or the databases
// and the cluster lose the descriptors they were promised.
static_assert(net::internal_connection_cap +
                      net::connection_limits::caps{}.max_refusing + 64 <=
                  reserved_descriptors,
              "the reserve no longer covers the internal listener's cap and "
              "the public refusals");

std::size_t connections_within(std::uint64_t open_file_limit) {
  if (open_file_limit > std::numeric_limits<std::size_t>::max())
    return std::numeric_limits<std::size_t>::max();
  if (open_file_limit > 2 * reserved_descriptors)
    return static_cast<std::size_t>(open_file_limit - reserved_descriptors);
  return static_cast<std::size_t>(open_file_limit / 2);
}

std::size_t fit_to_file_limit(std::size_t requested, bool set_by_operator) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 ||
      limit.rlim_cur == RLIM_INFINITY)
    return requested;
  auto allowed = connections_within(limit.rlim_cur);
  // 0 asks for no cap, which the descriptors cannot give either.
  if (requested != 0 && requested <= allowed)
    return requested;
  logger("app")->log(
      set_by_operator ? spdlog::level::warn : spdlog::level::info,
      "--max-connections {} is more than the open file limit ({}) allows; "
      "capping public connections at {} (raise LimitNOFILE or ulimit -n to "
      "allow more)",
      requested == 0 ? std::string{"0 (no cap)"} : std::to_string(requested),
      static_cast<std::uint64_t>(limit.rlim_cur), allowed);
  return allowed;
}

}  // namespace batchcast::app
