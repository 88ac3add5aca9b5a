#include "app/admin_command.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string_view>
#include <system_error>

#include "app/settings.hpp"
#include "common/terminal_text.hpp"
#include "storage/directory_admin.hpp"
#include "storage/session_validator.hpp"
#include "storage/sqlite_db.hpp"
#include "storage/state_store.hpp"
#include "storage/uuid.hpp"

namespace batchcast::app {

namespace {

struct admin_options {
  std::string db = "batchcast.db";
  std::string secret_key_file;
  bool secret_key_file_on_command_line = false;

  std::string name;
  bool name_given = false;  // --name '' is a blank name, not no name
  bool inactive = false;

  std::string username;
  bool staff = false;
  bool superuser = false;
  std::string password;

  std::string organization_id;
  bool admin = false;

  std::string batch_id;
  std::string session_key;
  long long ttl_seconds = 14 * 24 * 3600;  // Django's SESSION_COOKIE_AGE
};

using admin_action =
    std::function<std::string(storage::directory_admin&, admin_options&)>;
using when_missing = storage::directory_admin::when_missing;

std::string canonical_or_throw(const std::string& text, const char* what) {
  auto canonical = storage::canonical_uuid(text);
  if (!canonical)
    throw std::invalid_argument(std::string{what} + " `" + text +
                                "` is not a uuid");
  return *canonical;
}

// Before nothing_at judges whether the file is there: a name SQLite
// reads as no file, or a file that holds no database (see
// sqlite_path_problem).
void refuse_unusable_file(const std::string& path) {
  if (auto problem = storage::sqlite_path_problem(path); !problem.empty())
    throw std::runtime_error("--db " + path + ": " + problem);
}

// The embedded directory shares its file with the state store, which a
// newer batchcast may have migrated past this build: `serve` refuses such
// a file, and so does `admin`, rather than change what it cannot read.
void refuse_newer_schema(const std::string& path) {
  storage::sqlite_connection db{path, storage::open_mode::read_only};
  auto version = std::stoi(db.query_text("PRAGMA user_version"));
  if (auto problem = storage::state_store::schema_version_problem(version);
      !problem.empty())
    throw std::runtime_error(path + ": " + problem + "; refusing to change it");
}

// Python's str.isspace(), by which Django's form fields strip a value.
bool is_django_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 ||
         c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
         c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
         c == 0x3000;
}

// The code points of `text`, which must be valid UTF-8.
std::u32string code_points(const std::string& text) {
  std::u32string points;
  for (std::size_t i = 0; i < text.size();) {
    auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = lead < 0x80   ? 1
                         : lead < 0xe0 ? 2
                         : lead < 0xf0 ? 3
                                       : 4;
    char32_t point = length == 1 ? lead : lead & (0xff >> (length + 1));
    for (std::size_t k = 1; k < length && i + k < text.size(); ++k)
      point = (point << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
    points.push_back(point);
    i += length;
  }
  return points;
}

// Django's forms strip a name and then refuse it blank, so a name with
// whitespace at an end (a no-break space, a line separator) is one they
// would never store: refused here, as a blank one is. Call after
// refuse_unless_short_line, which checks that `value` is UTF-8.
const std::string& non_blank(const std::string& value, const char* what) {
  auto points = code_points(value);
  if (std::all_of(points.begin(), points.end(), is_django_space))
    throw std::invalid_argument(std::string{what} + " must not be blank");
  if (is_django_space(points.front()) || is_django_space(points.back()))
    throw std::invalid_argument(
        std::string{what} +
        " begins or ends with whitespace, which Django's forms strip: write "
        "it without");
  return value;
}

// Refuses `value` unless it is one line of UTF-8 text of at most
// `max_characters` characters (counted as UTF-8 sequences), naming the
// option and whose rule it is.
void refuse_unless_short_line(const std::string& value, const char* what,
                              std::size_t max_characters, const char* whose) {
  if (one_line(value) != value)
    throw std::invalid_argument(
        std::string{what} +
        " holds control characters or bytes that are not UTF-8");
  // Unicode's own line breaks, which one_line leaves (they are no
  // control characters) but which break a line all the same.
  auto points = code_points(value);
  for (auto point : points)
    if (point == 0x85 || point == 0x2028 || point == 0x2029)
      throw std::invalid_argument(std::string{what} +
                                  " holds a line or paragraph separator");
  auto characters = points.size();
  if (characters > max_characters)
    throw std::invalid_argument(
        std::string{what} + " is " + std::to_string(characters) +
        " characters long; " + whose + " takes at most " +
        std::to_string(max_characters));
}

// Usernames Django's validator and field take: at most 150 characters,
// each a letter, a digit or one of @.+-_. Django judges letters and
// digits by Unicode classes and folds names by NFKC (so 'ａlice' is
// 'alice' there); this command does neither, so it takes ASCII only,
// which Django takes as it is (a no-break space inside a name, or a
// fullwidth look-alike of a user's name, was taken before).
const std::string& django_username(const std::string& value) {
  refuse_unless_short_line(value, "USERNAME", 150, "Django");
  for (unsigned char c : value)
    if (c >= 0x80)
      throw std::invalid_argument(
          "USERNAME may hold only ASCII letters, digits and @.+-_ here "
          "(Django takes other letters too, but judges and folds them by "
          "Unicode rules this command does not apply)");
    else if (!std::isalnum(c) &&
             std::string_view{"@.+-_"}.find(static_cast<char>(c)) ==
                 std::string_view::npos)
      throw std::invalid_argument(
          "USERNAME may hold only letters, digits and @.+-_, as in Django "
          "(found '" +
          std::string(1, static_cast<char>(c)) + "')");
  return value;
}

// What RadiusBatch.name takes in OpenWISP RADIUS: required, at most 128
// characters. Not given, the batch is named by its id (empty here).
const std::string& batch_name(const std::string& value, bool given) {
  if (!given)
    return value;
  refuse_unless_short_line(value, "--name", 128, "OpenWISP RADIUS");
  non_blank(value, "--name");
  return value;
}

// What an OpenWISP organization's name takes (its model's field, from
// django-organizations): required, at most 200 characters.
const std::string& organization_name(const std::string& value) {
  refuse_unless_short_line(value, "NAME", 200, "OpenWISP");
  non_blank(value, "NAME");
  return value;
}

// --ttl: whole seconds, at least 1, ending by the last second Django can
// read. That bound moves with the clock, so it is checked against now
// rather than printed in --help as a number.
CLI::Validator session_ttl() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        long long value = 0;
        const char* end = text.data() + text.size();
        auto [stop, error] = std::from_chars(text.data(), end, value);
        if (text.empty() || stop != end || error == std::errc::invalid_argument)
          return "`" + text + "` is not a whole number";
        if (text.front() == '-' || (error == std::errc{} && value < 1))
          return "`" + text + "` is not a positive number of seconds";
        using namespace std::chrono;
        auto now_us =
            duration_cast<microseconds>(system_clock::now().time_since_epoch())
                .count();
        auto longest = storage::longest_session_ttl_seconds(now_us);
        if (error == std::errc::result_out_of_range || value > longest)
          return "`" + text +
                 "` seconds from now is after 9999-12-31 23:59:59 UTC, the "
                 "latest expiry Django can read: give at most " +
                 std::to_string(longest);
        text = std::to_string(value);  // decimal, as whole_number() does
        return {};
      },
      "SECONDS");
}

