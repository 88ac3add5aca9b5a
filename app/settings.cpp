#include "app/settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

#include <arpa/inet.h>

#include "app/request_values.hpp"
#include "common/small_file.hpp"
#include "common/terminal_text.hpp"

namespace batchcast::app {

namespace {

constexpr std::string_view utf8_byte_order_mark = "\xEF\xBB\xBF";

std::string trim(const std::string& text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return {};
  auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Whether `text` from `from` on is nothing but whitespace and a comment.
bool only_a_comment_from(const std::string& text, std::size_t from) {
  auto rest = trim(text.substr(from));
  return rest.empty() || rest.front() == '#';
}

// The value written after `=`: "value  # note" -> "value" (a '#' starts
// a comment only after whitespace, so a#b stays whole), and a value in
// double quotes is taken as they enclose it, '#' and spaces included,
// with at most a comment after them. Anything else that would be read
// otherwise than it looks is refused (a tester's `db = "q1.db" # state`
// made a state file named `"q1.db" # state`): single quotes, which are
// not read, and text after a closing quote.
std::string config_value(const std::string& text, const std::string& where) {
  // `name = # later`: a comment, not the value "# later".
  if (!text.empty() && text.front() == '#')
    return {};
  if (!text.empty() && text.front() == '\'')
    throw std::runtime_error(
        where +
        ": single quotes are not read in the config file: write the "
        "value bare, or in double quotes");
  if (!text.empty() && text.front() == '"') {
    auto close = text.find('"', 1);
    if (close == std::string::npos)
      throw std::runtime_error(where +
                               ": the value's double quote is "
                               "not closed");
    if (!only_a_comment_from(text, close + 1))
      throw std::runtime_error(
          where +
          ": text after the closing double quote (only a `#` "
          "comment may follow it)");
    return text.substr(1, close - 1);
  }
  for (std::size_t i = 1; i < text.size(); ++i)
    if (text[i] == '#' && (text[i - 1] == ' ' || text[i - 1] == '\t'))
      return trim(text.substr(0, i));
  return text;
}

std::string config_key(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return name;
}

// The long name an option answers to in the environment and config file;
// empty for positionals and help, which take neither.
std::string long_name_of(const CLI::Option& option) {
  if (option.get_positional() || option.get_lnames().empty())
    return {};
  auto name = option.get_lnames().front();
  return name == "help" ? std::string{} : name;
}

void set_from(CLI::Option& option, const std::string& value) {
  if (option.get_type_size_max() > 1 || option.get_items_expected_max() > 1)
    option.add_result(split_list(value, ','));
  else
    option.add_result(value);
  option.run_callback();
}

// One line of a config file as (name, value); nothing for a blank line or
// a comment. Throws std::runtime_error starting with `where` for a line
// that is neither. A [section] header is refused: the settings under it
// would apply all the same, which is not what its writer meant.
std::optional<std::pair<std::string, std::string>> parse_config_line(
    const std::string& line, const std::string& where) {
  auto text = trim(line);
  if (text.empty() || text.front() == '#')
    return std::nullopt;
  if (text.front() == '[')
    throw std::runtime_error(
        where + ": the config file has no [sections]: every line is a " +
        "setting of serve; remove the line");
  auto equals = text.find('=');
  if (equals == std::string::npos)
    throw std::runtime_error(where + ": expected `name = value`");
  auto key = config_key(trim(text.substr(0, equals)));
  if (key.empty())
    throw std::runtime_error(where + ": missing a setting name before `=`");
  return std::pair{key, config_value(trim(text.substr(equals + 1)), where)};
}

}  // namespace

std::string read_config_text(const std::string& path) {
  auto text = read_small_file(path, text_file_limit, "config file");
  // Windows editors start a UTF-8 file with a byte order mark; left in,
  // it would become part of the first setting's name, invisibly.
  if (text.rfind(utf8_byte_order_mark, 0) == 0)
    text.erase(0, utf8_byte_order_mark.size());
  return text;
}

std::map<std::string, std::string> parse_config_text(
    const std::string& text, const std::string& path,
    std::map<std::string, std::string>* where_read) {
  std::istringstream in{text};
  std::map<std::string, std::string> values;
  std::map<std::string, int> line_of;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    auto where = path + ":" + std::to_string(number);
    auto setting = parse_config_line(line, where);
    if (!setting)
      continue;
    auto& [key, value] = *setting;
    // A second line for a setting would silently win over the first;
    // for `peers` that drops nodes without a word.
    // The file to read is settled before any is read, so this line could
    // only be ignored.
    if (key == "config")
      throw std::runtime_error(
          where +
          ": config cannot name another config file: batchcast reads only "
          "the one --config or BATCHCAST_CONFIG names; move the settings "
          "into this file and remove the line");
    if (auto [first, fresh] = line_of.emplace(key, number); !fresh)
      throw std::runtime_error(where + ": `" + key +
                               "` is already set on line " +
                               std::to_string(first->second) +
                               "; give one line (lists are comma-separated)");
    values[key] = value;
    if (where_read != nullptr)
      (*where_read)[key] = where;
  }
  return values;
}

std::map<std::string, std::string> read_config_file(const std::string& path) {
  return parse_config_text(read_config_text(path), path);
}

std::optional<std::string> config_value_despite_errors(
    const std::string& text, const std::string& name) {
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    try {
      if (auto setting = parse_config_line(line, {});
          setting && setting->first == name)
        return setting->second;
    } catch (const std::runtime_error&) {
      // parse_config_text reports this line; the lines after it still count
    }
  }
  return std::nullopt;
}

