#include "app/serve_command.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/cluster_options.hpp"
#include "app/connection_caps.hpp"
#include "app/request_values.hpp"
#include "app/secret_hygiene.hpp"
#include "app/serve_failure.hpp"
#include "app/service.hpp"
#include "app/settings.hpp"
#include "common/host_port.hpp"
#include "common/log.hpp"
#include "common/node_name.hpp"
#include "common/terminal_text.hpp"
#include "net/bearer_token.hpp"
#include "storage/postgres_directory.hpp"
#include "storage/session_validator.hpp"

namespace batchcast::app {

namespace {

struct serve_options {
  std::string config_file;
  std::string listen = "127.0.0.1:8000";
  std::string internal_listen = "127.0.0.1:8001";
  std::string tls_cert;
  std::string tls_key;
  std::string internal_tls_cert;
  std::string internal_tls_key;
  std::string db = "batchcast.db";
  std::string directory;
  std::string secret_key_file;
  std::string secret_key_fallbacks_file;
  std::string publish_token_file;
  std::string metrics_token_file;
  std::string allowed_hosts = "localhost,127.0.0.1";
  std::string session_cookie_name = "sessionid";
  std::string auth_backends;
  std::string node_name;
  std::string log_level = "info";
  std::string log_format = "text";
  int io_threads = 0;
  int actor_threads = 0;
  std::string actor_scheduler = "sharing";
  int session_ttl_seconds = 30;
  std::size_t max_message_bytes = 4096;
  int upgrade_timeout_seconds = 10;
  int idle_timeout_seconds = 60;
  int close_timeout_seconds = 5;
  int shutdown_grace_seconds = 10;
  std::size_t max_connections = 50000;
  bool max_connections_set = false;  // by a flag, BATCHCAST_* or the file
  std::size_t max_connections_per_address = 1000;
  storage::directory_tables tables;  // for --directory; OpenWISP's names
  cluster_options cluster;
};

std::string default_node_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    return "node";
  return std::string{host} + ":" + std::to_string(::getpid());
}

std::vector<std::string> read_fallback_keys(bool file_on_command_line,
                                            const std::string& file) {
  if (!file_on_command_line)
    if (auto value = environment_value("BATCHCAST_SECRET_KEY_FALLBACKS"))
      return split_words(*value);
  if (file.empty())
    return {};
  return split_words(read_secret_text(file));
}

bool is_postgres_url(const std::string& url) {
  for (const char* scheme : {"postgresql://", "postgres://"})
    if (url.rfind(scheme, 0) == 0)
      return true;
  return false;
}

// Chooses the directory from --directory: none means the embedded tables
// in the state database.
void configure_directory(const serve_options& options,
                         service_settings& settings) {
  auto& runtime = settings.runtime;
  runtime.state_db_path = options.db;
  if (options.directory.empty()) {
    runtime.directory_path = options.db;
    runtime.standalone = true;
    return;
  }
  // A Django site may have renamed its tables; the embedded directory
  // always has the names `batchcast admin` creates.
  runtime.tables = options.tables;
  const std::string sqlite_prefix = "sqlite:";
  if (options.directory.rfind(sqlite_prefix, 0) == 0 &&
      options.directory.size() > sqlite_prefix.size()) {
    runtime.directory_path = options.directory.substr(sqlite_prefix.size());
    runtime.standalone = false;
    return;
  }
  if (is_postgres_url(options.directory)) {
    runtime.standalone = false;
    settings.directory_description =
        storage::postgres_directory::describe(options.directory);
    settings.open_directory = [url = options.directory,
                               tables = runtime.tables] {
      return std::make_shared<storage::postgres_directory>(url, tables);
    };
    return;
  }
  // Not echoed: a mistyped URL may carry a password.
  throw std::runtime_error(
      "--directory: unsupported directory (use sqlite:PATH or "
      "postgresql://USER@HOST:PORT/DBNAME)");
}

// A listener's certificate and key: both or neither, so that a typo in
// one name cannot leave a listener in plain TCP the operator meant to
// protect. Both are read now, before the stop signals are blocked; their
// contents are checked when the server starts.
net::tls_files tls_pair(const std::string& certificate, const std::string& key,
                        const std::string& flag_prefix) {
  if (certificate.empty() && !key.empty())
    throw std::runtime_error("--" + flag_prefix + "-key " + key +
                             " was given without --" + flag_prefix + "-cert");
  if (!certificate.empty() && key.empty())
    throw std::runtime_error("--" + flag_prefix + "-cert " + certificate +
                             " was given without --" + flag_prefix + "-key");
  if (certificate.empty())
    return {};
  return net::read_tls_files(certificate, key);
}

// A secret that may be left unset (then empty), resolved like the
// required ones: a file named on the command line, else the variable
// holding the secret itself, else a file named by the environment or the
// config file.
std::string optional_secret(bool file_on_command_line, const std::string& file,
                            const char* secret_variable) {
  if (!file_on_command_line)
    if (auto value = environment_value(secret_variable))
      return *value;
  return file.empty() ? std::string{} : read_secret_file(file);
}

// A bearer token no client can send (see unsendable_token_reason) would
// be accepted and then refuse every request: refused here instead,
// naming where it came from but not the token.
void refuse_unsendable_token(const std::string& token,
                             const std::set<std::string>& on_command_line,
                             const std::string& file, const char* variable,
                             const char* what) {
  if (token.empty())
    return;  // an optional token left unset
  auto reason = net::unsendable_token_reason(token);
  if (!reason)
    return;
  auto flag = std::string{what} + "-file";
  throw std::runtime_error(
      "the " + std::string{what} + " in " +
      secret_source(on_command_line.count(flag) > 0, file, variable, what) +
      " cannot be sent in an Authorization header: " + *reason +
      "; write the token alone, without spaces or line breaks inside it "
      "(openssl rand -hex 32 makes one)");
}

// Throws naming the first of `flags` given an empty value, with `advice`
// on what to give: an empty path would otherwise fail later with a
// message naming no file (`--db ""`), or quietly stand for "none", and
// an empty --node-name for the default, a name that changes with every
// restart.
// The environment too: an empty variable counts as unset for other flags,
// but for these it is as likely a unit file whose value went missing
// (`Environment=BATCHCAST_DB=`), and a node serving a fresh database
// would be its quiet result.
void refuse_empty_values(CLI::App& command,
                         const std::set<std::string>& on_command_line,
                         std::initializer_list<const char*> flags,
                         const std::string& advice) {
  for (const char* flag : flags) {
    const auto* option = command.get_option(flag);
    auto name = option->get_lnames().front();
    auto variable = environment_name(name);
    const char* from_environment = std::getenv(variable.c_str());
    if (on_command_line.count(name) == 0 && from_environment != nullptr &&
        *from_environment == '\0')
      throw std::runtime_error(variable + " is set but empty: " + advice +
                               ", or unset it");
    if (option->count() == 0)
      continue;
    const auto& given = option->results();
    if (!given.empty() && !given.front().empty())
      continue;
    throw std::runtime_error(std::string{flag} +
                             " is empty (on the command line, or as `" + name +
                             " =` in the config file): " + advice +
                             ", or leave " + flag + " out altogether");
  }
}

// The addresses a listener's host stands for ("localhost": 127.0.0.1
// and ::1), as text; empty when it does not resolve (its bind then fails
// and says so).
std::set<std::string> addresses_of(const std::string& host) {
  std::set<std::string> found;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  auto bare = host.size() > 1 && host.front() == '[' && host.back() == ']'
                  ? host.substr(1, host.size() - 2)
                  : host;
  if (::getaddrinfo(bare.c_str(), nullptr, &hints, &list) != 0)
    return found;
  for (auto* each = list; each != nullptr; each = each->ai_next) {
    char text[NI_MAXHOST];
    if (::getnameinfo(each->ai_addr, each->ai_addrlen, text, sizeof text,
                      nullptr, 0, NI_NUMERICHOST) == 0)
      found.insert(text);
  }
  ::freeaddrinfo(list);
  return found;
}

// Whether two listeners on these hosts would claim the same address for
// one port: the same host, a name for the other's address, or a wildcard
// host on either side.
bool hosts_overlap(const std::string& one, const std::string& other) {
  auto wildcard = [](const std::string& host) {
    return host == "0.0.0.0" || host == "::" || host == "[::]";
  };
  if (one == other || wildcard(one) || wildcard(other))
    return true;
  auto ones = addresses_of(one);
  for (const auto& address : addresses_of(other))
    if (ones.count(address) > 0)
      return true;
  return false;
}

// The node port beside the two HTTP listeners: said at start in words,
// rather than as "Address already in use" from the node gate's bind.
void refuse_shared_node_port(const service_settings& settings) {
  const auto& cluster = settings.cluster;
  const auto& network = settings.network;
  if (cluster.node_port == 0)
    return;
  for (const auto& [host, port, flag] :
       {std::tuple{network.public_host, network.public_port, "--listen"},
        {network.internal_host, network.internal_port, "--internal-listen"}})
    if (port == cluster.node_port && hosts_overlap(host, cluster.node_host))
      throw std::runtime_error(
          "--node-port " + std::to_string(cluster.node_port) +
          " is also the port of " + flag + " " + host_and_port(host, port) +
          ": the node port needs a port of its own (other nodes connect "
          "to it; keep it private)");
}

service_settings build_settings(const serve_options& options,
                                const std::set<std::string>& on_command_line) {
  service_settings settings;
  auto& runtime = settings.runtime;
  configure_directory(options, settings);
  runtime.node_name =
      options.node_name.empty() ? default_node_name() : options.node_name;
  // Peers refuse such a name too (see on_hello): better said at start.
  if (auto problem = node_name_problem(runtime.node_name))
    throw std::runtime_error(
        "--node-name " + one_line(runtime.node_name) + " cannot be used: " +
        *problem + "; give 1 to " + std::to_string(max_node_name_bytes) +
        " bytes of printable text without spaces at either end");
  runtime.session_ttl = std::chrono::seconds{options.session_ttl_seconds};

  auto& session = runtime.session;
  session.secret_keys.push_back(resolve_secret(
      on_command_line.count("secret-key-file") > 0, options.secret_key_file,
      "BATCHCAST_SECRET_KEY", "secret-key"));
  for (auto& key : read_fallback_keys(
           on_command_line.count("secret-key-fallbacks-file") > 0,
           options.secret_key_fallbacks_file))
    session.secret_keys.push_back(key);
  session.auth_backends = options.auth_backends.empty()
                              ? storage::default_auth_backends()
                              : split_list(options.auth_backends, ',');
  // A list of nothing but commas and spaces would refuse every session.
  if (session.auth_backends.empty())
    throw std::runtime_error(
        "--auth-backends `" + one_line(options.auth_backends) +
        "` names no backend, so every session would be refused: list the "
        "dotted paths of Django's AUTHENTICATION_BACKENDS, or leave it out "
        "for OpenWISP's and Django's");

  auto& network = settings.network;
  auto public_address = parse_host_port(options.listen, "--listen");
  auto internal_address =
      parse_host_port(options.internal_listen, "--internal-listen");
  // Both would bind the one socket, and the second bind would fail with
  // only "Address already in use".
  if (public_address.port != 0 &&
      public_address.port == internal_address.port &&
      hosts_overlap(public_address.host, internal_address.host))
    throw std::runtime_error(
        "--listen " + options.listen + " and --internal-listen " +
        options.internal_listen +
        " would listen on one address: the two listeners cannot share "
        "one; give the internal (publish API) listener a port of its own, "
        "and keep it private");
  network.public_host = public_address.host;
  network.public_port = public_address.port;
  network.internal_host = internal_address.host;
  network.internal_port = internal_address.port;
  network.public_tls = tls_pair(options.tls_cert, options.tls_key, "tls");
  network.internal_tls = tls_pair(options.internal_tls_cert,
                                  options.internal_tls_key, "internal-tls");
  network.allowed_hosts = split_list(options.allowed_hosts, ',');
  // An empty list matches no Origin: the service would start and refuse
  // every watcher, which looks like an outage rather than a setting.
  if (network.allowed_hosts.empty())
    throw std::runtime_error(
        "--allowed-hosts is empty (on the command line, or `allowed-hosts =` "
        "in the config file), so every watcher would be refused: list the "
        "hosts an Origin may name (admin.example.com, or .example.com for "
        "a domain and its subdomains), or give * to allow any Origin");
  // A name no browser sends would refuse every watcher.
  if (auto problem = cookie_name_problem(options.session_cookie_name))
    throw std::runtime_error("--session-cookie-name: " + *problem +
                             "; give Django's SESSION_COOKIE_NAME (sessionid "
                             "by default)");
  network.session_cookie_name = options.session_cookie_name;
  network.publish_token = resolve_secret(
      on_command_line.count("publish-token-file") > 0,
      options.publish_token_file, "BATCHCAST_PUBLISH_TOKEN", "publish-token");
  network.metrics_token =
      optional_secret(on_command_line.count("metrics-token-file") > 0,
                      options.metrics_token_file, "BATCHCAST_METRICS_TOKEN");
  refuse_unsendable_token(network.publish_token, on_command_line,
                          options.publish_token_file, "BATCHCAST_PUBLISH_TOKEN",
                          "publish-token");
  refuse_unsendable_token(network.metrics_token, on_command_line,
                          options.metrics_token_file, "BATCHCAST_METRICS_TOKEN",
                          "metrics-token");
  warn_if_short(network.publish_token, "the publish token");
  warn_if_short(network.metrics_token, "the metrics token");
  for (const auto& [path, what] :
       {std::pair{options.secret_key_file, "--secret-key-file"},
        {options.secret_key_fallbacks_file, "--secret-key-fallbacks-file"},
        {options.publish_token_file, "--publish-token-file"},
        {options.metrics_token_file, "--metrics-token-file"},
        {options.cluster.secret_file, "--cluster-secret-file"},
        {options.tls_key, "--tls-key"},
        {options.internal_tls_key, "--internal-tls-key"}})
    warn_if_anyone_can_read(path, what);
  // The embedded directory keeps session keys and password hashes there;
  // SQLite gives the -wal and -shm files the database file's mode.
  if (runtime.standalone)
    warn_if_anyone_can_read(options.db, "--db");
  network.max_client_message_bytes = options.max_message_bytes;
  network.upgrade_timeout =
      std::chrono::seconds{options.upgrade_timeout_seconds};
  network.idle_timeout = std::chrono::seconds{options.idle_timeout_seconds};
  network.close_timeout = std::chrono::seconds{options.close_timeout_seconds};
  network.max_connections = options.max_connections;
  network.max_connections_per_address = options.max_connections_per_address;
  network.io_threads = options.io_threads;
  settings.actor_threads = options.actor_threads;
  settings.actor_scheduler = options.actor_scheduler;
  settings.cluster = cluster_settings_from(options.cluster);
  refuse_shared_node_port(settings);
  settings.cluster_secret = resolve_cluster_secret(
      options.cluster, on_command_line.count("cluster-secret-file") > 0);
  return settings;
}

// Raises the soft limit on open files to the hard limit: every watcher is
// a descriptor, and running out on the public listener would also starve
// the publish API of descriptors.
void raise_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 ||
      limit.rlim_cur >= limit.rlim_max)
    return;
  auto before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) == 0)
    logger("app")->info("open file limit raised from {} to {}", before,
                        limit.rlim_cur);
  else
    logger("app")->warn("open file limit stays at {}: {}", before,
                        std::strerror(errno));
}

