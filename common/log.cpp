#include "common/log.hpp"

#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>

namespace batchcast {

namespace {

struct log_settings {
  std::mutex mutex;
  spdlog::level::level_enum level = spdlog::level::info;
  log_format format = log_format::text;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
};

log_settings& settings() {
  static log_settings instance;
  return instance;
}

// Both formats keep one event per line. The JSON pattern relies on the
// messages themselves carrying no double quotes or backslashes, which holds
// for our own lines: values that come from clients are never logged raw.
std::string pattern_for(log_format format) {
  if (format == log_format::json)
    return R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",)"
           R"("subsystem":"%n","message":"%v"})";
  return "%Y-%m-%d %H:%M:%S.%e %-5l [%n] %v";
}

void apply(spdlog::logger& target, const log_settings& current) {
  target.set_level(current.level);
  target.set_pattern(pattern_for(current.format),
                     spdlog::pattern_time_type::utc);
}

}  // namespace

void configure_logging(const std::string& level, log_format format) {
  auto& current = settings();
  std::lock_guard<std::mutex> guard{current.mutex};
  current.level = spdlog::level::from_str(level);
  current.format = format;
  spdlog::apply_all(
      [&](std::shared_ptr<spdlog::logger> each) { apply(*each, current); });
}

std::shared_ptr<spdlog::logger> logger(const std::string& subsystem) {
  auto& current = settings();
  std::lock_guard<std::mutex> guard{current.mutex};
  if (auto existing = spdlog::get(subsystem))
    return existing;
  auto created = std::make_shared<spdlog::logger>(subsystem, current.sink);
  apply(*created, current);
  spdlog::register_logger(created);
  return created;
}

}  // namespace batchcast
