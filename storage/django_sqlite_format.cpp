#include "storage/django_sqlite_format.hpp"

#include <cstdio>

namespace batchcast::storage {

namespace {

constexpr std::int64_t us_per_second = 1000000;
constexpr std::int64_t seconds_per_day = 86400;

// Days since 1970-01-01 of a proleptic Gregorian date, counting in 400-year
// eras (146097 days each) that start on March 1st, so the leap day is the
// last day of its year.
std::int64_t days_from_civil(std::int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  std::int64_t year_of_era = year - era * 400;
  int shifted_month = month > 2 ? month - 3 : month + 9;
  std::int64_t day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
  std::int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

struct civil_date {
  std::int64_t year;
  int month;
  int day;
};

civil_date civil_from_days(std::int64_t days) {
  days += 719468;
  std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  std::int64_t day_of_era = days - era * 146097;
  std::int64_t year_of_era = (day_of_era - day_of_era / 1460 +
                              day_of_era / 36524 - day_of_era / 146096) /
                             365;
  std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  std::int64_t shifted_month = (5 * day_of_year + 2) / 153;
  int day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  int month = static_cast<int>(shifted_month < 10 ? shifted_month + 3
                                                  : shifted_month - 9);
  std::int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

bool is_leap(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(std::int64_t year, int month) {
  constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

// Reads exactly `width` decimal digits at `pos`.
bool read_digits(std::string_view text, std::size_t pos, std::size_t width,
                 int& value) {
  if (pos + width > text.size())
    return false;
  value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9')
      return false;
    value = value * 10 + (text[i] - '0');
  }
  return true;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}

}  // namespace

std::string format_django_datetime(std::int64_t unix_us) {
  std::int64_t seconds = floor_div(unix_us, us_per_second);
  auto micros = static_cast<int>(unix_us - seconds * us_per_second);
  std::int64_t days = floor_div(seconds, seconds_per_day);
  auto second_of_day = static_cast<int>(seconds - days * seconds_per_day);
  civil_date date = civil_from_days(days);

  char buffer[64];
  int n = std::snprintf(
      buffer, sizeof buffer, "%04lld-%02d-%02d %02d:%02d:%02d",
      static_cast<long long>(date.year), date.month, date.day,
      second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
  std::string text(buffer, static_cast<std::size_t>(n));
  if (micros != 0) {
    std::snprintf(buffer, sizeof buffer, ".%06d", micros);
    text += buffer;
  }
  return text;
}

std::optional<std::int64_t> parse_django_datetime(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' ||
      !read_digits(text, 5, 2, month) || text[7] != '-' ||
      !read_digits(text, 8, 2, day) || (text[10] != ' ' && text[10] != 'T') ||
      !read_digits(text, 11, 2, hour) || text[13] != ':' ||
      !read_digits(text, 14, 2, minute) || text[16] != ':' ||
      !read_digits(text, 17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
      hour > 23 || minute > 59 || second > 59)
    return std::nullopt;

  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) {
        micros = micros * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0)
      return std::nullopt;
    for (; digits < 6; ++digits)
      micros *= 10;
  }
  std::string_view zone = text.substr(pos);
  if (!zone.empty() && zone != "Z" && zone != "+00:00")
    return std::nullopt;

  std::int64_t seconds = days_from_civil(year, month, day) * seconds_per_day +
                         hour * 3600 + minute * 60 + second;
  return seconds * 1000 + micros / 1000;
}

}  // namespace batchcast::storage
