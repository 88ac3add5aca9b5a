// `batchcast watch`: connects to a batch's status socket the way the admin
// page's browser does (session cookie, Origin), prints the one message and
// exits 0 for completed, 1 for failed, 2 on any error.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace batchcast::app {

struct watch_options {
  std::string batch_id;
  std::string url;          // ws:// or wss://HOST:PORT
  std::string ca_file;      // PEM CAs to trust for wss:// instead of the
                            // system's
  std::string session_key;  // empty: connect without a cookie
  std::string origin;       // empty: derived from `url`
  std::string cookie_name = "sessionid";
  // For the whole watch, connect to status; 0: wait as long as it takes.
  int timeout_seconds = 0;
};

struct watch_outcome {
  int exit_code = 2;
  std::string message;  // the text frame received, if any
  int http_status = 0;  // the upgrade response's status
  int close_code = 0;   // the server's close code, if it closed
  std::string error;    // what went wrong, for exit code 2
};

// Runs one watch. Never throws.
watch_outcome watch_batch(const watch_options& options);

// Registers the subcommand; `exit_code` receives the result.
void add_watch_command(CLI::App& parent, int& exit_code);

}  // namespace batchcast::app
