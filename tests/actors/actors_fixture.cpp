#include "tests/actors/actors_fixture.hpp"

#include <cstdlib>
#include <future>
#include <stdexcept>
#include <thread>

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/connection.hpp"
#include "actors/errors.hpp"
#include "common/log.hpp"
#include "storage/sqlite_directory.hpp"

namespace batchcast::actors::testing {

namespace {

runtime_settings make_settings(const std::string& db_path,
                               std::chrono::milliseconds session_ttl) {
  runtime_settings settings;
  settings.session_ttl = session_ttl;
  settings.state_db_path = db_path;
  settings.directory_path = db_path;
  settings.standalone = true;
  settings.session.secret_keys = {secret_key};
  settings.session.auth_backends = storage::default_auth_backends();
  settings.node_name = "test-node";
  return settings;
}

storage::new_user user(const std::string& name, bool is_staff,
                       bool is_superuser) {
  storage::new_user created;
  created.username = name;
  created.is_staff = is_staff;
  created.is_superuser = is_superuser;
  return created;
}

}  // namespace

test_config::test_config() {
  register_message_types(*this);
  // Quiet by default; BATCHCAST_TEST_LOG_LEVEL=debug shows every step.
  auto level = std::getenv("BATCHCAST_TEST_LOG_LEVEL");
  configure_logging(level != nullptr ? level : "warn", log_format::text);
}

actors_fixture::actors_fixture(std::chrono::milliseconds session_ttl)
    : db_path(dir.file("batchcast.db")),
      settings(make_settings(db_path, session_ttl)),
      admin(db_path),
      system(config) {
  org = admin.add_organization("acme", true);
  other_org = admin.add_organization("globex", true);
  batch = admin.add_batch(org, "", "first");
  other_batch = admin.add_batch(other_org, "", "second");

  admin.add_user(user("admin", true, false));
  admin.add_member("admin", org, true);
  admin.add_user(user("root", true, true));
  admin.add_user(user("clerk", false, false));
  admin.add_member("clerk", org, true);
  admin.add_user(user("outsider", true, false));
  admin.add_member("outsider", other_org, true);

  admin_session = login("admin");
  root_session = login("root");
  clerk_session = login("clerk");
  outsider_session = login("outsider");

  directory = std::make_shared<counting_directory>(
      std::make_unique<storage::sqlite_directory>(db_path, true,
                                                  settings.tables));
  auto started =
      start_services(system, settings, directory, "counting:" + db_path);
  if (!started)
    throw std::runtime_error("services did not start: " +
                             actors::describe(started.error()));
  running = *started;
  baseline = running_actors();
}

actors_fixture::~actors_fixture() {
  stop();
}

void actors_fixture::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  stop_services(system, running);
  // The actor system's destructor waits for every actor; a connection
  // whose socket a test left open would keep it waiting.
  for (auto& each : watchers_)
    socket_closed(each);
  watchers_.clear();
}

watcher actors_fixture::connect(const std::string& session_key,
                                const std::string& batch_id, bool report_closed,
                                bool watched) {
  static std::uint64_t next_id = 0;
  connection_request request;
  request.connection_id = ++next_id;
  request.batch_id = batch_id;
  request.session_key = session_key;
  request.peer = "127.0.0.1:4242";
  watcher created;
  created.socket = std::make_shared<fake_socket>(report_closed);
  if (watched)
    created.actor = spawn_connection(system, running, request, created.socket);
  else
    created.actor =
        system.spawn(actors::connection, request, created.socket,
                     running.session_auth, caf::actor{}, running.registry);
  created.socket->attach(created.actor);
  watchers_.push_back(created.actor);
  return created;
}

api_result actors_fixture::try_publish(publish_request request) {
  auto answer = std::make_shared<std::promise<api_result>>();
  auto result = answer->get_future();
  actors::publish(system, running, std::move(request),
                  [answer](api_result r) { answer->set_value(std::move(r)); });
  if (result.wait_for(wait_limit) != std::future_status::ready)
    throw std::runtime_error("publish did not answer in time");
  return result.get();
}

storage::batch_record actors_fixture::publish(const std::string& batch_id,
                                              storage::batch_status status) {
  publish_request request;
  request.batch_id = batch_id;
  request.status = status;
  auto result = try_publish(request);
  if (auto* failure = std::get_if<api_failure>(&result))
    throw std::runtime_error(std::string{"publish failed: "} +
                             to_string(*failure));
  return std::get<storage::batch_record>(result);
}

api_result actors_fixture::fetch(const std::string& batch_id) {
  auto answer = std::make_shared<std::promise<api_result>>();
  auto result = answer->get_future();
  actors::fetch(system, running, batch_id,
                [answer](api_result r) { answer->set_value(std::move(r)); });
  if (result.wait_for(wait_limit) != std::future_status::ready)
    throw std::runtime_error("fetch did not answer in time");
  return result.get();
}

std::string actors_fixture::login(const std::string& username) {
  return admin.issue_session(username, secret_key,
                             storage::default_auth_backends().front(), 3600);
}

std::string actors_fixture::add_batch(const std::string& organization_id) {
  // Batch names are unique within an organization, as in OpenWISP.
  return admin.add_batch(organization_id, "",
                         "batch " + std::to_string(++batches_added_));
}

std::uint64_t actors_fixture::group_count() {
  // Hidden, so the helper does not count itself among running actors.
  caf::scoped_actor self{system, true};
  std::uint64_t count = std::numeric_limits<std::uint64_t>::max();
  self->request(running.registry, wait_limit, count_atom::value)
      .receive([&](std::uint64_t answer) { count = answer; },
               [&](caf::error&) {});
  return count;
}

std::size_t actors_fixture::running_actors() {
  return system.registry().running();
}

bool actors_fixture::eventually(const std::function<bool()>& done,
                                std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return true;
}

bool actors_fixture::ended(const caf::actor& actor,
                           std::chrono::milliseconds limit) {
  caf::scoped_actor self{system, true};
  self->monitor(actor);
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; },
                caf::after(limit) >> [] {});
  return down;
}

std::string describe(const api_result& result) {
  if (auto* failure = std::get_if<api_failure>(&result))
    return to_string(*failure);
  const auto& record = std::get<storage::batch_record>(result);
  return std::string{"record "} + record.batch_id + " " +
         std::string{storage::to_string(record.status)};
}

}  // namespace batchcast::actors::testing
