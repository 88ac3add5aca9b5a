#include "actors/services.hpp"

#include <cerrno>
#include <chrono>
#include <filesystem>

#include <sys/statvfs.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/connection.hpp"
#include "actors/directory_reader.hpp"
#include "actors/errors.hpp"
#include "actors/message_types.hpp"
#include "actors/peer_record_check.hpp"
#include "actors/registry.hpp"
#include "actors/session_auth.hpp"
#include "actors/session_watch.hpp"
#include "actors/storage_actor.hpp"
#include "common/log.hpp"
#include "storage/directory_admin.hpp"
#include "storage/state_store.hpp"

namespace batchcast::actors {

namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto instance = batchcast::logger("store");
  return instance;
}

// What an operator should check when SQLite cannot open `path` for
// writing: its message ("unable to open database file") names neither a
// read-only filesystem nor the folder, which must be writable too because
// the -wal and -shm files live beside the database.
std::string writability_hint(const std::string& path) {
  auto folder = std::filesystem::path{path}.parent_path();
  if (folder.empty())
    folder = ".";
  struct statvfs fs {};
  if (::statvfs(folder.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0)
    return " (the filesystem holding " + folder.string() +
           " is mounted read-only)";
  if (::access(folder.c_str(), W_OK) != 0 && errno != ENOENT)
    return " (this user cannot write to " + folder.string() +
           ", where SQLite keeps the -wal and -shm files)";
  // SQLite makes the -wal and -shm files with the database's mode, so a
  // start that failed on a read-only database leaves read-only ones that
  // fail the next start too, after the database itself was fixed.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    auto file = path + suffix;
    if (::access(file.c_str(), F_OK) == 0 && ::access(file.c_str(), W_OK) != 0)
      return " (this user cannot write to " + file + "; fix its owner or mode)";
  }
  return "";
}

caf::error open_failure(const std::string& what, const std::string& path,
                        const std::exception& e, const std::string& hint = "") {
  return caf::make_error(
      caf::sec::runtime_error,
      "cannot open " + what + " " + path + ": " + e.what() + hint);
}

// Calls the API callback exactly once. Should the actor that holds it end
// without answering (the system stopping under it), the destructor
// answers shutting_down, so an HTTP request never waits forever.
class once_callback {
 public:
  explicit once_callback(api_callback done) : done_(std::move(done)) {}
  once_callback(const once_callback&) = delete;
  once_callback& operator=(const once_callback&) = delete;

  ~once_callback() {
    if (done_)
      done_(api_failure::shutting_down);
  }

  void operator()(api_result result) {
    auto done = std::move(done_);
    done_ = nullptr;
    if (done)
      done(std::move(result));
  }

 private:
  api_callback done_;
};

using reply_ptr = std::shared_ptr<once_callback>;

api_failure failure_of(const caf::error& err) {
  return is_receiver_gone(err) ? api_failure::shutting_down
                               : api_failure::storage_failed;
}

void store_record(caf::event_based_actor* self, const services& running,
                  const publish_request& request, reply_ptr reply) {
  storage::batch_record record;
  record.batch_id = request.batch_id;
  record.status = request.status;
  record.updated_at_ms = storage::stamp_at_commit;
  record.origin = running.node_name;
  self->request(running.registry, caf::infinite, publish_atom::value,
                std::move(record))
      .then(
          // Counted by the status asked for: the reply may carry a newer
          // record that was already stored.
          [reply, counters = running.counters,
           published = request.status](storage::batch_record& stored) {
            counters->publishes.add(static_cast<std::size_t>(published));
            (*reply)(std::move(stored));
          },
          [reply](caf::error& err) { (*reply)(failure_of(err)); });
}

// ensure_batch said no; the directory tells which of the two reasons.
void explain_refusal(caf::event_based_actor* self, const services& running,
                     const publish_request& request, reply_ptr reply) {
  self->request(running.directory, caf::infinite, batch_org_atom::value,
                request.batch_id)
      .then(
          [reply, request](const std::vector<std::string>& organization) {
            auto mismatch = !organization.empty() &&
                            organization.front() != request.organization_id;
            (*reply)(mismatch ? api_failure::organization_mismatch
                              : api_failure::unknown_organization);
          },
          [reply](caf::error& err) { (*reply)(failure_of(err)); });
}

