// The load generator's settings. Every run is bounded twice: by a count
// (`connections`) and by a hard deadline for the whole process.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "benchmarks/loadgen/loopback.hpp"

namespace batchcast::bench {

struct options {
  std::string workload;                 // handshake, idle, fanout or storm
  loopback_url ws;                      // the first --url
  std::vector<loopback_url> ws_all;     // every --url, in order
  std::optional<loopback_url> publish;  // --publish-url
  std::string token;                    // bearer token of the publish API
  std::string session;                  // the session key most clients use
  std::vector<std::string> sessions;    // --sessions-file: one per line
  std::string cookie_name = "sessionid";
  std::string origin = "http://127.0.0.1";
  std::vector<std::string> batches;  // --batch and --batches-file
  std::string organization;          // lets a publish create a batch
  std::size_t connections = 1000;
  std::size_t concurrency = 100;
  std::size_t publish_concurrency = 32;
  std::vector<int> server_pids;  // summed for RSS and CPU figures
  std::string server_label = "batchcast";
  double deadline_seconds = 120;
  double duration_seconds = 15;  // handshake: stop starting cycles
  double hold_seconds = 10;      // idle: CPU measured over this span
  double settle_seconds = 2;     // pause after connecting, before sampling
  unsigned sources = 4;
  unsigned threads = 1;
  bool reset = true;  // publish `processing` before watching
};

// Parses the command line into `out`. Returns -1 to go on, otherwise the
// exit code to leave with (0 after --help, 2 after a usage error, which is
// printed to stderr).
int parse_options(int argc, char** argv, options& out);

}  // namespace batchcast::bench
