// Business time: instants are UTC inside; days, weeks, months, weekdays and hours of programs are
// in Asia/Shanghai.
#ifndef PERKS_SERVICES_COMMON_CALENDAR_H_
#define PERKS_SERVICES_COMMON_CALENDAR_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace perks {

// Asia/Shanghai from the system's zone data, or UTC+8 (its offset since 1991) where there is none.
const absl::TimeZone& ShanghaiZone();

// Where an instant falls in Asia/Shanghai.
struct LocalMoment {
  absl::CivilDay day;
  int weekday = 1;        // 1 = Monday … 7 = Sunday
  int minute_of_day = 0;  // 0 … 1439
};
LocalMoment ToShanghai(absl::Time t);

// Period numbers for limits, stable and ordered: days since 1970-01-01 local; weeks (Monday to
// Sunday) since the week of 1970-01-05; months since January 1970.
int64_t LocalDayNumber(absl::CivilDay day);
int64_t LocalWeekNumber(absl::CivilDay day);
int64_t LocalMonthNumber(absl::CivilDay day);

// A date as tills and files write it, "20261205" (YYYYMMDD, from the year 2000). INVALID_ARGUMENT
// naming `field` for anything else.
absl::StatusOr<absl::CivilDay> ParseCompactDate(const std::string& text, const std::string& field);
std::string FormatCompactDate(absl::CivilDay day);

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_CALENDAR_H_
