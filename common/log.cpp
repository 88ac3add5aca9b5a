#include "common/log.hpp"

#include <ctime>
#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "common/terminal_text.hpp"

namespace batchcast {

namespace {

struct log_settings {
  std::mutex mutex;
  spdlog::level::level_enum level = spdlog::level::info;
  log_format format = log_format::text;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
};

log_settings& settings() {
  static log_settings instance;
  return instance;
}

// The length of the UTF-8 sequence starting at text[i], or 0 when the
// bytes there are not well-formed UTF-8 (overlong forms and surrogates
// included, as JSON parsers refuse them).
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t at) {
    return at < text.size() ? static_cast<unsigned char>(text[at]) : 0u;
  };
  auto continuation = [&](std::size_t at) {
    return (byte(at) & 0xC0u) == 0x80u;
  };
  unsigned lead = byte(i);
  if (lead >= 0xC2 && lead <= 0xDF)
    return continuation(i + 1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    unsigned second = byte(i + 1);
    bool fits = (lead == 0xE0 && second >= 0xA0 && second <= 0xBF) ||
                (lead == 0xED && second >= 0x80 && second <= 0x9F) ||
                (lead != 0xE0 && lead != 0xED && continuation(i + 1));
    return fits && continuation(i + 2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    unsigned second = byte(i + 1);
    bool fits = (lead == 0xF0 && second >= 0x90 && second <= 0xBF) ||
                (lead == 0xF4 && second >= 0x80 && second <= 0x8F) ||
                (lead != 0xF0 && lead != 0xF4 && continuation(i + 1));
    return fits && continuation(i + 2) && continuation(i + 3) ? 4 : 0;
  }
  return 0;
}

void append_json_string(std::string& out, std::string_view text) {
  static const char hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    } else if (c >= 0x80) {
      auto length = utf8_sequence(text, i);
      if (length == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      out.append(text.substr(i, length));
      i += length;
      continue;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += '"';
}

std::string utc_timestamp(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  auto since_epoch = duration_cast<microseconds>(time.time_since_epoch());
  auto seconds = duration_cast<std::chrono::seconds>(since_epoch);
  auto micros = (since_epoch - seconds).count();
  if (micros < 0) {
    micros += 1000000;
    seconds -= std::chrono::seconds{1};
  }
  auto as_time = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  ::gmtime_r(&as_time, &utc);
  // Room for the widest value of every int field, not just a real date's,
  // so the compiler can see that nothing is ever cut off.
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                utc.tm_min, utc.tm_sec, static_cast<int>(micros));
  return text;
}

// Writes every record as one json_log_line. A pattern cannot do this: it
// would copy the message unescaped, and error messages from SQLite or
// libpq quote names.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    auto level = spdlog::level::to_string_view(msg.level);
    auto line = json_log_line(
        msg.time, std::string_view{level.data(), level.size()},
        std::string_view{msg.logger_name.data(), msg.logger_name.size()},
        std::string_view{msg.payload.data(), msg.payload.size()});
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

// The text format: the pattern below, with the message passed through
// one_line first. Messages quote what others sent (a peer's node name, a
// client's header, an error from a library), and a line feed or escape
// sequence among them could otherwise forge a line of the log or drive
// the terminal that shows it.
class text_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    std::string_view payload{msg.payload.data(), msg.payload.size()};
    auto safe = one_line(payload);
    if (safe == payload) {
      pattern_.format(msg, dest);
      return;
    }
    auto copy = msg;
    copy.payload = spdlog::string_view_t{safe.data(), safe.size()};
    pattern_.format(copy, dest);
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<text_formatter>();
  }

 private:
  spdlog::pattern_formatter pattern_{"%Y-%m-%d %H:%M:%S.%e %-5l [%n] %v",
                                     spdlog::pattern_time_type::utc};
};

void apply(spdlog::logger& target, const log_settings& current) {
  target.set_level(current.level);
  if (current.format == log_format::json)
    target.set_formatter(std::make_unique<json_formatter>());
  else
    target.set_formatter(std::make_unique<text_formatter>());
}

}  // namespace

std::string json_log_line(std::chrono::system_clock::time_point time,
                          std::string_view level, std::string_view subsystem,
                          std::string_view message) {
  std::string line;
  line.reserve(96 + message.size());
  line += R"({"time":")";
  line += utc_timestamp(time);
  line += R"(","level":)";
  append_json_string(line, level);
  line += R"(,"subsystem":)";
  append_json_string(line, subsystem);
  line += R"(,"message":)";
  append_json_string(line, message);
  line += "}\n";
  return line;
}

void configure_logging(const std::string& level, log_format format) {
  auto& current = settings();
  std::lock_guard<std::mutex> guard{current.mutex};
  current.level = spdlog::level::from_str(level);
  current.format = format;
  spdlog::apply_all(
      [&](std::shared_ptr<spdlog::logger> each) { apply(*each, current); });
}

std::shared_ptr<spdlog::logger> logger(const std::string& subsystem) {
  auto& current = settings();
  std::lock_guard<std::mutex> guard{current.mutex};
  if (auto existing = spdlog::get(subsystem))
    return existing;
  auto created = std::make_shared<spdlog::logger>(subsystem, current.sink);
  apply(*created, current);
  spdlog::register_logger(created);
  return created;
}

}  // namespace batchcast
