#include "storage/stamp_clock.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

namespace batchcast::storage {

std::int64_t stamp_clock::next() {
  using namespace std::chrono;
  auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch())
                 .count();
  // Saturates rather than overflow; the state store refuses stamps
  // anywhere near.
  auto after = newest_ms_ < std::numeric_limits<std::int64_t>::max()
                   ? newest_ms_ + 1
                   : newest_ms_;
  newest_ms_ = std::max<std::int64_t>(now, after);
  return newest_ms_;
}

}  // namespace batchcast::storage
