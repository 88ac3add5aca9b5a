#include "app/serve_failure.hpp"

#include <chrono>
#include <iostream>

#include "app/settings.hpp"
#include "common/log.hpp"

namespace batchcast::app {

namespace {

// The value of `--flag VALUE` or `--flag=VALUE` in `args`; the last one
// wins, as it would for the parser.
std::optional<std::string> flag_value(const std::vector<std::string>& args,
                                      const std::string& flag) {
  std::optional<std::string> value;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag && i + 1 < args.size())
      value = args[++i];
    else if (args[i].rfind(flag + "=", 0) == 0)
      value = args[i].substr(flag.size() + 1);
  }
  return value;
}

}  // namespace

bool json_logs_asked(const std::optional<std::string>& settled_format,
                     const std::optional<std::string>& config_text) {
  if (settled_format)
    return *settled_format == "json";
  if (auto value = environment_value(environment_name("log-format")))
    return *value == "json";
  if (config_text)
    if (auto value = config_value_despite_errors(*config_text, "log-format"))
      return *value == "json";
  return false;
}

bool json_logs_asked(const std::vector<std::string>& serve_args) {
  auto settled_format = flag_value(serve_args, "--log-format");
  if (settled_format)
    return *settled_format == "json";
  std::optional<std::string> config_text;
  auto config_path = flag_value(serve_args, "--config");
  if (!config_path)
    config_path = environment_value("BATCHCAST_CONFIG");
  if (config_path && !config_path->empty()) {
    try {
      config_text = read_config_text(*config_path);
    } catch (const std::exception&) {
      // The start failed before this file mattered; text it is.
    }
  }
  return json_logs_asked(std::nullopt, config_text);
}

std::optional<std::vector<std::string>> serve_arguments(int argc, char** argv) {
  // The top level takes only flags without values (--help, --version),
  // so the first other word names the command.
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.rfind('-', 0) == 0)
      continue;
    if (word != "serve")
      return std::nullopt;
    return std::vector<std::string>(argv + i + 1, argv + argc);
  }
  return std::nullopt;
}

void report_serve_failure(bool json, const std::string& what) {
  if (json)
    std::cerr << json_log_line(std::chrono::system_clock::now(), "error", "app",
                               "serve failed: " + what)
              << std::flush;
  else
    std::cerr << "batchcast serve: " << what << "\n";
}

}  // namespace batchcast::app