std::string environment_name(const std::string& long_flag) {
  std::string name = "BATCHCAST_";
  for (unsigned char c : long_flag)
    name += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

void apply_environment_and_config(
    CLI::App& command, const std::map<std::string, std::string>& config,
    const std::map<std::string, std::string>& where) {
  std::map<std::string, CLI::Option*> by_name;
  for (auto* option : command.get_options()) {
    auto name = long_name_of(*option);
    if (!name.empty())
      by_name[name] = option;
  }
  for (const auto& [key, value] : config) {
    if (by_name.count(key) != 0)
      continue;
    auto line = where.find(key);
    throw std::runtime_error(
        (line == where.end() ? std::string{} : line->second + ": ") +
        "unknown setting `" + key +
        "` in the config file; settings are the long flags of `serve "
        "--help` without their dashes");
  }
  for (auto& [name, option] : by_name) {
    if (option->count() > 0)
      continue;  // the command line wins
    if (auto value = environment_value(environment_name(name)))
      set_from(*option, *value);
    else if (auto it = config.find(name); it != config.end())
      set_from(*option, it->second);
  }
}

void describe_environment(CLI::App& command, const std::string& example_flag,
                          bool reads_config_file) {
  command.footer(
      "Every flag also reads BATCHCAST_<FLAG> from the environment (for\n"
      "example --" +
      example_flag + " from " + environment_name(example_flag) +
      ").\nThe command line beats the environment" +
      (reads_config_file ? ", which beats the config file." : "."));
}

CLI::Validator whole_number(long long min, long long max) {
  auto range = std::to_string(min) + " to " + std::to_string(max);
  return CLI::Validator(
      [min, max, range](std::string& text) -> std::string {
        long long value = 0;
        const char* end = text.data() + text.size();
        auto [stop, error] = std::from_chars(text.data(), end, value);
        if (text.empty() || stop != end || error == std::errc::invalid_argument)
          return "`" + text + "` is not a whole number";
        if (error == std::errc::result_out_of_range || value < min ||
            value > max)
          return "`" + text + "` is out of range: give " + range;
        text = std::to_string(value);
        return {};
      },
      "INT in [" + range + "]");
}

host_port parse_host_port(const std::string& text, const std::string& what) {
  auto expected = [&](const std::string& why) {
    return std::invalid_argument(what + ": expected HOST:PORT, got `" +
                                 one_line(text) + "` (" + why + ")");
  };
  host_port parsed;
  std::string port_text;
  if (text.find(',') != std::string::npos)
    throw expected(
        "one address: a comma is no part of one; where several may be "
        "given, repeat the flag");
  if (!text.empty() && text.front() == '[') {
    // [IPv6]:PORT, the one spelling in which the port can be found.
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() ||
        text[close + 1] != ':')
      throw expected("an IPv6 address in brackets, then :PORT");
    parsed.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    auto zone = parsed.host.find('%');
    auto address = parsed.host.substr(0, zone);
    if (address.find(':') == std::string::npos ||
        !std::all_of(address.begin(), address.end(),
                     [](unsigned char c) {
                       return std::isxdigit(c) || c == ':' || c == '.';
                     }) ||
        (zone != std::string::npos &&
         !is_sendable_host(parsed.host.substr(zone + 1))))
      throw expected("brackets hold an IPv6 address");
    in6_addr read{};
    if (::inet_pton(AF_INET6, address.c_str(), &read) != 1)
      throw expected("`" + address + "` is no IPv6 address");
    // The same socket address as the IPv4 one to the kernel, but not to
    // a check comparing what two flags say.
    if (IN6_IS_ADDR_V4MAPPED(&read)) {
      char written[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &read.s6_addr[12], written, sizeof written);
      throw expected("`" + address + "` is the IPv4 address " + written +
                     ": write that, without brackets");
    }
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos)
      throw expected("no port");
    parsed.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (parsed.host.find(':') != std::string::npos)
      throw expected("an IPv6 address goes in brackets, as in [::1]:8000");
    if (!is_sendable_host(parsed.host))
      throw expected(
          "the host is empty or holds a space, a control character, "
          "non-ASCII or other characters no host has");
    if (auto problem = ambiguous_ipv4_problem(parsed.host); !problem.empty())
      throw expected(problem);
  }
  // Decimal, leading zeros and all, as every other number.
  auto significant = port_text.find_first_not_of('0');
  auto digits = significant == std::string::npos
                    ? std::string{"0"}
                    : port_text.substr(significant);
  if (port_text.empty() || digits.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(),
                   [](unsigned char c) { return std::isdigit(c); }) ||
      std::stoul(digits) > 65535)
    throw std::invalid_argument(what + ": `" + one_line(port_text) +
                                "` is not a port number");
  parsed.port = static_cast<std::uint16_t>(std::stoul(digits));
  return parsed;
}

