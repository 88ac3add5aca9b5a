#include "tests/integration/service_fixture.hpp"

#include <thread>

#include "storage/directory_admin.hpp"
#include "storage/session_validator.hpp"

namespace batchcast::testing {

namespace {

std::string issue(storage::directory_admin& directory, const std::string& who,
                  std::int64_t ttl_seconds = 3600) {
  return directory.issue_session(who, fixture_secret_key,
                                 storage::default_auth_backends().front(),
                                 ttl_seconds);
}

}  // namespace

service_fixture::service_fixture() {
  seed();
  start();
}

service_fixture::~service_fixture() {
  if (node_)
    node_->stop(std::chrono::seconds{2});
}

void service_fixture::seed() {
  storage::directory_admin directory{dir.file("state.db")};
  org_a = directory.add_organization("org a", true);
  org_b = directory.add_organization("org b", true);
  batch_a = directory.add_batch(org_a, "", "batch a");
  batch_b = directory.add_batch(org_b, "", "batch b");

  auto add = [&](const std::string& name, bool staff, bool super, bool active) {
    storage::new_user user;
    user.username = name;
    user.is_staff = staff;
    user.is_superuser = super;
    user.is_active = active;
    user.password = name + "-password";
    directory.add_user(user);
  };
  add("manager", true, false, true);
  add("root", true, true, true);
  add("other", true, false, true);
  add("member", true, false, true);
  add("nonstaff", false, true, true);
  add("inactive", true, false, false);
  directory.add_member("manager", org_a, true);
  directory.add_member("other", org_b, true);
  directory.add_member("member", org_a, false);
  directory.add_member("inactive", org_a, true);

  manager_of_a = issue(directory, "manager");
  superuser = issue(directory, "root");
  staff_of_b = issue(directory, "other");
  plain_member_a = issue(directory, "member");
  non_staff_super = issue(directory, "nonstaff");
  inactive_staff = issue(directory, "inactive");
  expiring = issue(directory, "manager", 1);
}

void service_fixture::start() {
  app::service_settings settings;
  settings.runtime.state_db_path = dir.file("state.db");
  settings.runtime.directory_path = dir.file("state.db");
  settings.runtime.standalone = true;
  settings.runtime.node_name = "test-node";
  settings.runtime.session_ttl = session_ttl;
  settings.runtime.session.secret_keys = {fixture_secret_key};
  settings.runtime.session.auth_backends = storage::default_auth_backends();
  settings.network.public_port = 0;
  settings.network.internal_port = 0;
  settings.network.publish_token = fixture_token;
  settings.network.metrics_token = metrics_token;
  settings.network.close_timeout = std::chrono::seconds{2};
  settings.network.idle_timeout = idle_timeout;
  settings.network.max_connections = max_connections;
  settings.network.max_connections_per_address = max_connections_per_address;
  settings.actor_threads = 2;
  node_ = std::make_unique<app::service>(settings);
  node_->start();
}

void service_fixture::restart() {
  node_->stop(std::chrono::seconds{2});
  node_.reset();
  start();
}

int service_fixture::connect(ws_client& client, const std::string& batch_id,
                             const std::string& session,
                             const std::string& origin) {
  ws_client_options options;
  options.port = public_port();
  options.path = "/ws/radius/batch/" + batch_id + "/";
  if (!session.empty())
    options.cookie = "sessionid=" + session;
  options.origin = origin;
  return client.connect(options);
}

int service_fixture::connect_from(const std::string& source_address,
                                  ws_client& client,
                                  const std::string& batch_id,
                                  const std::string& session) {
  ws_client_options options;
  options.port = public_port();
  options.path = "/ws/radius/batch/" + batch_id + "/";
  options.cookie = "sessionid=" + session;
  options.local_address = source_address;
  return client.connect(options);
}

http_result service_fixture::publish(const std::string& batch_id,
                                     const std::string& status) {
  return http_request("127.0.0.1", internal_port(), "POST",
                      "/api/v1/radius/batch/" + batch_id + "/status",
                      R"({"status":")" + status + R"("})",
                      "Bearer " + fixture_token);
}

http_result service_fixture::fetch(const std::string& batch_id) {
  return http_request("127.0.0.1", internal_port(), "GET",
                      "/api/v1/radius/batch/" + batch_id + "/status", {},
                      "Bearer " + fixture_token);
}

std::size_t service_fixture::running_actors() {
  return node_->system().registry().running();
}

std::string browser_upgrade_request(const std::string& batch_id,
                                    const std::string& session) {
  return "GET /ws/radius/batch/" + batch_id +
         "/ HTTP/1.1\r\nHost: localhost\r\n"
         "Connection: Upgrade\r\nUpgrade: websocket\r\n"
         "Sec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Origin: http://localhost\r\n"
         "Cookie: sessionid=" +
         session + "\r\n\r\n";
}

}  // namespace batchcast::testing