// True only when nothing is at `path` (a file that cannot be looked at
// is left for SQLite to report).
bool nothing_at(const std::string& path) {
  std::error_code error;
  auto status = std::filesystem::status(path, error);
  return status.type() == std::filesystem::file_type::not_found;
}

std::string secret_key_for(const admin_options& options) {
  return resolve_secret(options.secret_key_file_on_command_line,
                        options.secret_key_file, "BATCHCAST_SECRET_KEY",
                        "secret-key");
}

// One `admin <noun> <verb>` command: its own --db and --secret-key-file,
// the given arguments, and an action whose result is printed. Only a
// command that starts a new directory creates a missing --db file; any
// other would leave an empty database behind a mistyped path and then
// report the user or session it was given as unknown.
CLI::App* add_leaf(CLI::App& noun, const std::string& verb,
                   const std::string& description,
                   std::shared_ptr<admin_options> options, admin_action action,
                   int& exit_code,
                   when_missing missing = when_missing::refuse) {
  auto* leaf = noun.add_subcommand(verb, description);
  leaf->add_option("--db", options->db,
                   missing == when_missing::create
                       ? "State database (SQLite file; created when missing)"
                       : "State database (SQLite file; must exist)")
      ->capture_default_str();
  leaf->add_option(
      "--secret-key-file", options->secret_key_file,
      "File holding Django's SECRET_KEY (or BATCHCAST_SECRET_KEY)");
  describe_environment(*leaf, "db", false);
  leaf->callback([leaf, options, action, missing, &exit_code] {
    try {
      options->secret_key_file_on_command_line =
          leaf->get_option("--secret-key-file")->count() > 0;
      bool db_on_command_line = leaf->get_option("--db")->count() > 0;
      apply_environment_and_config(*leaf, {});
      refuse_unusable_file(options->db);
      bool creating = nothing_at(options->db);
      if (creating && missing == when_missing::refuse) {
        bool from_environment = !db_on_command_line &&
                                environment_value("BATCHCAST_DB").has_value();
        throw std::invalid_argument(
            "no database at " + options->db +
            (from_environment ? " (check BATCHCAST_DB)" : " (check --db)"));
      }
      if (!creating)
        refuse_newer_schema(options->db);
      storage::directory_admin directory{options->db, missing};
      // On stderr, so that `$(batchcast admin org add ...)` still captures
      // only the id.
      if (creating)
        std::cerr << "batchcast admin: created a new database at "
                  << options->db << "\n";
      auto printed = action(directory, *options);
      if (!printed.empty())
        std::cout << printed << std::endl;
      exit_code = 0;
    } catch (const std::exception& e) {
      std::cerr << "batchcast admin: " << e.what() << "\n";
      exit_code = 2;
    }
  });
  return leaf;
}

}  // namespace

