#include "services/common/calendar.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace perks {

const absl::TimeZone& ShanghaiZone() {
  static const absl::TimeZone* zone = [] {
    auto* z = new absl::TimeZone;
    if (!absl::LoadTimeZone("Asia/Shanghai", z)) *z = absl::FixedTimeZone(8 * 3600);
    return z;
  }();
  return *zone;
}

LocalMoment ToShanghai(absl::Time t) {
  absl::CivilSecond local = absl::ToCivilSecond(t, ShanghaiZone());
  LocalMoment m;
  m.day = absl::CivilDay(local);
  switch (absl::GetWeekday(m.day)) {
    case absl::Weekday::monday:
      m.weekday = 1;
      break;
    case absl::Weekday::tuesday:
      m.weekday = 2;
      break;
    case absl::Weekday::wednesday:
      m.weekday = 3;
      break;
    case absl::Weekday::thursday:
      m.weekday = 4;
      break;
    case absl::Weekday::friday:
      m.weekday = 5;
      break;
    case absl::Weekday::saturday:
      m.weekday = 6;
      break;
    case absl::Weekday::sunday:
      m.weekday = 7;
      break;
  }
  m.minute_of_day = local.hour() * 60 + local.minute();
  return m;
}

int64_t LocalDayNumber(absl::CivilDay day) { return day - absl::CivilDay(1970, 1, 1); }

int64_t LocalWeekNumber(absl::CivilDay day) {
  // 1970-01-05 was a Monday; floor division keeps earlier days in earlier weeks.
  int64_t days = day - absl::CivilDay(1970, 1, 5);
  return days >= 0 ? days / 7 : -((-days + 6) / 7);
}

int64_t LocalMonthNumber(absl::CivilDay day) {
  return (day.year() - 1970) * 12 + (day.month() - 1);
}

absl::StatusOr<absl::CivilDay> ParseCompactDate(const std::string& d, const std::string& field) {
  const bool digits = d.size() == 8 && std::all_of(d.begin(), d.end(),
                                                   [](char c) { return absl::ascii_isdigit(c); });
  int year = 0, month = 0, day = 0;
  if (digits) {
    year = std::stoi(d.substr(0, 4));
    month = std::stoi(d.substr(4, 2));
    day = std::stoi(d.substr(6, 2));
  }
  absl::CivilDay civil(year, month, day);  // normalizes: 20261231 + 1 month would not match
  if (!digits || year < 2000 || civil.year() != year || civil.month() != month ||
      civil.day() != day) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be a date as YYYYMMDD, e.g. 20261201; got \"", d, "\""));
  }
  return civil;
}

std::string FormatCompactDate(absl::CivilDay day) {
  return absl::StrFormat("%04d%02d%02d", day.year(), day.month(), day.day());
}

}  // namespace perks
