// The directory read from an SQLite database laid out like Django's:
// UUIDs as 32 hex digits, datetimes as UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]".
//
// Used for the embedded standalone directory (the tables created by
// directory_admin in batchcast's own file) and for a real Django/OpenWISP
// SQLite file. Owned by one detached actor; not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "storage/directory.hpp"

namespace batchcast::storage {

// Table names, defaulting to OpenWISP's, so a renamed deployment still fits.
struct directory_tables {
  std::string session = "django_session";
  std::string user = "openwisp_users_user";
  std::string organization = "openwisp_users_organization";
  std::string organization_user = "openwisp_users_organizationuser";
  std::string batch = "radbatch";
};

class sqlite_directory : public directory {
 public:
  // Opens `path`; read-only when `read_only` (a Django database is never
  // written). A writable directory is the embedded one: the file is created
  // when missing and the tables when absent, so a fresh standalone node
  // answers "not found" rather than failing. Throws storage_error when the
  // file cannot be opened (read-only: when it does not exist).
  //
  // Booleans are read as Django writes them (0/1). A session whose
  // expire_date does not parse is reported as long expired.
  sqlite_directory(const std::string& path, bool read_only,
                   directory_tables tables = {});
  ~sqlite_directory() override;

  std::optional<session_row> find_session(
      const std::string& session_key) override;
  std::optional<user_row> find_user(const std::string& user_id) override;
  std::vector<std::string> managed_organizations(
      const std::string& user_id) override;
  std::optional<std::string> batch_organization(
      const std::string& batch_id) override;
  // Runs every lookup's statement, matching no row: fails, naming the
  // table and column in SQLite's message, when one of them is missing.
  // Also fails when the file was deleted or replaced since it was opened
  // (the connection would keep reading the old one), or when the file at
  // the path no longer reads as a database.
  void check() override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace batchcast::storage
