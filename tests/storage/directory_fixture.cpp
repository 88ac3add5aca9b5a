#include "tests/storage/directory_fixture.hpp"

#include <chrono>

#include "storage/django_sqlite_format.hpp"
#include "storage/sqlite_db.hpp"

namespace batchcast::storage::testing {

directory_fixture::directory_fixture()
    : path(dir.file("batchcast.db")),
      admin(path),
      directory(path, /*read_only=*/false) {
  settings.secret_keys = {current_key, old_key};
  settings.auth_backends = default_auth_backends();
}

std::string directory_fixture::add_staff(const std::string& name,
                                         bool is_superuser) {
  return add_user(name, true, is_superuser);
}

std::string directory_fixture::add_user(const std::string& name, bool is_staff,
                                        bool is_superuser, bool is_active) {
  new_user user;
  user.username = name;
  user.is_staff = is_staff;
  user.is_superuser = is_superuser;
  user.is_active = is_active;
  return admin.add_user(user);
}

std::string directory_fixture::login(const std::string& name,
                                     const std::string& key,
                                     const std::string& backend,
                                     std::int64_t ttl_seconds) {
  return admin.issue_session(name, key, backend, ttl_seconds);
}

void directory_fixture::put_session(const std::string& session_key,
                                    const std::string& data,
                                    std::int64_t ttl_seconds) {
  sqlite_connection db(path, open_mode::read_write);
  auto insert = db.use(
      "INSERT INTO django_session (session_key, session_data, expire_date) "
      "VALUES (?, ?, ?)");
  insert->bind(1, session_key)
      .bind(2, data)
      .bind(3, format_django_datetime((now_ms() + ttl_seconds * 1000) * 1000));
  insert->run();
}

session_verdict directory_fixture::validate(const std::string& session_key) {
  return validate_at(session_key, now_ms());
}

session_verdict directory_fixture::validate_at(const std::string& session_key,
                                               std::int64_t now_unix_ms) {
  return validate_session(directory, settings, session_key, now_unix_ms);
}

std::int64_t directory_fixture::now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

std::string describe(const session_verdict& verdict) {
  if (auto failure = std::get_if<auth_failure>(&verdict))
    return to_string(*failure);
  return "accepted";
}

}  // namespace batchcast::storage::testing
