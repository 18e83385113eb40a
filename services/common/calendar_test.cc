#include "services/common/calendar.h"

#include "gtest/gtest.h"

namespace perks {
namespace {

absl::Time Utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone());
}

TEST(CalendarTest, UtcEveningIsTheNextDayInShanghai) {
  // 2026-11-24 (a Tuesday) 16:30 UTC is Wednesday 00:30 in Shanghai.
  LocalMoment m = ToShanghai(Utc(2026, 11, 24, 16, 30));
  EXPECT_EQ(m.day, absl::CivilDay(2026, 11, 25));
  EXPECT_EQ(m.weekday, 3);
  EXPECT_EQ(m.minute_of_day, 30);
  LocalMoment before = ToShanghai(Utc(2026, 11, 24, 15, 59));
  EXPECT_EQ(before.day, absl::CivilDay(2026, 11, 24));
  EXPECT_EQ(before.minute_of_day, 23 * 60 + 59);
}

TEST(CalendarTest, WeeksRunMondayToSunday) {
  absl::CivilDay monday(2026, 11, 23), sunday(2026, 11, 29), next_monday(2026, 11, 30);
  EXPECT_EQ(LocalWeekNumber(monday), LocalWeekNumber(sunday));
  EXPECT_EQ(LocalWeekNumber(next_monday), LocalWeekNumber(sunday) + 1);
  EXPECT_EQ(LocalWeekNumber(absl::CivilDay(1970, 1, 4)), -1);
  EXPECT_EQ(LocalDayNumber(absl::CivilDay(1970, 1, 2)), 1);
  EXPECT_EQ(LocalMonthNumber(absl::CivilDay(1971, 2, 28)), 13);
}

}  // namespace
}  // namespace perks
