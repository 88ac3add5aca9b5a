// Logging shared by every layer.
//
// Each subsystem logs through its own named logger ("net", "conn", "group",
// "auth", "store", "api", "app"), so every line says where it came from and
// an operator can raise one subsystem's level alone. Lines that concern one
// connection carry "conn=<id>"; lines about one batch carry "batch=<uuid>".
// Secrets (session keys, tokens, SECRET_KEY) are never logged.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace batchcast {

enum class log_format { text, json };

// Configures every subsystem logger: level ("trace" .. "off") and format.
// Safe to call more than once; later calls replace the earlier settings.
void configure_logging(const std::string& level, log_format format);

// The logger of one subsystem, created on first use with the current
// settings. Thread-safe; the returned pointer stays valid for the process.
std::shared_ptr<spdlog::logger> logger(const std::string& subsystem);

}  // namespace batchcast
