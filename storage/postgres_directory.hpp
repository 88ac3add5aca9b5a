// The directory read from the PostgreSQL database of a Django/OpenWISP
// site, through libpq: native uuid keys (an integer key works too) and
// timestamptz expiry dates.
//
// Owns one connection; not thread-safe. Like every directory it is meant
// to be used by one detached actor, since each call blocks on the network.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "storage/directory.hpp"
#include "storage/sqlite_directory.hpp"  // directory_tables

namespace batchcast::storage {

// Bounds on how long one call may block, so a hung server costs a 503,
// not a stuck actor. A value given in the URL (connect_timeout, options)
// takes precedence over these.
struct postgres_limits {
  std::chrono::seconds connect_timeout{5};
  std::chrono::milliseconds statement_timeout{5000};
  // TCP only: how long sent data may stay unacknowledged before the
  // connection is given up (a server that vanished from the network).
  std::chrono::milliseconds tcp_user_timeout{10000};
};

class postgres_directory : public directory {
 public:
  // Connects to `url`, a libpq connection URI
  // (postgresql://user[:password]@host:port/dbname?param=value) or
  // `key=value` string; a password may also come from PGPASSWORD or
  // ~/.pgpass. Sessions are read-only (default_transaction_read_only).
  // Throws storage_error, naming the server without credentials, when the
  // URL does not parse, the server cannot be reached or refuses us, or a
  // table or column a lookup reads is missing (see check).
  explicit postgres_directory(const std::string& url,
                              directory_tables tables = {},
                              postgres_limits limits = {});
  ~postgres_directory() override;
  postgres_directory(const postgres_directory&) = delete;
  postgres_directory& operator=(const postgres_directory&) = delete;

  // "postgresql://host:port/dbname" for logs: user, password and other
  // parameters left out. "postgresql (unparsable URL)" when `url` is not
  // one libpq reads.
  static std::string describe(const std::string& url);

  // A lost connection is reset once per call and the call retried (every
  // query is a read); when that fails too the call throws storage_error,
  // as does a statement timeout. An id the key column's type cannot hold
  // (a uuid for an integer key, say) is "not found", not an error.
  std::optional<session_row> find_session(
      const std::string& session_key) override;
  std::optional<user_row> find_user(const std::string& user_id) override;
  std::vector<std::string> managed_organizations(
      const std::string& user_id) override;
  std::optional<std::string> batch_organization(
      const std::string& batch_id) override;
  // Runs every lookup's query, matching no row: fails, naming the tables
  // and quoting the server's message (`column "x" does not exist`), when
  // one of them is missing, as it does at start.
  void check() override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace batchcast::storage