// The short-lived actors behind publish() and fetch(). Each ends once its
// last request is answered (an event-based actor without a behavior lives
// while it awaits responses). Their state travels as spawn arguments:
// CAF 0.17 dereferences a null argument tuple for an actor spawned from a
// function without arguments.
void publish_job(caf::event_based_actor* self, const services& running,
                 const publish_request& request, reply_ptr reply) {
  if (!running.standalone || request.organization_id.empty()) {
    store_record(self, running, request, reply);
    return;
  }
  self->request(running.store, caf::infinite, ensure_batch_atom::value,
                request.batch_id, request.organization_id)
      .then(
          [self, running, request, reply](bool added_or_present) {
            if (added_or_present)
              store_record(self, running, request, reply);
            else
              explain_refusal(self, running, request, reply);
          },
          [reply](caf::error& err) { (*reply)(failure_of(err)); });
}

void fetch_job(caf::event_based_actor* self, const caf::actor& store,
               const std::string& batch_id, reply_ptr reply) {
  self->request(store, caf::infinite, load_atom::value, batch_id)
      .then(
          [reply](std::vector<storage::batch_record>& found) {
            if (found.empty())
              (*reply)(api_failure::not_found);
            else
              (*reply)(std::move(found.front()));
          },
          [reply](caf::error& err) { (*reply)(failure_of(err)); });
}

// The authorize() counterpart of once_callback: a refusal that means "ask
// again later" if the actor ends without an answer.
class once_verdict {
 public:
  using callback = std::function<void(auth_verdict)>;

  explicit once_verdict(callback done) : done_(std::move(done)) {}
  once_verdict(const once_verdict&) = delete;
  once_verdict& operator=(const once_verdict&) = delete;

  ~once_verdict() {
    if (done_)
      (*this)(unavailable());
  }

  void operator()(auth_verdict verdict) {
    auto done = std::move(done_);
    done_ = nullptr;
    if (done)
      done(std::move(verdict));
  }

  static auth_verdict unavailable() {
    auth_verdict verdict;
    verdict.failure = storage::auth_failure::directory_failed;
    return verdict;
  }

 private:
  callback done_;
};

void authorize_job(caf::event_based_actor* self, const caf::actor& session_auth,
                   const std::string& session_key, const std::string& batch_id,
                   std::shared_ptr<once_verdict> reply) {
  self->request(session_auth, caf::infinite, authorize_atom::value, session_key,
                batch_id)
      .then([reply](auth_verdict& verdict) { (*reply)(std::move(verdict)); },
            [reply](caf::error&) { (*reply)(once_verdict::unavailable()); });
}

// The check_ready() counterpart of once_callback: every dependency reads
// as failed if the actor ends without an answer.
class once_report {
 public:
  using callback = std::function<void(readiness_report)>;

  explicit once_report(callback done) : done_(std::move(done)) {}
  once_report(const once_report&) = delete;
  once_report& operator=(const once_report&) = delete;

  ~once_report() {
    if (done_) {
      readiness_report failed;
      failed.state_store = probe_result::failed;
      failed.directory = probe_result::failed;
      (*this)(failed);
    }
  }

  void operator()(readiness_report report) {
    auto done = std::move(done_);
    done_ = nullptr;
    if (done)
      done(report);
  }

 private:
  callback done_;
};

void check_ready_job(caf::event_based_actor* self, const caf::actor& readiness,
                     std::shared_ptr<once_report> reply) {
  self->request(readiness, caf::infinite, ready_atom::value)
      .then([reply](readiness_report& report) { (*reply)(report); },
            // The destructor answers "failed" once the last copy goes.
            [](caf::error&) {});
}

// The cluster_status() counterpart: nothing, should the actor end without
// an answer.
class once_cluster_report {
 public:
  using callback = std::function<void(std::optional<cluster_report>)>;

  explicit once_cluster_report(callback done) : done_(std::move(done)) {}
  once_cluster_report(const once_cluster_report&) = delete;
  once_cluster_report& operator=(const once_cluster_report&) = delete;

  ~once_cluster_report() {
    if (done_)
      (*this)(std::nullopt);
  }

  void operator()(std::optional<cluster_report> report) {
    auto done = std::move(done_);
    done_ = nullptr;
    if (done)
      done(std::move(report));
  }

 private:
  callback done_;
};

