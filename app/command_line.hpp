// The `batchcast` command line: serve, watch, publish and admin.
#pragma once

namespace batchcast::app {

// Parses the arguments, runs the chosen command and returns the process
// exit code: 0 success, 1 a failed batch (watch), 2 usage or runtime error.
int run_command_line(int argc, char** argv);

}  // namespace batchcast::app
