// `batchcast serve`: runs one node until SIGTERM or SIGINT, then closes
// open sockets with 1001, commits the state and exits 0.
#pragma once

#include <CLI/CLI.hpp>

namespace batchcast::app {

void add_serve_command(CLI::App& parent, int& exit_code);

}  // namespace batchcast::app
