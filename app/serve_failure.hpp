// How `serve` says why it could not start or run: one line on stderr, a
// JSON object when JSON logs were asked for, so that a log collector
// parses every line of the run. The format is worked out from what can
// still be read when the failure came before the settings were: a start
// refused by the command-line parser, or by a bad line in the config file.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace batchcast::app {

// Whether JSON logs were asked for, with the usual precedence:
// `settled_format` (the --log-format value once the command line, or the
// environment or config file after it, set it), else BATCHCAST_LOG_FORMAT,
// else `log-format` in `config_text` (the config file, if it was read).
bool json_logs_asked(const std::optional<std::string>& settled_format,
                     const std::optional<std::string>& config_text);

// The same for a command line the parser refused, from the raw `serve_args`
// (those after `serve`): --log-format FORMAT or --log-format=FORMAT, else
// the environment, else the config file named by --config or
// BATCHCAST_CONFIG, read here. A config file that cannot be read asks for
// nothing.
bool json_logs_asked(const std::vector<std::string>& serve_args);

// The arguments after `serve` when the command line runs `serve`, or
// nothing for the other commands.
std::optional<std::vector<std::string>> serve_arguments(int argc, char** argv);

// Prints why serve failed. As JSON it is an error line even with
// --log-level off: it is the reason for the exit.
void report_serve_failure(bool json, const std::string& what);

}  // namespace batchcast::app