std::string ambiguous_ipv4_problem(const std::string& host) {
  in_addr read{};
  if (::inet_pton(AF_INET, host.c_str(), &read) == 1)
    return {};
  // No top-level domain is all digits, so this was meant as an address.
  bool numeric = !host.empty() &&
                 std::all_of(host.begin(), host.end(), [](unsigned char c) {
                   return std::isdigit(c) || c == '.';
                 });
  if (::inet_aton(host.c_str(), &read) == 0)
    return numeric ? "`" + host +
                         "` is no IPv4 address: write the four decimal "
                         "numbers, without leading zeros"
                   : std::string{};
  char written[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &read, written, sizeof written);
  return "`" + host + "` would be read as the IPv4 address " + written +
         " (a leading 0 means octal, 0x hex, and fewer than four parts a "
         "shorthand): write the four decimal numbers, without leading zeros";
}

std::string read_secret_text(const std::string& path) {
  return read_small_file(path, secret_file_limit, "secret file");
}

std::string read_secret_file(const std::string& path) {
  auto text = read_secret_text(path);
  // A blank secret would be a key anyone can guess, or a token no client
  // can send: refuse it at start rather than fail every request later.
  if (trim(text).empty())
    throw std::runtime_error("secret file " + path + " is empty or blank");
  // Which line is the secret is a guess when there are several (a pasted
  // key wrapped in two, a note above it); a wrong guess fails every
  // session or request later, far from its cause.
  auto end_of_line = text.find('\n');
  if (end_of_line != std::string::npos &&
      !trim(text.substr(end_of_line + 1)).empty())
    throw std::runtime_error("secret file " + path +
                             " holds more than one line; put the secret "
                             "alone on the first line");
  auto secret = text.substr(0, end_of_line);
  if (!secret.empty() && secret.back() == '\r')
    secret.pop_back();
  return secret;
}

std::string resolve_secret(bool file_on_command_line, const std::string& file,
                           const char* secret_variable, const char* what) {
  if (!file_on_command_line)
    if (auto value = environment_value(secret_variable)) {
      if (trim(*value).empty())
        throw std::runtime_error(std::string{secret_variable} + " is blank");
      return *value;
    }
  if (!file.empty())
    return read_secret_file(file);
  throw std::runtime_error(std::string{what} + " is not set: give --" + what +
                           "-file or " + secret_variable);
}

std::string secret_source(bool file_on_command_line, const std::string& file,
                          const char* secret_variable, const char* what) {
  if (!file_on_command_line && environment_value(secret_variable))
    return secret_variable;
  return "the file " + file + " (" + what + "-file)";
}

std::vector<std::string> split_list(const std::string& text, char separator) {
  std::vector<std::string> items;
  std::stringstream in{text};
  std::string item;
  while (std::getline(in, item, separator))
    if (auto trimmed = trim(item); !trimmed.empty())
      items.push_back(trimmed);
  return items;
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in{text};
  std::string word;
  while (in >> word)
    words.push_back(word);
  return words;
}

std::optional<std::string> environment_value(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0')
    return std::nullopt;
  return std::string{value};
}

}  // namespace batchcast::app
