// An embedded directory in a temporary SQLite file, filled through
// directory_admin and read through sqlite_directory, with the verbs the
// session and directory tests are written in.
#pragma once

#include <cstdint>
#include <string>

#include "storage/directory_admin.hpp"
#include "storage/session_validator.hpp"
#include "storage/sqlite_directory.hpp"
#include "tests/support/temp_dir.hpp"

namespace batchcast::storage::testing {

inline constexpr const char* current_key = "current-secret-key-for-tests";
inline constexpr const char* old_key = "old-secret-key-still-a-fallback";
inline constexpr const char* model_backend =
    "django.contrib.auth.backends.ModelBackend";

struct directory_fixture {
  directory_fixture();

  // A user with these flags (no usable password: none is needed to log in
  // through issue_session).
  std::string add_staff(const std::string& name, bool is_superuser = false);
  std::string add_user(const std::string& name, bool is_staff,
                       bool is_superuser, bool is_active = true);

  // A session for `name`, signed with `key`, as `backend` logged them in.
  std::string login(const std::string& name,
                    const std::string& key = current_key,
                    const std::string& backend = model_backend,
                    std::int64_t ttl_seconds = 3600);

  // Puts a session row with this data directly, for sessions Django could
  // hold but directory_admin would not write.
  void put_session(const std::string& session_key, const std::string& data,
                   std::int64_t ttl_seconds = 3600);

  session_verdict validate(const std::string& session_key);
  session_verdict validate_at(const std::string& session_key,
                              std::int64_t now_unix_ms);

  static std::int64_t now_ms();

  batchcast::testing::temp_dir dir;
  std::string path;
  directory_admin admin;
  sqlite_directory directory;
  session_settings settings;
};

// For BOOST_TEST messages: the failure's name, or "accepted".
std::string describe(const session_verdict& verdict);

}  // namespace batchcast::storage::testing
