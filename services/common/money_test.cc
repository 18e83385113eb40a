#include "services/common/money.h"

#include <limits>

#include "gtest/gtest.h"

namespace perks {
namespace {

TEST(MoneyTest, AddFenRefusesOverflow) {
  EXPECT_EQ(AddFen(1, 2), 3);
  EXPECT_EQ(AddFen(std::numeric_limits<int64_t>::max(), 1), std::nullopt);
  EXPECT_EQ(AddFen(std::numeric_limits<int64_t>::min(), -1), std::nullopt);
}

TEST(MoneyTest, FormatsYuanExactly) {
  EXPECT_EQ(FormatYuan(1234), "12.34");
  EXPECT_EQ(FormatYuan(5), "0.05");
  EXPECT_EQ(FormatYuan(-5), "-0.05");
  EXPECT_EQ(FormatYuan(std::numeric_limits<int64_t>::min()), "-92233720368547758.08");
}

}  // namespace
}  // namespace perks
