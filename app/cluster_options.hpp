// The serve flags that join a node to a cluster (--node-port, --node-host,
// --peer, --cluster-secret-file), kept apart from the other serve flags.
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
  std::string secret_file;
};

void add_cluster_options(CLI::App& command, cluster_options& options);

// Throws std::invalid_argument naming the flag when a peer is not
// HOST:PORT, or when peers are given without a node port.
actors::cluster_settings cluster_settings_from(const cluster_options& options);

// The secret the nodes' gates prove to each other (net/cluster_handshake
// .hpp): from --cluster-secret-file when given on the command line, else
// BATCHCAST_CLUSTER_SECRET, else the file the environment or config file
// names. Empty for a single node, which needs none. Throws
// std::runtime_error, saying how to make one, when a clustered node has
// none, or when the file cannot be read.
std::string resolve_cluster_secret(const cluster_options& options,
                                   bool file_on_command_line);

}  // namespace batchcast::app