// Blocks SIGINT, SIGTERM and SIGHUP (the terminal closed) in the calling
// thread, and so in every thread it starts afterwards, so the only place
// they are taken is sigwait below: each shuts down gracefully. Signals
// whose default would end the node at once are ignored (in serve, before
// the first log line): SIGPIPE, as a closed socket is reported as EPIPE
// anyway and a closed log pipe must not stop the service (spdlog does not
// check its writes), and SIGUSR1 and SIGUSR2, which mean nothing here.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  // Left alone when ignored already (nohup): that is asked for, and a
  // blocked signal reaches sigwait even so.
  struct sigaction hangup {};
  if (sigaction(SIGHUP, nullptr, &hangup) == 0 && hangup.sa_handler != SIG_IGN)
    sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

const char* stop_signal_name(int received) {
  switch (received) {
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "SIGINT";
  }
}

int serve(const serve_options& options,
          const std::set<std::string>& on_command_line) {
  // Before anything is logged: see block_stop_signals.
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGUSR1, SIG_IGN);
  std::signal(SIGUSR2, SIG_IGN);
  configure_logging(options.log_level, options.log_format == "json"
                                           ? log_format::json
                                           : log_format::text);
  auto settings = build_settings(options, on_command_line);
  raise_file_limit();
  settings.network.max_connections = fit_to_file_limit(
      settings.network.max_connections, options.max_connections_set);
  auto signals = block_stop_signals();
  service node{settings};
  node.start();
  int received = 0;
  sigwait(&signals, &received);
  logger("app")->info("received {}, shutting down", stop_signal_name(received));
  // A second signal (an impatient Ctrl-C) is answered in the log rather
  // than left pending unseen; the stop goes on all the same.
  std::atomic<bool> stopped{false};
  std::thread answer_more_signals{[&signals, &stopped, &options] {
    const timespec poll{0, 200'000'000};
    while (!stopped) {
      int again = sigtimedwait(&signals, nullptr, &poll);
      if (again > 0 && !stopped)
        logger("app")->warn(
            "received {} again: still shutting down, within the {} s grace "
            "(SIGKILL ends it at once; acknowledged publishes are stored)",
            stop_signal_name(again), options.shutdown_grace_seconds);
    }
  }};
  node.stop(std::chrono::seconds{options.shutdown_grace_seconds});
  stopped = true;
  answer_more_signals.join();
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& parent, int& exit_code) {
  auto options = std::make_shared<serve_options>();
  auto* command = parent.add_subcommand("serve", "Run the service");
  command->add_option("--config", options->config_file,
                      "Config file of `name = value` lines");
  command
      ->add_option("--listen", options->listen,
                   "Public WebSocket listener HOST:PORT")
      ->capture_default_str();
  command
      ->add_option("--internal-listen", options->internal_listen,
                   "Publish API listener HOST:PORT (keep it private)")
      ->capture_default_str();
  command->add_option("--tls-cert", options->tls_cert,
                      "PEM certificate (chain) for the public listener; with "
                      "--tls-key it speaks only TLS (wss://, https://)");
  command->add_option("--tls-key", options->tls_key,
                      "PEM private key of --tls-cert (not encrypted)");
  command->add_option("--internal-tls-cert", options->internal_tls_cert,
                      "PEM certificate (chain) for the internal listener; "
                      "with --internal-tls-key it speaks only TLS");
  command->add_option("--internal-tls-key", options->internal_tls_key,
                      "PEM private key of --internal-tls-cert");
  command
      ->add_option("--db", options->db,
                   "State database; also the directory unless "
                   "--directory is given")
      ->capture_default_str();
  command->add_option("--directory", options->directory,
                      "Django database to read users and sessions from "
                      "(read-only): sqlite:PATH or "
                      "postgresql://USER@HOST:PORT/DBNAME");
  auto& tables = options->tables;
  command
      ->add_option("--session-table", tables.session,
                   "Django session table in --directory")
      ->capture_default_str();
  command->add_option("--user-table", tables.user, "User table in --directory")
      ->capture_default_str();
  command
      ->add_option("--organization-table", tables.organization,
                   "Organization table in --directory")
      ->capture_default_str();
  command
      ->add_option("--organization-user-table", tables.organization_user,
                   "Organization membership table in --directory")
      ->capture_default_str();
  command
      ->add_option("--batch-table", tables.batch, "Batch table in --directory")
      ->capture_default_str();
  command->add_option("--secret-key-file", options->secret_key_file,
                      "File holding Django's SECRET_KEY (or set "
                      "BATCHCAST_SECRET_KEY)");
  command->add_option("--secret-key-fallbacks-file",
                      options->secret_key_fallbacks_file,
                      "File with Django's SECRET_KEY_FALLBACKS, one per line "
                      "(or BATCHCAST_SECRET_KEY_FALLBACKS, space-separated)");
  command->add_option("--publish-token-file", options->publish_token_file,
                      "File holding the publish API bearer token (or set "
                      "BATCHCAST_PUBLISH_TOKEN)");
  command->add_option("--metrics-token-file", options->metrics_token_file,
                      "File holding a bearer token GET /metrics then "
                      "requires (or set BATCHCAST_METRICS_TOKEN); without "
                      "one, /metrics is open to whoever reaches the "
                      "internal listener");
  command
      ->add_option("--allowed-hosts", options->allowed_hosts,
                   "Comma-separated hosts an Origin may name, Django "
                   "ALLOWED_HOSTS semantics (.example.com, *)")
      ->capture_default_str();
  command
      ->add_option("--session-cookie-name", options->session_cookie_name,
                   "Django SESSION_COOKIE_NAME")
      ->capture_default_str();
  command->add_option("--auth-backends", options->auth_backends,
                      "Comma-separated accepted _auth_user_backend values "
                      "(default: OpenWISP's and Django's ModelBackend)");
  command->add_option("--node-name", options->node_name,
                      "Name recorded as the origin of publishes: 1 to 255 "
                      "bytes of printable text (default: HOSTNAME:PID)");
  command
      ->add_option("--log-level", options->log_level,
                   "trace, debug, info, warn (or warning, as the log "
                   "names it), error, critical or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning",
                             "error", "critical", "off"}));
  command->add_option("--log-format", options->log_format, "text or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  command
      ->add_option("--io-threads", options->io_threads,
                   "Threads serving sockets (0: half the cores)")
      ->capture_default_str()
      ->transform(whole_number(0, 64));
  command
      ->add_option("--actor-threads", options->actor_threads,
                   "CAF scheduler threads (0: half the cores)")
      ->capture_default_str()
      ->transform(whole_number(0, 64));
  command
      ->add_option("--actor-scheduler", options->actor_scheduler,
                   "CAF scheduler: sharing (idle workers sleep) or stealing "
                   "(idle workers poll, then steal)")
      ->capture_default_str()
      ->check(CLI::IsMember({"sharing", "stealing"}));
  command
      ->add_option("--session-ttl", options->session_ttl_seconds,
                   "Seconds a validated session is trusted before the "
                   "directory is read again")
      ->capture_default_str()
      ->transform(whole_number(0, 3600));
  command
      ->add_option("--max-message-bytes", options->max_message_bytes,
                   "Largest client message; larger closes with 1009")
      ->capture_default_str()
      ->transform(whole_number(1, 1 << 20));
  command
      ->add_option("--upgrade-timeout", options->upgrade_timeout_seconds,
                   "Seconds a client has to send its upgrade request")
      ->capture_default_str()
      ->transform(whole_number(1, 600));
  command
      ->add_option("--idle-timeout", options->idle_timeout_seconds,
                   "Seconds of silence before a peer is dropped; pings "
                   "go out at half of it")
      ->capture_default_str()
      ->transform(whole_number(2, 86400));
  command
      ->add_option("--close-timeout", options->close_timeout_seconds,
                   "Seconds to wait for a client's close frame")
      ->capture_default_str()
      ->transform(whole_number(1, 600));
  command
      ->add_option("--shutdown-grace", options->shutdown_grace_seconds,
                   "Seconds SIGTERM waits for sockets to close")
      ->capture_default_str()
      ->transform(whole_number(0, 3600));
  command
      ->add_option("--max-connections", options->max_connections,
                   "Most open public connections (WebSockets and upgrades "
                   "in progress); more get 503. Lowered to what the open "
                   "file limit allows")
      ->capture_default_str()
      ->transform(whole_number(1, 10000000));
  command
      ->add_option("--max-connections-per-address",
                   options->max_connections_per_address,
                   "Most open public connections from one client address; "
                   "more get 503 (0: no cap, as behind a reverse proxy)")
      ->capture_default_str()
      ->transform(whole_number(0, 10000000));
  add_cluster_options(*command, options->cluster);
  describe_environment(*command, "internal-listen", true);

  command->callback([command, options, &exit_code] {
    std::optional<std::string> config_text;  // also for the failure's format
    try {
      std::set<std::string> on_command_line;
      for (auto* option : command->get_options())
        if (option->count() > 0 && !option->get_lnames().empty())
          on_command_line.insert(option->get_lnames().front());
      std::map<std::string, std::string> config;
      std::map<std::string, std::string> config_where;
      auto config_path =
          options->config_file.empty()
              ? environment_value("BATCHCAST_CONFIG").value_or("")
              : options->config_file;
      if (!config_path.empty()) {
        config_text = read_config_text(config_path);
        config = parse_config_text(*config_text, config_path, &config_where);
      }
      apply_environment_and_config(*command, config, config_where);
      refuse_empty_values(
          *command, on_command_line,
          {"--db", "--directory", "--tls-cert", "--tls-key",
           "--internal-tls-cert", "--internal-tls-key", "--secret-key-file",
           "--secret-key-fallbacks-file", "--publish-token-file",
           "--metrics-token-file", "--cluster-secret-file", "--config"},
          "name a file");
      refuse_empty_values(*command, on_command_line,
                          {"--session-cookie-name", "--auth-backends"},
                          "give a value");
      refuse_empty_values(*command, on_command_line, {"--node-name"},
                          "give it 1 to " +
                              std::to_string(max_node_name_bytes) +
                              " bytes of text");
      options->max_connections_set =
          command->get_option("--max-connections")->count() > 0;
      exit_code = serve(*options, on_command_line);
    } catch (const std::exception& e) {
      // The failure may have come before --log-format took its value from
      // the environment or the config file.
      std::optional<std::string> settled_format;
      if (command->get_option("--log-format")->count() > 0)
        settled_format = options->log_format;
      report_serve_failure(json_logs_asked(settled_format, config_text),
                           e.what());
      exit_code = 2;
    }
  });
}

}  // namespace batchcast::app
