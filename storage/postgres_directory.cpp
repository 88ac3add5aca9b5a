#include "storage/postgres_directory.hpp"

#include <charconv>
#include <cstring>
#include <limits>
#include <vector>

#include <libpq-fe.h>

#include "storage/storage_error.hpp"
#include "storage/uuid.hpp"

namespace batchcast::storage {

namespace {

struct connection_deleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct result_deleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
struct conninfo_deleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using connection_ptr = std::unique_ptr<PGconn, connection_deleter>;
using result_ptr = std::unique_ptr<PGresult, result_deleter>;
using conninfo_ptr = std::unique_ptr<PQconninfoOption, conninfo_deleter>;

// libpq's messages end in a newline (sometimes several lines); a log line
// wants one line.
std::string one_line(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  for (auto& c : text)
    if (c == '\n')
      c = ' ';
  return text.empty() ? "unknown libpq error" : text;
}

std::string option_value(const PQconninfoOption* options, const char* key) {
  for (auto* each = options; each->keyword; ++each)
    if (std::strcmp(each->keyword, key) == 0 && each->val)
      return each->val;
  return {};
}

// SQLSTATEs meaning the parameter cannot be a value of the key column's
// type (text for a uuid column, a number too big for an integer one, bytes
// that are not UTF-8): such an id names no row.
bool is_unfit_parameter(const char* sqlstate) {
  if (!sqlstate)
    return false;
  for (const char* code : {"22P02", "22003", "22021"})
    if (std::strcmp(sqlstate, code) == 0)
      return true;
  return false;
}

// floor(extract(epoch ...) * 1000) as text: digits, or "Infinity" for a
// session that never expires. Anything else must not keep a session
// alive, so it reads as long expired.
std::int64_t parse_unix_ms(const char* text) {
  std::int64_t value = 0;
  auto end = text + std::strlen(text);
  auto [rest, error] = std::from_chars(text, end, value);
  if (error == std::errc{} && rest == end)
    return value;
  if (std::strcmp(text, "Infinity") == 0)
    return std::numeric_limits<std::int64_t>::max();
  return std::numeric_limits<std::int64_t>::min();
}

bool parse_bool(const PGresult* result, int row, int column) {
  return !PQgetisnull(result, row, column) &&
         std::strcmp(PQgetvalue(result, row, column), "t") == 0;
}

}  // namespace

struct postgres_directory::impl {
  // A lookup's query and the tables it reads, for messages.
  struct lookup {
    std::string sql;
    std::string tables;
  };

  std::string description;
  connection_ptr conn;
  lookup find_session;
  lookup find_user;
  lookup managed_organizations;
  lookup batch_organization;

  impl(const std::string& url, const directory_tables& tables,
       const postgres_limits& limits)
      : description(describe(url)) {
    connect(url, limits);
    auto q = [this](const std::string& name) { return quote(name); };
    // Parameter types are left to the server, which takes them from the
    // key column: uuid for OpenWISP, integer for a plain Django user, so
    // both use their index.
    find_session = {
        "SELECT session_data, floor(extract(epoch FROM expire_date) * 1000) "
        "FROM " +
            q(tables.session) + " WHERE session_key = $1",
        "table " + tables.session};
    find_user = {
        "SELECT id::text, password, is_active, is_staff, is_superuser "
        "FROM " +
            q(tables.user) + " WHERE id = $1",
        "table " + tables.user};
    managed_organizations = {
        "SELECT o.id::text FROM " + q(tables.organization_user) +
            " AS ou JOIN " + q(tables.organization) +
            " AS o ON o.id = ou.organization_id "
            "WHERE ou.user_id = $1 AND ou.is_admin AND o.is_active "
            "ORDER BY o.id",
        "tables " + tables.organization_user + " and " + tables.organization};
    batch_organization = {"SELECT organization_id::text FROM " +
                              q(tables.batch) + " WHERE id = $1",
                          "table " + tables.batch};
    // A wrong table name, a missing column or grant is a configuration
    // mistake: say so at start rather than answer 503 to every watcher.
    check_lookups();
  }

