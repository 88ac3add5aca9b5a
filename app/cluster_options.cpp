#include "app/cluster_options.hpp"

#include <stdexcept>
#include <string>

#include "app/settings.hpp"
#include "common/log.hpp"

namespace batchcast::app {

void add_cluster_options(CLI::App& command, cluster_options& options) {
  command
      .add_option("--node-port", options.node_port,
                  "Port other nodes of the cluster connect to (0: run a "
                  "single node)")
      ->capture_default_str()
      ->transform(whole_number(0, 65535));
  command
      .add_option("--node-host", options.node_host,
                  "Address the node port listens on")
      ->capture_default_str();
  command.add_option("--peer", options.peers,
                     "Another node's HOST:NODE_PORT; repeat for each peer "
                     "(BATCHCAST_PEER: comma-separated)");
  command.add_option("--cluster-secret-file", options.secret_file,
                     "File holding the secret every node of the cluster "
                     "shares, needed with --node-port (or set "
                     "BATCHCAST_CLUSTER_SECRET)");
}

// Every node proves the secret to whatever reaches its node port; one of
// 16 random characters (hex: 64 bits) or more resists guessing offline.
constexpr std::size_t shortest_cluster_secret = 16;

std::string resolve_cluster_secret(const cluster_options& options,
                                   bool file_on_command_line) {
  if (options.node_port == 0) {
    // A secret says a cluster was meant; without a node port the node
    // runs alone, and nothing else at start would show it.
    if (!options.secret_file.empty() ||
        environment_value("BATCHCAST_CLUSTER_SECRET"))
      logger("app")->warn(
          "a cluster secret is given ({}) but no --node-port: this node runs "
          "alone; give --node-port and --peer to join a cluster",
          secret_source(file_on_command_line, options.secret_file,
                        "BATCHCAST_CLUSTER_SECRET", "cluster-secret"));
    return {};
  }
  if (options.secret_file.empty() &&
      !environment_value("BATCHCAST_CLUSTER_SECRET"))
    throw std::runtime_error(
        "--node-port needs a cluster secret: give every node the same one "
        "with --cluster-secret-file FILE or BATCHCAST_CLUSTER_SECRET (make "
        "one with `openssl rand -hex 32`); without it anything that reaches "
        "the node port could join the cluster");
  auto secret = resolve_secret(file_on_command_line, options.secret_file,
                               "BATCHCAST_CLUSTER_SECRET", "cluster-secret");
  auto where = "the cluster secret in " +
               secret_source(file_on_command_line, options.secret_file,
                             "BATCHCAST_CLUSTER_SECRET", "cluster-secret");
  // The node gate proves itself first, so anything that reaches the node
  // port gets a proof to test guesses against at leisure: a short secret
  // would fall to that.
  if (secret.size() < shortest_cluster_secret)
    throw std::runtime_error(
        where + " is " + std::to_string(secret.size()) +
        " characters long; use " + std::to_string(shortest_cluster_secret) +
        " random characters or more (openssl rand -hex 32)");
  // Whitespace at an end is most likely a line ending carried into the
  // environment by `$(cat file)` or a secret store: kept, it would make
  // this node's secret differ from its peers' without a word at start.
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  if (is_space(secret.front()) || is_space(secret.back()))
    throw std::runtime_error(
        where +
        " begins or ends with whitespace (a line ending, perhaps): write it "
        "without, as every node must hold the same bytes");
  return secret;
}

actors::cluster_settings cluster_settings_from(const cluster_options& options) {
  actors::cluster_settings settings;
  settings.node_port = static_cast<std::uint16_t>(options.node_port);
  settings.node_host = options.node_host;
  // Written as in --listen and --peer, an IPv6 address in brackets.
  if (settings.node_host.size() > 2 && settings.node_host.front() == '[' &&
      settings.node_host.back() == ']')
    settings.node_host =
        settings.node_host.substr(1, settings.node_host.size() - 2);
  else if (auto problem = ambiguous_ipv4_problem(settings.node_host);
           !problem.empty())
    throw std::invalid_argument("--node-host: " + problem);
  if (settings.node_port == 0 && !options.peers.empty())
    throw std::invalid_argument("--peer needs --node-port");
  for (const auto& text : options.peers) {
    auto parsed = parse_host_port(text, "--peer");
    if (parsed.port == 0)
      throw std::invalid_argument(
          "--peer " + text +
          ": port 0 names no node; give the peer's --node-port");
    // A node listed twice would be dialled twice; more likely a second
    // node's address was meant and is missing.
    for (const auto& earlier : settings.peers)
      if (earlier.host == parsed.host && earlier.port == parsed.port)
        throw std::invalid_argument(
            "--peer " + text +
            " is given twice (on the command line, in BATCHCAST_PEER or "
            "`peer =` in the config file): list each other node once");
    // Other spellings of this node (localhost, another local address)
    // are found when dialed, and shown down with the reason.
    if (parsed.host == settings.node_host && parsed.port == settings.node_port)
      throw std::invalid_argument(
          "--peer " + text +
          " is this node's own --node-host and --node-port: list the other "
          "nodes only");
    settings.peers.push_back({parsed.host, parsed.port});
  }
  return settings;
}

}  // namespace batchcast::app
