#include "storage/directory_schema.hpp"

#include <string>

namespace batchcast::storage {

namespace {

// Django names the foreign keys "<field>_id" and adds
// "REFERENCES ... DEFERRABLE INITIALLY DEFERRED", checked at commit.
std::string references(const std::string& table) {
  return " REFERENCES " + quote_identifier(table) +
         " (\"id\") DEFERRABLE INITIALLY DEFERRED";
}

std::string index_on(const std::string& table, const std::string& column,
                     bool unique = false) {
  return std::string(unique ? "CREATE UNIQUE INDEX" : "CREATE INDEX") +
         " IF NOT EXISTS " + quote_identifier(table + "_" + column) + " ON " +
         quote_identifier(table) + " (" + column + ");\n";
}

}  // namespace

void create_directory_tables(sqlite_connection& db,
                             const directory_tables& tables) {
  const auto& t = tables;
  auto q = [](const std::string& name) { return quote_identifier(name); };

  std::string ddl;
  ddl += "CREATE TABLE IF NOT EXISTS " + q(t.session) +
         " (\"session_key\" varchar(40) NOT NULL PRIMARY KEY,"
         " \"session_data\" text NOT NULL,"
         " \"expire_date\" datetime NOT NULL);\n";
  ddl += index_on(t.session, "expire_date");

  // AbstractUser's columns, then the ones openwisp_users adds.
  ddl += "CREATE TABLE IF NOT EXISTS " + q(t.user) +
         " (\"id\" char(32) NOT NULL PRIMARY KEY,"
         " \"password\" varchar(128) NOT NULL,"
         " \"last_login\" datetime NULL,"
         " \"is_superuser\" bool NOT NULL,"
         " \"username\" varchar(150) NOT NULL UNIQUE,"
         " \"first_name\" varchar(150) NOT NULL,"
         " \"last_name\" varchar(150) NOT NULL,"
         " \"email\" varchar(254) NULL UNIQUE,"
         " \"is_staff\" bool NOT NULL,"
         " \"is_active\" bool NOT NULL,"
         " \"date_joined\" datetime NOT NULL,"
         " \"bio\" text NOT NULL,"
         " \"url\" varchar(200) NOT NULL,"
         " \"company\" varchar(30) NOT NULL,"
         " \"location\" varchar(256) NOT NULL,"
         " \"phone_number\" varchar(128) NULL UNIQUE,"
         " \"birth_date\" date NULL,"
         " \"notes\" text NOT NULL,"
         " \"language\" varchar(8) NOT NULL);\n";

  ddl += "CREATE TABLE IF NOT EXISTS " + q(t.organization) +
         " (\"id\" char(32) NOT NULL PRIMARY KEY,"
         " \"name\" varchar(200) NOT NULL,"
         " \"is_active\" bool NOT NULL,"
         " \"created\" datetime NOT NULL,"
         " \"modified\" datetime NOT NULL,"
         " \"slug\" varchar(200) NOT NULL UNIQUE,"
         " \"description\" text NOT NULL,"
         " \"email\" varchar(254) NOT NULL,"
         " \"url\" varchar(200) NOT NULL);\n";

  ddl += "CREATE TABLE IF NOT EXISTS " + q(t.organization_user) +
         " (\"id\" char(32) NOT NULL PRIMARY KEY,"
         " \"created\" datetime NOT NULL,"
         " \"modified\" datetime NOT NULL,"
         " \"is_admin\" bool NOT NULL,"
         " \"organization_id\" char(32) NOT NULL" +
         references(t.organization) +
         ","
         " \"user_id\" char(32) NOT NULL" +
         references(t.user) + ");\n";
  ddl += index_on(t.organization_user, "organization_id");
  ddl += index_on(t.organization_user, "user_id");
  ddl += "CREATE UNIQUE INDEX IF NOT EXISTS " +
         q(t.organization_user + "_user_id_organization_id_uniq") + " ON " +
         q(t.organization_user) + " (\"user_id\", \"organization_id\");\n";

  ddl += "CREATE TABLE IF NOT EXISTS " + q(t.batch) +
         " (\"id\" char(32) NOT NULL PRIMARY KEY,"
         " \"created\" datetime NOT NULL,"
         " \"modified\" datetime NOT NULL,"
         " \"name\" varchar(128) NOT NULL,"
         " \"strategy\" varchar(16) NOT NULL,"
         " \"csvfile\" varchar(100) NULL,"
         " \"prefix\" varchar(20) NULL,"
         " \"user_credentials\" text NULL,"
         " \"expiration_date\" date NULL,"
         " \"status\" varchar(16) NOT NULL,"
         " \"organization_id\" char(32) NOT NULL" +
         references(t.organization) + ");\n";
  ddl += index_on(t.batch, "organization_id");
  ddl += "CREATE UNIQUE INDEX IF NOT EXISTS " +
         q(t.batch + "_name_organization_id_uniq") + " ON " + q(t.batch) +
         " (\"name\", \"organization_id\");\n";

  sqlite_transaction tx(db);
  db.exec(ddl);
  tx.commit();
}

}  // namespace batchcast::storage
