#include "services/promotion/domain/funding.h"

#include <random>

#include "gtest/gtest.h"

namespace perks::promotion {
namespace {

using perks::v1::FUNDER_BANK;
using perks::v1::FUNDER_MERCHANT;
using perks::v1::FUNDER_UNION;

Shares Make(std::initializer_list<std::tuple<perks::v1::Funder, int64_t, int64_t>> list) {
  Shares out;
  for (auto [funder, bp, fixed] : list) {
    auto* s = out.Add();
    s->set_funder(funder);
    s->set_share_bp(bp);
    s->set_fixed_fen(fixed);
  }
  return out;
}

int64_t Sum(const std::vector<perks::v1::FundedShare>& v) {
  int64_t s = 0;
  for (const auto& f : v) s += f.amount_fen();
  return s;
}

TEST(FundingTest, HalvesAnOddFenGoesToTheLastShareWritten) {
  Shares shares = Make({{FUNDER_BANK, 5000, 0}, {FUNDER_MERCHANT, 5000, 0}});
  ASSERT_TRUE(ValidateFunding(shares).ok());
  auto split = SplitDiscount(3001, shares);
  EXPECT_EQ(split[0].amount_fen(), 1500);
  EXPECT_EQ(split[1].amount_fen(), 1501);
}

TEST(FundingTest, FixedSharesComeFirstThenBasisPointsOfTheRest) {
  // The union pays the first 5 yuan, the bank and merchant split the rest 60/40.
  Shares shares =
      Make({{FUNDER_UNION, 0, 500}, {FUNDER_BANK, 6000, 0}, {FUNDER_MERCHANT, 4000, 0}});
  ASSERT_TRUE(ValidateFunding(shares).ok());
  auto split = SplitDiscount(3001, shares);
  EXPECT_EQ(split[0].amount_fen(), 500);
  EXPECT_EQ(split[1].amount_fen(), 1500);  // floor(2501 * 0.6)
  EXPECT_EQ(split[2].amount_fen(), 1001);  // floor(2501 * 0.4) + the 1 fen left
  // A discount smaller than the fixed share: the fixed share takes it all.
  auto small = SplitDiscount(300, shares);
  EXPECT_EQ(small[0].amount_fen(), 300);
  EXPECT_EQ(small[1].amount_fen() + small[2].amount_fen(), 0);
}

TEST(FundingTest, EverySplitSumsExactlyToTheDiscount) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 2000; ++round) {
    int64_t a = static_cast<int64_t>(rng() % 9999) + 1;
    Shares shares = Make({{FUNDER_UNION, 0, static_cast<int64_t>(rng() % 300)},
                          {FUNDER_BANK, a, 0},
                          {FUNDER_MERCHANT, 10000 - a, 0}});
    ASSERT_TRUE(ValidateFunding(shares).ok()) << round;
    int64_t discount = static_cast<int64_t>(rng() % 1'000'000);
    auto split = SplitDiscount(discount, shares);
    ASSERT_EQ(Sum(split), discount) << round;
    for (const auto& f : split) ASSERT_GE(f.amount_fen(), 0);
  }
}

TEST(FundingTest, RefusesSharesThatDoNotAddUp) {
  EXPECT_FALSE(ValidateFunding(Make({})).ok());
  EXPECT_FALSE(ValidateFunding(Make({{FUNDER_BANK, 5000, 0}, {FUNDER_MERCHANT, 4000, 0}})).ok());
  EXPECT_FALSE(ValidateFunding(Make({{FUNDER_BANK, 5000, 0}, {FUNDER_BANK, 5000, 0}})).ok());
  EXPECT_FALSE(ValidateFunding(Make({{FUNDER_UNION, 0, 500}})).ok());
  EXPECT_FALSE(ValidateFunding(Make({{perks::v1::FUNDER_UNSPECIFIED, 10000, 0}})).ok());
  absl::Status s = ValidateFunding(Make({{FUNDER_BANK, 7000, 0}}));
  EXPECT_NE(s.message().find("7000"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace perks::promotion