void cluster_report_job(caf::event_based_actor* self, const caf::actor& cluster,
                        std::shared_ptr<once_cluster_report> reply) {
  self->request(cluster, std::chrono::seconds{5}, report_atom::value)
      .then([reply](cluster_report& report) { (*reply)(std::move(report)); },
            [reply](caf::error&) { (*reply)(std::nullopt); });
}

// What the storage actor owns, opened on the caller's thread so that
// start_services can fail with a message naming the file.
struct opened_state {
  std::shared_ptr<storage::state_store> store;
  std::shared_ptr<storage::directory_admin> admin;  // standalone only
};

// A state file stamped ahead of this machine's clock: a clock that was
// fast when the file was written, or is slow now, or a file restored
// from a machine whose clock was fast. Every publish is stamped after
// the newest stamp, so this node's `updated_at` runs that far ahead, and
// peers drop statuses stamped more than a day ahead of their own clocks
// (peer_record_check.hpp): past that, none of this node's publishes
// would reach them, with nothing else said here.
void warn_if_stamped_ahead(const storage::state_store& store,
                           const std::string& path, bool clustered) {
  using namespace std::chrono;
  auto now_ms =
      duration_cast<milliseconds>(system_clock::now().time_since_epoch())
          .count();
  auto ahead_ms = store.newest_stamp() - now_ms;
  if (ahead_ms <= duration_cast<milliseconds>(minutes{10}).count())
    return;
  bool past_peers =
      clustered &&
      ahead_ms > duration_cast<milliseconds>(peer_stamp_max_ahead).count();
  log()->warn(
      "state={} holds a status stamped {} s ahead of this machine's clock; "
      "every publish here is stamped after it{}. Is this machine's clock "
      "right (check NTP)? A file restored from a machine whose clock ran "
      "fast does this too",
      path, ahead_ms / 1000,
      past_peers ? ", and cluster peers drop statuses stamped more than a "
                   "day ahead of their clocks: none of this node's "
                   "publishes will reach them until its clock catches up"
                 : "");
}

caf::expected<opened_state> open_state(const runtime_settings& settings) {
  opened_state opened;
  try {
    opened.store =
        std::make_shared<storage::state_store>(settings.state_db_path);
  } catch (const std::exception& e) {
    return open_failure("state database", settings.state_db_path, e,
                        writability_hint(settings.state_db_path));
  }
  warn_if_stamped_ahead(*opened.store, settings.state_db_path,
                        settings.clustered);
  if (settings.standalone) {
    try {
      // Also creates the directory tables of a fresh file.
      opened.admin =
          std::make_shared<storage::directory_admin>(settings.directory_path);
    } catch (const std::exception& e) {
      return open_failure("embedded directory", settings.directory_path, e,
                          writability_hint(settings.directory_path));
    }
  }
  return opened;
}

services spawn_all(caf::actor_system& system, const runtime_settings& settings,
                   opened_state state,
                   std::shared_ptr<storage::directory> directory,
                   std::string directory_description) {
  services running;
  running.node_name = settings.node_name;
  running.standalone = settings.standalone;
  running.counters = std::make_shared<metrics>();
  running.store = spawn_storage_actor(system, std::move(state.store),
                                      std::move(state.admin),
                                      settings.state_db_path, running.counters);
  running.directory = spawn_directory_reader(
      system, std::move(directory), settings.session, directory_description);
  auth_settings auth;
  auth.session_ttl = settings.session_ttl;
  auth.negative_ttl = settings.negative_ttl;
  running.session_auth =
      spawn_session_auth(system, running.directory, auth, running.counters);
  running.session_watch =
      spawn_session_watch(system, running.session_auth, settings.session_ttl);
  running.registry = spawn_registry(system, running.store, running.counters);
  running.readiness = spawn_readiness(system, running.store, running.directory,
                                      settings.readiness);
  log()->info("services started state={} directory={} standalone={} node={}",
              settings.state_db_path, directory_description,
              settings.standalone, settings.node_name);
  return running;
}

}  // namespace

void register_message_types(caf::actor_system_config& config) {
  config.add_message_type<storage::batch_record>("batchcast::batch_record");
  config.add_message_type<storage::commit_page>("batchcast::commit_page");
  config.add_message_type<storage::principal>("batchcast::principal");
  config.add_message_type<session_lookup>("batchcast::session_lookup");
  config.add_message_type<auth_verdict>("batchcast::auth_verdict");
  config.add_message_type<readiness_report>("batchcast::readiness_report");
  config.add_message_type<store_probe>("batchcast::store_probe");
  // CAF 0.17.6's add_error_category<T> does not compile (its renderer
  // lambda has the wrong signature), so the renderer is given directly.
  config.add_error_category(
      error_category, [](std::uint8_t code, caf::atom_value category,
                         const caf::message& context) {
        return describe(caf::error{code, category, context});
      });
}

