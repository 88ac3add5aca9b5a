// Writes a line that a client or a peer can cause at will through a
// log_throttle: at the given level while the throttle admits it, saying
// how many like it were held back since, and otherwise at debug, so that
// a debug log still has every one of them.
#pragma once

#include <string>

#include <spdlog/spdlog.h>

#include "common/log_throttle.hpp"

namespace batchcast {

inline void log_throttled(spdlog::logger& logger,
                          spdlog::level::level_enum level,
                          log_throttle& throttle, const std::string& line) {
  if (auto held_back = throttle.admit())
    logger.log(level, "{}{}", line, log_throttle::held_back_note(*held_back));
  else
    logger.debug("{}", line);
}

}  // namespace batchcast
