// The Django/OpenWISP directory tables as Django's SQLite backend creates
// them (char(32) UUIDs, bool, datetime, varchar(n) column types), for the
// embedded standalone directory and for tests.
#pragma once

#include "storage/sqlite_db.hpp"
#include "storage/sqlite_directory.hpp"

namespace batchcast::storage {

// Creates whichever of the tables and their indexes are missing; leaves
// existing ones (and their rows) alone. Runs in one transaction.
void create_directory_tables(sqlite_connection& db,
                             const directory_tables& tables);

}  // namespace batchcast::storage
