// The serve flags that join a node to a cluster (--node-port, --node-host,
// --peer), kept apart from the other serve flags.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "actors/cluster.hpp"

namespace batchcast::app {

struct cluster_options {
  int node_port = 0;  // 0: a single node
  std::string node_host = "127.0.0.1";
  std::vector<std::string> peers;  // HOST:PORT each
};

void add_cluster_options(CLI::App& command, cluster_options& options);

// Throws std::invalid_argument naming the flag when a peer is not
// HOST:PORT, or when peers are given without a node port.
actors::cluster_settings cluster_settings_from(const cluster_options& options);

}  // namespace batchcast::app