  void connect(const std::string& url, const postgres_limits& limits) {
    // Checked first so that a malformed URL is reported without libpq's
    // message, which may quote the part holding the password.
    char* parse_error = nullptr;
    conninfo_ptr parsed{PQconninfoParse(url.c_str(), &parse_error)};
    if (!parsed) {
      PQfreemem(parse_error);
      throw storage_error(
          "the PostgreSQL directory URL does not parse "
          "(expected postgresql://user@host:port/dbname)");
    }

    auto connect_timeout = std::to_string(limits.connect_timeout.count());
    auto options = "-c statement_timeout=" +
                   std::to_string(limits.statement_timeout.count()) +
                   " -c default_transaction_read_only=on";
    auto tcp_user_timeout = std::to_string(limits.tcp_user_timeout.count());
    // Later keywords win, and dbname expands to everything the URL says:
    // so these are defaults the URL may override.
    const char* keywords[] = {"connect_timeout",
                              "options",
                              "tcp_user_timeout",
                              "application_name",
                              "client_encoding",
                              "dbname",
                              nullptr};
    const char* values[] = {connect_timeout.c_str(),
                            options.c_str(),
                            tcp_user_timeout.c_str(),
                            "batchcast",
                            "UTF8",
                            url.c_str(),
                            nullptr};
    conn.reset(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
    if (!conn)
      throw storage_error(description + ": out of memory");
    if (PQstatus(conn.get()) != CONNECTION_OK)
      throw storage_error(description + ": " +
                          one_line(PQerrorMessage(conn.get())));
  }

  std::string quote(const std::string& name) {
    char* quoted = PQescapeIdentifier(conn.get(), name.c_str(), name.size());
    if (!quoted)
      throw storage_error(description + ": bad table name `" + name +
                          "`: " + one_line(PQerrorMessage(conn.get())));
    std::string result = quoted;
    PQfreemem(quoted);
    return result;
  }

  // Runs every lookup with a NULL parameter: the server resolves each
  // table and column the lookup reads, then finds no row without reading
  // one (a comparison with NULL is never true, which the planner knows).
  // Throws storage_error when one fails.
  void check_lookups() {
    for (const auto* each : {&find_session, &find_user, &managed_organizations,
                             &batch_organization})
      run(*each, nullptr);
  }

  // Runs a read with one parameter. Nothing (not an error) when the
  // parameter cannot be a value of the column it is compared with.
  result_ptr query(const lookup& which, const std::string& parameter) {
    if (parameter.find('\0') != std::string::npos)
      return nullptr;  // libpq would cut it short and match a prefix
    return run(which, parameter.c_str());
  }

  // Runs the lookup with `parameter` as $1 (SQL NULL when null). The
  // server's error names a missing column but not its table (with two
  // tables, an alias): the message says which tables the lookup reads.
  // A lost connection gets one PQreset per call; every query here is a
  // read, so running it again after the reset is safe.
  result_ptr run(const lookup& which, const char* parameter) {
    bool reset = false;
    for (;;) {
      if (PQstatus(conn.get()) != CONNECTION_OK) {
        if (reset)
          break;
        reset = true;
        PQreset(conn.get());
        if (PQstatus(conn.get()) != CONNECTION_OK)
          break;
      }

      const char* values[] = {parameter};
      result_ptr result{PQexecParams(conn.get(), which.sql.c_str(), 1, nullptr,
                                     values, nullptr, nullptr, 0)};
      auto status = PQresultStatus(result.get());
      if (status == PGRES_TUPLES_OK)
        return result;
      if (PQstatus(conn.get()) != CONNECTION_OK && !reset)
        continue;
      if (status == PGRES_FATAL_ERROR && is_unfit_parameter(PQresultErrorField(
                                             result.get(), PG_DIAG_SQLSTATE)))
        return nullptr;
      throw storage_error(description + ": " + which.tables + ": " +
                          one_line(result ? PQresultErrorMessage(result.get())
                                          : PQerrorMessage(conn.get())));
    }
    throw storage_error(description + ": connection lost: " +
                        one_line(PQerrorMessage(conn.get())));
  }
};

postgres_directory::postgres_directory(const std::string& url,
                                       directory_tables tables,
                                       postgres_limits limits)
    : impl_(std::make_unique<impl>(url, tables, limits)) {}

postgres_directory::~postgres_directory() = default;

std::string postgres_directory::describe(const std::string& url) {
  char* parse_error = nullptr;
  conninfo_ptr parsed{PQconninfoParse(url.c_str(), &parse_error)};
  if (!parsed) {
    PQfreemem(parse_error);
    return "postgresql (unparsable URL)";
  }
  auto host = option_value(parsed.get(), "host");
  if (host.empty())
    host = option_value(parsed.get(), "hostaddr");
  auto port = option_value(parsed.get(), "port");
  return "postgresql://" + host + (port.empty() ? "" : ":" + port) + "/" +
         option_value(parsed.get(), "dbname");
}

std::optional<session_row> postgres_directory::find_session(
    const std::string& session_key) {
  auto result = impl_->query(impl_->find_session, session_key);
  if (!result || PQntuples(result.get()) == 0)
    return std::nullopt;
  session_row row;
  row.session_data = PQgetvalue(result.get(), 0, 0);
  row.expire_unix_ms = PQgetisnull(result.get(), 0, 1)
                           ? std::numeric_limits<std::int64_t>::min()
                           : parse_unix_ms(PQgetvalue(result.get(), 0, 1));
  return row;
}

std::optional<user_row> postgres_directory::find_user(
    const std::string& user_id) {
  if (user_id.empty())
    return std::nullopt;
  auto result = impl_->query(impl_->find_user, user_id);
  if (!result || PQntuples(result.get()) == 0)
    return std::nullopt;
  user_row row;
  row.id = PQgetvalue(result.get(), 0, 0);
  row.password = PQgetvalue(result.get(), 0, 1);
  row.is_active = parse_bool(result.get(), 0, 2);
  row.is_staff = parse_bool(result.get(), 0, 3);
  row.is_superuser = parse_bool(result.get(), 0, 4);
  return row;
}

std::vector<std::string> postgres_directory::managed_organizations(
    const std::string& user_id) {
  std::vector<std::string> organizations;
  if (user_id.empty())
    return organizations;
  auto result = impl_->query(impl_->managed_organizations, user_id);
  if (!result)
    return organizations;
  for (int row = 0; row < PQntuples(result.get()); ++row)
    organizations.emplace_back(PQgetvalue(result.get(), row, 0));
  return organizations;
}

std::optional<std::string> postgres_directory::batch_organization(
    const std::string& batch_id) {
  if (!is_canonical_uuid(batch_id))
    return std::nullopt;
  auto result = impl_->query(impl_->batch_organization, batch_id);
  if (!result || PQntuples(result.get()) == 0)
    return std::nullopt;
  return std::string{PQgetvalue(result.get(), 0, 0)};
}

void postgres_directory::check() {
  impl_->check_lookups();
}

}  // namespace batchcast::storage
