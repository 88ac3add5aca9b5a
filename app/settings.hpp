// Where a setting's value comes from, in order of precedence: the command
// line, then the environment (BATCHCAST_<FLAG_NAME>), then the config file,
// then the built-in default. Also the small parsers the commands share.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace batchcast::app {

// A config file: one `name = value` per line, where name is a long flag
// without its dashes (`listen`, `allowed-hosts`; underscores also work).
// Blank lines and lines starting with '#' are ignored, and so is a '#'
// comment after a value when whitespace precedes it; values may be quoted
// with "...". A leading UTF-8 byte order mark is skipped. Throws
// std::runtime_error naming the file and line, also for a setting given twice,
// and for a file over text_file_limit.
std::map<std::string, std::string> read_config_file(const std::string& path);

// read_config_file in two steps, for a caller that needs the text again
// after a parse error: the file's text, with the byte order mark skipped
// (throws when it cannot be read), then its settings (throws naming
// `path` and the line).
std::string read_config_text(const std::string& path);
// When `where` is given, it gets "path:line" for every setting read.
std::map<std::string, std::string> parse_config_text(
    const std::string& text, const std::string& path,
    std::map<std::string, std::string>* where = nullptr);

// The value the first line setting `name` gives it in a config file's
// `text`, skipping lines parse_config_text refuses: how a start that
// failed on a bad setting still learns, say, the log format to report in.
std::optional<std::string> config_value_despite_errors(const std::string& text,
                                                       const std::string& name);

// "internal-listen" -> "BATCHCAST_INTERNAL_LISTEN".
std::string environment_name(const std::string& long_flag);

// Gives every option of `command` that the command line left unset its
// value from the environment, else from `config` (which may be empty).
// Throws std::runtime_error for a config key that names no option,
// starting with the key's "path:line" when `where` has it.
void apply_environment_and_config(
    CLI::App& command, const std::map<std::string, std::string>& config,
    const std::map<std::string, std::string>& where = {});

// Appends "Every flag also reads BATCHCAST_<FLAG> ..." to the help text,
// with `example_flag` (a long flag of `command`, without dashes) as the
// example; the config file is mentioned only for a command that reads one.
void describe_environment(CLI::App& command, const std::string& example_flag,
                          bool reads_config_file);

// A check for a numeric option: a whole number from `min` to `max`.
// Unlike CLI::Range, which says "not in range" of `abc` too, it tells a
// value that is no whole number (`abc`, `1.5`, `1e3`) from one out of
// range. It reads decimal digits only and hands the number on written
// without leading zeros, since CLI11 itself would read `010` as octal
// (8) and refuse `09`: attach it with transform(), as check() gives it a
// copy to look at.
CLI::Validator whole_number(long long min, long long max);

struct host_port {
  std::string host;
  std::uint16_t port = 0;
};

// "127.0.0.1:8000", "[::1]:8000", "localhost:0". Throws
// std::invalid_argument with a message naming `what` on anything else.
host_port parse_host_port(const std::string& text, const std::string& what);

// Why `host` cannot be taken as written, or nothing: a number that the C
// library reads as an IPv4 address other than it looks, in octal
// (127.0.0.010 is 127.0.0.8), hex (0x7f.0.0.1) or a shorthand (127.1),
// which a listener would bind and a peer dial without a word.
std::string ambiguous_ipv4_problem(const std::string& host);

// The whole of a secret file, at most secret_file_limit bytes. Throws
// std::runtime_error naming the file and the reason it cannot be read;
// the secret itself never appears in a message.
std::string read_secret_text(const std::string& path);

// The secret alone on the first line of a file, without its line ending;
// blank lines may follow it. Throws as read_secret_text does, and also
// when the file is blank or holds a second line that is not.
std::string read_secret_file(const std::string& path);

// A secret (`what`, e.g. "secret-key") comes from its file flag when that
// was given on the command line, else from the environment variable
// `secret_variable` holding the secret itself, else from `file` as named by
// the environment or the config file. Every command resolves secrets this
// way, so `admin` signs sessions with the key `serve` verifies. Throws
// std::runtime_error when none is set or the file cannot be read.
std::string resolve_secret(bool file_on_command_line, const std::string& file,
                           const char* secret_variable, const char* what);

// Where resolve_secret (or a caller resolving an optional secret the same
// way) takes the secret from, for a message that must not quote it:
// "BATCHCAST_PUBLISH_TOKEN", or "the file PATH (publish-token-file)".
std::string secret_source(bool file_on_command_line, const std::string& file,
                          const char* secret_variable, const char* what);

// Non-empty items of `text` split at `separator`, trimmed of spaces.
std::vector<std::string> split_list(const std::string& text, char separator);

// Non-empty whitespace-separated words (spaces, tabs, newlines).
std::vector<std::string> split_words(const std::string& text);

// The value of an environment variable, if set and non-empty.
std::optional<std::string> environment_value(const std::string& name);

}  // namespace batchcast::app
