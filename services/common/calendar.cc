#include "services/common/calendar.h"

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

}  // namespace perks
