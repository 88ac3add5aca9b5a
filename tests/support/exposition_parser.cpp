#include "tests/support/exposition_parser.hpp"

#include <cmath>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <vector>

namespace batchcast::testing {

namespace {

struct line_error : std::runtime_error {
  line_error(int number, const std::string& what, std::string_view line)
      : std::runtime_error("line " + std::to_string(number) + ": " + what +
                           ": `" + std::string{line} + "`") {}
};

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == ':';
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

bool is_metric_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front()))
    return false;
  for (char c : name)
    if (!is_name_char(c))
      return false;
  return true;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

// A Go float as Prometheus writes it: digits, '.', exponent, or the
// special spellings. Nothing else (no spaces, no hex).
bool parse_value(std::string_view text, double& value) {
  if (text == "+Inf") {
    value = INFINITY;
    return true;
  }
  if (text == "-Inf") {
    value = -INFINITY;
    return true;
  }
  if (text == "NaN") {
    value = NAN;
    return true;
  }
  if (text.empty())
    return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' ||
          c == '+' || c == '-'))
      return false;
  std::string copy{text};
  char* end = nullptr;
  value = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size();
}

struct label {
  std::string name;
  std::string value;
};

// `{a="x",b="y"}` starting at text[0] == '{'. Returns the length read.
std::size_t parse_labels(std::string_view text, std::vector<label>& labels,
                         int number, std::string_view line) {
  std::size_t i = 1;
  std::set<std::string> seen;
  while (true) {
    if (i < text.size() && text[i] == '}')
      return i + 1;
    std::size_t start = i;
    while (i < text.size() && is_name_char(text[i]))
      ++i;
    label each;
    each.name = std::string{text.substr(start, i - start)};
    if (!is_metric_name(each.name) || each.name.find(':') != std::string::npos)
      throw line_error(number, "bad label name", line);
    if (!seen.insert(each.name).second)
      throw line_error(number, "label repeated", line);
    if (text.substr(i, 2) != "=\"")
      throw line_error(number, "expected =\" after a label name", line);
    i += 2;
    while (true) {
      if (i >= text.size())
        throw line_error(number, "unterminated label value", line);
      char c = text[i++];
      if (c == '"')
        break;
      if (c == '\n')
        throw line_error(number, "raw newline in a label value", line);
      if (c == '\\') {
        if (i >= text.size())
          throw line_error(number, "dangling escape", line);
        char escaped = text[i++];
        if (escaped == 'n')
          each.value += '\n';
        else if (escaped == '\\' || escaped == '"')
          each.value += escaped;
        else
          throw line_error(number, "unknown escape in a label value", line);
        continue;
      }
      each.value += c;
    }
    labels.push_back(std::move(each));
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    if (i < text.size() && text[i] == '}')
      return i + 1;
    throw line_error(number, "expected , or } after a label", line);
  }
}

struct family_state {
  std::string name;
  std::string type;
  // Histogram checks.
  double last_le = -INFINITY;
  double last_bucket = 0;
  bool saw_inf = false;
  bool saw_count = false;
  bool saw_sum = false;
};

void finish_family(const family_state& family, const exposition& parsed) {
  if (family.type != "histogram")
    return;
  if (!family.saw_inf || !family.saw_sum || !family.saw_count)
    throw std::runtime_error("histogram " + family.name +
                             " lacks its +Inf bucket, _sum or _count");
  if (parsed.at(family.name + "_count") != family.last_bucket)
    throw std::runtime_error("histogram " + family.name +
                             ": _count differs from the +Inf bucket");
}

void check_histogram_sample(family_state& family, const std::string& name,
                            const std::vector<label>& labels, double value,
                            int number, std::string_view line) {
  if (name == family.name + "_sum") {
    family.saw_sum = true;
    return;
  }
  if (name == family.name + "_count") {
    family.saw_count = true;
    return;
  }
  if (name != family.name + "_bucket")
    throw line_error(number, "sample of no declared family", line);
  if (family.saw_inf)
    throw line_error(number, "bucket after le=\"+Inf\"", line);
  if (labels.size() != 1 || labels[0].name != "le")
    throw line_error(number, "a bucket needs exactly its le label", line);
  double le = 0;
  if (!parse_value(labels[0].value, le))
    throw line_error(number, "le is not a number", line);
  if (!(le > family.last_le))
    throw line_error(number, "buckets not in ascending order", line);
  if (value < family.last_bucket)
    throw line_error(number, "buckets not cumulative", line);
  family.last_le = le;
  family.last_bucket = value;
  family.saw_inf = std::isinf(le);
}

}  // namespace