caf::expected<services> start_services(caf::actor_system& system,
                                       const runtime_settings& settings) {
  auto state = open_state(settings);
  if (!state)
    return std::move(state.error());
  std::shared_ptr<storage::directory> directory;
  try {
    // Read-only even in standalone mode: the embedded directory is written
    // only through directory_admin, which open_state has already made
    // create the tables.
    directory = std::make_shared<storage::sqlite_directory>(
        settings.directory_path, /*read_only=*/true, settings.tables);
  } catch (const std::exception& e) {
    return open_failure("directory", settings.directory_path, e);
  }
  return spawn_all(system, settings, std::move(*state), std::move(directory),
                   "sqlite:" + settings.directory_path);
}

caf::expected<services> start_services(
    caf::actor_system& system, const runtime_settings& settings,
    std::shared_ptr<storage::directory> directory, std::string description) {
  auto state = open_state(settings);
  if (!state)
    return std::move(state.error());
  return spawn_all(system, settings, std::move(*state), std::move(directory),
                   std::move(description));
}

void stop_services(caf::actor_system& system, const services& running) {
  caf::scoped_actor self{system};

  self->send_exit(running.registry, caf::exit_reason::user_shutdown);
  self->wait_for(running.registry);

  self->request(running.store, caf::infinite, flush_atom::value)
      // A unit reply arrives as an empty message.
      .receive([]() {},
               [](caf::error& err) {
                 log()->error("flush at shutdown failed error={}",
                              describe(err));
               });

  for (const auto& each :
       {running.readiness, running.session_watch, running.session_auth,
        running.directory, running.store})
    self->send_exit(each, caf::exit_reason::user_shutdown);
  self->wait_for(running.readiness, running.session_watch, running.session_auth,
                 running.directory, running.store);
  log()->info("services stopped");
}

caf::actor spawn_connection(caf::actor_system& system, const services& running,
                            connection_request request,
                            client_socket_ptr socket) {
  return system.spawn(connection, std::move(request), std::move(socket),
                      running.session_auth, running.session_watch,
                      running.registry);
}

void socket_closed(const caf::actor& connection) {
  if (connection)
    caf::anon_send(connection, socket_closed_atom::value);
}

const char* to_string(api_failure failure) {
  switch (failure) {
    case api_failure::not_found:
      return "not_found";
    case api_failure::unknown_organization:
      return "unknown_organization";
    case api_failure::organization_mismatch:
      return "organization_mismatch";
    case api_failure::storage_failed:
      return "storage_failed";
    case api_failure::shutting_down:
      return "shutting_down";
  }
  return "storage_failed";
}

void publish(caf::actor_system& system, const services& running,
             publish_request request, api_callback done) {
  system.spawn(publish_job, running, std::move(request),
               std::make_shared<once_callback>(std::move(done)));
}

void fetch(caf::actor_system& system, const services& running,
           std::string batch_id, api_callback done) {
  system.spawn(fetch_job, running.store, std::move(batch_id),
               std::make_shared<once_callback>(std::move(done)));
}

void cluster_status(caf::actor_system& system, const services& running,
                    std::function<void(std::optional<cluster_report>)> done) {
  if (!running.cluster) {
    cluster_report single;
    single.node = running.node_name;
    done(std::move(single));
    return;
  }
  system.spawn(cluster_report_job, running.cluster,
               std::make_shared<once_cluster_report>(std::move(done)));
}

void authorize(caf::actor_system& system, const services& running,
               std::string session_key, std::string batch_id,
               std::function<void(auth_verdict)> done) {
  system.spawn(authorize_job, running.session_auth, std::move(session_key),
               std::move(batch_id),
               std::make_shared<once_verdict>(std::move(done)));
}

void check_ready(caf::actor_system& system, const services& running,
                 std::function<void(readiness_report)> done) {
  system.spawn(check_ready_job, running.readiness,
               std::make_shared<once_report>(std::move(done)));
}

}  // namespace batchcast::actors
