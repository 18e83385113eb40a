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

TEST(MoneyTest, ParsesYuanWithoutFloatingPoint) {
  EXPECT_EQ(ParseYuan("30"), 3000);
  EXPECT_EQ(ParseYuan("30.5"), 3050);
  EXPECT_EQ(ParseYuan("0.07"), 7);
  EXPECT_EQ(ParseYuan("100000000.00"), kAmountFenMax);
  EXPECT_EQ(ParseYuan("100000000.01"), std::nullopt);
  EXPECT_EQ(ParseYuan("-1"), std::nullopt);
  EXPECT_EQ(ParseYuan("1.234"), std::nullopt);
  EXPECT_EQ(ParseYuan("1."), std::nullopt);
  EXPECT_EQ(ParseYuan(""), std::nullopt);
  EXPECT_EQ(ParseYuan("1e3"), std::nullopt);
  EXPECT_EQ(ParseYuan("99999999999999999999"), std::nullopt);
}

}  // namespace
}  // namespace perks