void add_admin_command(CLI::App& parent, int& exit_code) {
  auto options = std::make_shared<admin_options>();
  auto* admin = parent.add_subcommand(
      "admin",
      "Manage the embedded directory (standalone mode). `org add`, the first "
      "step on a new directory, creates a missing --db file; every other "
      "command refuses one");
  admin->require_subcommand(1);

  auto* org = admin->add_subcommand("org", "Organizations");
  org->require_subcommand(1);
  auto* org_add = add_leaf(
      *org, "add",
      "Add an organization; prints its id. The first step on a new "
      "directory: creates the --db file when it is missing",
      options,
      [](storage::directory_admin& directory, admin_options& o) {
        return directory.add_organization(organization_name(o.name),
                                          !o.inactive);
      },
      exit_code, when_missing::create);
  org_add->add_option("NAME", options->name, "Organization name")->required();
  org_add->add_flag("--inactive", options->inactive, "Add it inactive");

  auto* user = admin->add_subcommand("user", "Users");
  user->require_subcommand(1);
  auto* user_add = add_leaf(
      *user, "add", "Add a user; prints its id", options,
      [](storage::directory_admin& directory, admin_options& o) {
        storage::new_user fresh;
        fresh.username = django_username(non_blank(o.username, "USERNAME"));
        fresh.is_staff = o.staff;
        fresh.is_superuser = o.superuser;
        fresh.is_active = !o.inactive;
        fresh.password = o.password;
        return directory.add_user(fresh);
      },
      exit_code);
  user_add->add_option("USERNAME", options->username, "Username")->required();
  user_add->add_flag("--staff", options->staff, "May use the admin site");
  user_add->add_flag("--superuser", options->superuser, "May watch any batch");
  user_add->add_flag("--inactive", options->inactive, "Add it inactive");
  user_add->add_option("--password", options->password,
                       "Password (default: unusable; or BATCHCAST_PASSWORD)");

  auto* user_deactivate = add_leaf(
      *user, "deactivate",
      "Deactivate a user: their sessions stop authenticating and open "
      "sockets are closed (1008) within the session TTL",
      options,
      [](storage::directory_admin& directory, admin_options& o) {
        directory.deactivate_user(o.username);
        return std::string{};
      },
      exit_code);
  user_deactivate->add_option("USERNAME", options->username, "Username")
      ->required();

  auto* user_unstaff = add_leaf(
      *user, "unstaff",
      "Take away a user's staff status: they may no longer watch batches, "
      "and open sockets are closed (1008) within the session TTL",
      options,
      [](storage::directory_admin& directory, admin_options& o) {
        directory.revoke_staff(o.username);
        return std::string{};
      },
      exit_code);
  user_unstaff->add_option("USERNAME", options->username, "Username")
      ->required();

  auto* member = admin->add_subcommand("member", "Organization memberships");
  member->require_subcommand(1);
  auto* member_add = add_leaf(
      *member, "add", "Make a user a member of an organization", options,
      [](storage::directory_admin& directory, admin_options& o) {
        directory.add_member(o.username,
                             canonical_or_throw(o.organization_id, "ORG_ID"),
                             o.admin);
        return std::string{};
      },
      exit_code);
  member_add->add_option("USERNAME", options->username, "Username")->required();
  member_add
      ->add_option("ORG_ID", options->organization_id, "Organization uuid")
      ->required();
  member_add->add_flag("--admin", options->admin,
                       "Administers the organization (may watch its batches)");

  auto* member_remove = add_leaf(
      *member, "remove",
      "Remove a user from an organization: they may no longer watch its "
      "batches, and open sockets are closed (1008) within the session TTL",
      options,
      [](storage::directory_admin& directory, admin_options& o) {
        directory.remove_member(
            o.username, canonical_or_throw(o.organization_id, "ORG_ID"));
        return std::string{};
      },
      exit_code);
  member_remove->add_option("USERNAME", options->username, "Username")
      ->required();
  member_remove
      ->add_option("ORG_ID", options->organization_id, "Organization uuid")
      ->required();

  auto* batch = admin->add_subcommand("batch", "Batches");
  batch->require_subcommand(1);
  auto* batch_add = add_leaf(
      *batch, "add", "Add a batch; prints its id", options,
      [](storage::directory_admin& directory, admin_options& o) {
        auto id = o.batch_id.empty() ? std::string{}
                                     : canonical_or_throw(o.batch_id, "--id");
        return directory.add_batch(
            canonical_or_throw(o.organization_id, "ORG_ID"), id,
            batch_name(o.name, o.name_given));
      },
      exit_code);
  batch_add->add_option("ORG_ID", options->organization_id, "Organization uuid")
      ->required();
  batch_add->add_option("--id", options->batch_id, "Batch uuid (default: new)");
  batch_add
      ->add_option("--name", options->name,
                   "Batch name, at most 128 characters (default: its id)")
      ->each([options](const std::string&) { options->name_given = true; });

  auto* session = admin->add_subcommand("session", "Django sessions");
  session->require_subcommand(1);
  auto* session_issue = add_leaf(
      *session, "issue", "Log a user in; prints the session key", options,
      [](storage::directory_admin& directory, admin_options& o) {
        if (o.ttl_seconds <= 0)
          throw std::invalid_argument("--ttl must be positive");
        return directory.issue_session(o.username, secret_key_for(o),
                                       storage::default_auth_backends().front(),
                                       o.ttl_seconds);
      },
      exit_code);
  session_issue->add_option("USERNAME", options->username, "Username")
      ->required();
  session_issue
      ->add_option("--ttl", options->ttl_seconds,
                   "Seconds until the session expires, at least 1; it must "
                   "expire by 9999-12-31 23:59:59 UTC, the latest date "
                   "Django can read")
      ->capture_default_str()
      ->transform(session_ttl());

  auto* session_end = add_leaf(
      *session, "end",
      "Log a session out, as Django's logout does: open sockets are closed "
      "(1008) within the session TTL",
      options,
      [](storage::directory_admin& directory, admin_options& o) {
        auto key = o.session_key;
        if (key.empty())
          key = environment_value("BATCHCAST_SESSION").value_or("");
        if (key.empty())
          throw std::invalid_argument(
              "give the session key as KEY or in BATCHCAST_SESSION");
        // The key itself is a credential: the message does not repeat it.
        if (!directory.delete_session(key))
          throw std::invalid_argument("no session has that key");
        return std::string{};
      },
      exit_code);
  session_end->add_option(
      "KEY", options->session_key,
      "Session key (or BATCHCAST_SESSION, which ps does not show)");
}

}  // namespace batchcast::app