exposition parse_exposition(std::string_view text) {
  exposition parsed;
  if (text.empty())
    throw std::runtime_error("empty exposition");
  if (text.back() != '\n')
    throw std::runtime_error("the last line has no newline");

  std::set<std::string> declared;
  family_state family;
  std::string pending_help;  // a HELP waiting for its TYPE
  int number = 0;
  std::size_t position = 0;
  while (position < text.size()) {
    auto end = text.find('\n', position);
    auto line = text.substr(position, end - position);
    position = end + 1;
    ++number;
    if (line.empty())
      throw line_error(number, "blank line", line);

    if (line.substr(0, 7) == "# HELP ") {
      auto rest = line.substr(7);
      auto name = std::string{rest.substr(0, rest.find(' '))};
      if (!is_metric_name(name) || rest.size() <= name.size() + 1)
        throw line_error(number, "malformed HELP", line);
      if (!pending_help.empty() || declared.count(name) > 0)
        throw line_error(number, "HELP repeated or without its TYPE", line);
      pending_help = name;
      continue;
    }
    if (line.substr(0, 7) == "# TYPE ") {
      auto rest = line.substr(7);
      auto space = rest.find(' ');
      auto name = std::string{rest.substr(0, space)};
      auto type = space == std::string_view::npos
                      ? std::string{}
                      : std::string{rest.substr(space + 1)};
      if (name != pending_help)
        throw line_error(number, "TYPE not right after its HELP", line);
      if (type != "counter" && type != "gauge" && type != "histogram")
        throw line_error(number, "unexpected type", line);
      if (type == "counter" && !ends_with(name, "_total"))
        throw line_error(number, "a counter must end in _total", line);
      if (!family.name.empty())
        finish_family(family, parsed);
      pending_help.clear();
      declared.insert(name);
      family = family_state{};
      family.name = name;
      family.type = type;
      parsed.types[name] = type;
      continue;
    }
    if (line.front() == '#')
      throw line_error(number, "unexpected comment", line);
    if (!pending_help.empty() || family.name.empty())
      throw line_error(number, "sample before its TYPE", line);

    std::size_t i = 0;
    while (i < line.size() && is_name_char(line[i]))
      ++i;
    auto name = std::string{line.substr(0, i)};
    if (!is_metric_name(name))
      throw line_error(number, "bad metric name", line);
    std::vector<label> labels;
    if (i < line.size() && line[i] == '{')
      i += parse_labels(line.substr(i), labels, number, line);
    if (i >= line.size() || line[i] != ' ')
      throw line_error(number, "expected one space before the value", line);
    double value = 0;
    if (!parse_value(line.substr(i + 1), value))
      throw line_error(number, "bad value (or a timestamp)", line);

    if (family.type == "histogram")
      check_histogram_sample(family, name, labels, value, number, line);
    else if (name != family.name)
      throw line_error(number, "sample outside its family", line);
    if (family.type == "counter" && value < 0)
      throw line_error(number, "negative counter", line);

    std::string series = name;
    if (!labels.empty()) {
      series += '{';
      for (std::size_t k = 0; k < labels.size(); ++k) {
        if (k > 0)
          series += ',';
        series += labels[k].name + "=\"" + labels[k].value + "\"";
      }
      series += '}';
    }
    if (!parsed.samples.emplace(series, value).second)
      throw line_error(number, "series repeated", line);
  }
  if (!pending_help.empty())
    throw std::runtime_error("HELP without TYPE at the end");
  if (!family.name.empty())
    finish_family(family, parsed);
  return parsed;
}

}  // namespace batchcast::testing
