// What every fuzz target shares: the input as text, and invariant checks
// that stay on in release builds. A broken invariant prints which one and
// aborts, so libFuzzer saves the input as a crash just as it would for a
// sanitizer report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace batchcast::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// assert() is compiled out under NDEBUG (the RelWithDebInfo default); this
// is not.
inline void require(bool holds, const char* invariant) {
  if (holds)
    return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", invariant);
  std::fflush(stderr);
  std::abort();
}

}  // namespace batchcast::fuzz
