// Logging shared by every layer.
//
// Each subsystem logs through its own named logger ("net", "conn", "group",
// "auth", "store", "api", "app"), so every line says where it came from and
// an operator can raise one subsystem's level alone. Lines that concern one
// connection carry "conn=<id>"; lines about one batch carry "batch=<uuid>".
// Secrets (session keys, tokens, SECRET_KEY) are never logged.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace batchcast {

enum class log_format { text, json };

// Configures every subsystem logger: level ("trace" .. "off") and format.
// In the text format, control characters and bytes that are not UTF-8 in
// a message are written as \xNN (see one_line), so every record stays one
// line whatever it quotes.
// Safe to call more than once; later calls replace the earlier settings.
void configure_logging(const std::string& level, log_format format);

// The logger of one subsystem, created on first use with the current
// settings. Thread-safe; the returned pointer stays valid for the process.
std::shared_ptr<spdlog::logger> logger(const std::string& subsystem);

// One log line in the JSON format, newline included:
// {"time":"2026-12-04T15:41:40.123456Z","level":"info","subsystem":"app",
//  "message":"..."}. Quotes, backslashes and control characters in the
// message are escaped, and bytes that are not UTF-8 become U+FFFD, so every
// line parses whatever an error message held. Also used for the lines a
// command prints before (or instead of) its loggers.
std::string json_log_line(std::chrono::system_clock::time_point time,
                          std::string_view level, std::string_view subsystem,
                          std::string_view message);

}  // namespace batchcast
