#include "benchmarks/loadgen/options.hpp"

#include <fstream>
#include <iostream>
#include <stdexcept>

#include <CLI/CLI.hpp>

namespace batchcast::bench {

namespace {

// Reads one non-empty, trimmed entry per line; a missing file is a usage
// error rather than an empty run.
std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::invalid_argument("cannot read `" + path + "`");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos)
      continue;
    auto last = line.find_last_not_of(" \t\r");
    lines.push_back(line.substr(first, last - first + 1));
  }
  return lines;
}

std::string read_secret(const std::string& path) {
  auto lines = read_lines(path);
  if (lines.empty())
    throw std::invalid_argument("`" + path + "` is empty");
  return lines.front();
}

void check_workload_inputs(const options& o) {
  if (o.session.empty() && o.sessions.empty())
    throw std::invalid_argument("--session or --sessions-file is needed");
  if (o.batches.empty())
    throw std::invalid_argument("--batch or --batches-file is needed");
  bool publishes = o.workload == "fanout" || o.workload == "storm";
  if (publishes && (!o.publish || o.token.empty()))
    throw std::invalid_argument(o.workload +
                                " needs --publish-url and --token");
  if ((o.workload == "idle") && o.server_pids.empty())
    throw std::invalid_argument("idle needs --server-pid");
  if (o.concurrency == 0 || o.publish_concurrency == 0 || o.connections == 0)
    throw std::invalid_argument("counts must be positive");
  if (o.threads < 1 || o.threads > 2)
    throw std::invalid_argument("--threads is 1 or 2");
}

}  // namespace

int parse_options(int argc, char** argv, options& out) {
  CLI::App app{"batchcast load generator (loopback only)", "loadgen"};
  std::vector<std::string> urls;
  std::string publish_url, token_file, sessions_file, batches_file;
  std::vector<std::string> batch_flags;

  app.add_option("--workload", out.workload, "handshake|idle|fanout|storm")
      ->required()
      ->check(CLI::IsMember({"handshake", "idle", "fanout", "storm"}));
  app.add_option("--url", urls,
                 "ws://127.0.0.1:PORT of the WebSocket server; fanout takes "
                 "several (a cluster's nodes) and spreads its watchers "
                 "evenly over them")
      ->required();
  app.add_option("--publish-url", publish_url,
                 "http://127.0.0.1:PORT of the publish API");
  app.add_option("--token", out.token, "Bearer token of the publish API");
  app.add_option("--token-file", token_file, "File holding the token");
  app.add_option("--session", out.session, "Session key (cookie value)");
  app.add_option("--sessions-file", sessions_file,
                 "Session keys, one per line (handshake: cold pass)");
  app.add_option("--session-cookie-name", out.cookie_name)
      ->capture_default_str();
  app.add_option("--origin", out.origin, "Origin header")
      ->capture_default_str();
  app.add_option("--batch", batch_flags, "Batch id (repeatable)");
  app.add_option("--batches-file", batches_file, "Batch ids, one per line");
  app.add_option("--organization", out.organization,
                 "Organization id sent with resets, so a publish may create "
                 "the batch");
  app.add_option("--connections", out.connections,
                 "handshake: cycles; idle/fanout: clients; storm: batches")
      ->capture_default_str();
  app.add_option("--concurrency", out.concurrency, "Upgrades in flight at once")
      ->capture_default_str();
  app.add_option("--publish-concurrency", out.publish_concurrency,
                 "storm: HTTP publishes in flight at once")
      ->capture_default_str();
  app.add_option("--server-pid", out.server_pids,
                 "Server process(es) whose RSS and CPU are read; several "
                 "are summed")
      ->delimiter(',');
  app.add_option("--server-label", out.server_label, "Name in the output")
      ->capture_default_str();
  app.add_option("--deadline-seconds", out.deadline_seconds,
                 "Hard limit for the whole run")
      ->capture_default_str();
  app.add_option("--duration-seconds", out.duration_seconds,
                 "handshake: time per pass")
      ->capture_default_str();
  app.add_option("--hold-seconds", out.hold_seconds,
                 "idle: span of the CPU sample")
      ->capture_default_str();
  app.add_option("--settle-seconds", out.settle_seconds,
                 "Pause after connecting")
      ->capture_default_str();
  app.add_option("--sources", out.sources,
                 "Loopback source addresses 127.0.0.2 ...")
      ->capture_default_str();
  app.add_option("--threads", out.threads, "I/O threads (1 or 2)")
      ->capture_default_str();
  app.add_flag("!--no-reset", out.reset,
               "Do not publish `processing` before watching");

  try {
    app.parse(argc, argv);
    for (const auto& url : urls)
      out.ws_all.push_back(parse_loopback_url(url, "ws"));
    out.ws = out.ws_all.front();
    if (!publish_url.empty())
      out.publish = parse_loopback_url(publish_url, "http");
    if (!token_file.empty())
      out.token = read_secret(token_file);
    if (!sessions_file.empty())
      out.sessions = read_lines(sessions_file);
    if (out.session.empty() && !out.sessions.empty())
      out.session = out.sessions.front();
    out.batches = batch_flags;
    if (!batches_file.empty()) {
      auto more = read_lines(batches_file);
      out.batches.insert(out.batches.end(), more.begin(), more.end());
    }
    check_workload_inputs(out);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::cerr << "loadgen: " << e.what() << "\n";
    return 2;
  }
  return -1;
}

}  // namespace batchcast::bench
