#include "storage/stamp_clock.hpp"

#include <algorithm>
#include <chrono>

namespace batchcast::storage {

std::int64_t stamp_clock::next() {
  using namespace std::chrono;
  auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch())
                 .count();
  newest_ms_ = std::max<std::int64_t>(now, newest_ms_ + 1);
  return newest_ms_;
}

}  // namespace batchcast::storage
