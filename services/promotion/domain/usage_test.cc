#include "services/promotion/domain/usage.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"

namespace perks::promotion {
namespace {

using perks::v1::Basket;
using perks::v1::CampaignSpec;

const int64_t kNoon = absl::ToUnixMillis(
    absl::FromCivil(absl::CivilSecond(2026, 12, 5, 12, 0, 0), absl::FixedTimeZone(8 * 3600)));

// Supermarkets spend 100 save 30, half bank (with its own budget) and half merchant.
CampaignSpec Supermarket() {
  CampaignSpec s;
  s.set_campaign_id("supermarket-100-30");
  s.set_tenant_id("bozhou");
  s.set_title("spend 100 save 30");
  s.mutable_threshold()->set_min_fen(10000);
  s.mutable_threshold()->set_off_fen(3000);
  auto* bank = s.add_funding();
  bank->set_funder(perks::v1::FUNDER_BANK);
  bank->set_share_bp(5000);
  auto* merchant = s.add_funding();
  merchant->set_funder(perks::v1::FUNDER_MERCHANT);
  merchant->set_share_bp(5000);
  return s;
}

std::shared_ptr<const RuleSet> Compile(const CampaignSpec& spec) {
  auto set = RuleSet::Compile({RuleSet::Input::Of(spec)});
  EXPECT_TRUE(set.ok()) << set.status();
  return *set;
}

Basket For(const std::string& member, int64_t at = kNoon, const std::string& merchant = "m1") {
  Basket b;
  b.set_tenant_id("bozhou");
  b.set_member_id(member);
  b.set_merchant_id(merchant);
  b.set_amount_fen(10000);
  b.set_at_unix_ms(at);
  return b;
}

// 64 threads, each asking `per_thread` times for a discount as member `member_of(thread)`;
// returns the fen granted in all.
template <typename MemberOf>
int64_t Race(UsageBook& book, const RuleSet& rules, int per_thread, MemberOf member_of) {
  std::atomic<int64_t> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 64; ++t) {
    threads.emplace_back([&, t] {
      EvalResult out;
      for (int i = 0; i < per_thread; ++i) {
        auto holds = book.Reserve(rules, For(member_of(t, i)), out);
        for (const Hold& h : holds) granted += h.amount_fen;
        book.Commit(holds);
      }
    });
  }
  for (auto& th : threads) th.join();
  return granted.load();
}

TEST(UsageTest, SixtyFourThreadsNeverTakeABudgetPastItsValue) {
  CampaignSpec spec = Supermarket();
  spec.set_budget_fen(99000);  // 33 discounts of 30 yuan; 640 are asked for
  auto rules = Compile(spec);
  UsageBook book;
  int64_t granted =
      Race(book, *rules, 10, [](int t, int i) { return absl::StrCat("m", t, "-", i); });
  EXPECT_EQ(granted, 99000);
  EXPECT_EQ(book.CampaignTotal("supermarket-100-30").used_count, 33);
  EXPECT_EQ(book.CampaignTotal("supermarket-100-30").held_fen, 0);
}

TEST(UsageTest, SixtyFourThreadsForOneMemberGetExactlyTheMembersLimit) {
  CampaignSpec spec = Supermarket();
  spec.mutable_member_limits()->set_per_campaign_count(5);
  auto rules = Compile(spec);
  UsageBook book;
  EXPECT_EQ(Race(book, *rules, 4, [](int, int) { return std::string("member-1"); }), 5 * 3000);
}

TEST(UsageTest, TheBanksOwnBudgetStopsItsShare) {
  CampaignSpec spec = Supermarket();
  spec.mutable_funding(0)->set_budget_fen(4500);  // three bank halves of 15 yuan
  auto rules = Compile(spec);
  UsageBook book;
  int64_t granted =
      Race(book, *rules, 2, [](int t, int i) { return absl::StrCat("m", t, "-", i); });
  EXPECT_EQ(granted, 9000);
  EXPECT_EQ(book.FunderTotal("supermarket-100-30", perks::v1::FUNDER_BANK).used_fen, 4500);
  EXPECT_EQ(book.FunderTotal("supermarket-100-30", perks::v1::FUNDER_MERCHANT).used_fen, 4500);
}

TEST(UsageTest, AReleasedHoldReturnsItsBudgetAndACommittedOneKeepsIt) {
  CampaignSpec spec = Supermarket();
  spec.set_budget_fen(3000);
  auto rules = Compile(spec);
  UsageBook book;
  EvalResult out;
  auto first = book.Reserve(*rules, For("a"), out);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(book.Reserve(*rules, For("b"), out).empty());  // held: nothing left
  EXPECT_EQ(out.discount_fen, 0);
  book.Release(first);
  auto second = book.Reserve(*rules, For("b"), out);
  ASSERT_EQ(second.size(), 1u);
  book.Commit(second);
  EXPECT_TRUE(book.Reserve(*rules, For("c"), out).empty());
  EXPECT_EQ(book.CampaignTotal("supermarket-100-30").used_fen, 3000);
}

TEST(UsageTest, DailyLimitsRollOverAtShanghaiMidnight) {
  CampaignSpec spec = Supermarket();
  spec.mutable_member_limits()->set_per_day_count(1);
  auto rules = Compile(spec);
  UsageBook book;
  EvalResult out;
  const int64_t late = absl::ToUnixMillis(
      absl::FromCivil(absl::CivilSecond(2026, 12, 5, 23, 59, 59), absl::FixedTimeZone(8 * 3600)));
  EXPECT_EQ(book.Reserve(*rules, For("a", late), out).size(), 1u);
  EXPECT_TRUE(book.Reserve(*rules, For("a", late), out).empty());
  EXPECT_EQ(book.Reserve(*rules, For("a", late + 1000), out).size(), 1u);  // 00:00:00 next day
}

TEST(UsageTest, FirstUseMerchantPerDayAndAMissingMemberAreRefused) {
  CampaignSpec first = Supermarket();
  first.mutable_eligibility()->set_first_use_only(true);
  auto rules = Compile(first);
  UsageBook book;
  EvalResult out;
  book.Commit(book.Reserve(*rules, For("a"), out));
  EXPECT_TRUE(book.Reserve(*rules, For("a"), out).empty());
  perks::v1::Evaluation e;
  rules->Evaluate(For("a"), &book, true, out);
  rules->ToProto(For("a"), out, &e);
  ASSERT_EQ(e.not_applied_size(), 1);
  EXPECT_EQ(e.not_applied(0).reason(), perks::v1::NOT_APPLIED_FIRST_USE);
  EXPECT_TRUE(book.Reserve(*rules, For(""), out).empty());  // whose basket is it?

  CampaignSpec per_shop = Supermarket();
  per_shop.set_merchant_per_day_count(2);
  auto shop_rules = Compile(per_shop);
  UsageBook shop_book;
  EXPECT_EQ(shop_book.Reserve(*shop_rules, For("a", kNoon, "shop"), out).size(), 1u);
  EXPECT_EQ(shop_book.Reserve(*shop_rules, For("b", kNoon, "shop"), out).size(), 1u);
  EXPECT_TRUE(shop_book.Reserve(*shop_rules, For("c", kNoon, "shop"), out).empty());
  EXPECT_EQ(shop_book.Reserve(*shop_rules, For("c", kNoon, "other-shop"), out).size(), 1u);
}

TEST(UsageTest, AGrantIsHeldOncePerMember) {
  CampaignSpec spec = Supermarket();
  spec.clear_threshold();
  auto* g = spec.mutable_grant();
  g->set_event(perks::v1::GRANT_EVENT_CARD_ACTIVATED);
  g->set_balance_name("transit");
  g->set_balance_kind(perks::v1::GRANT_BALANCE_KIND_TRANSIT);
  g->set_amount_fen(3000);
  auto rules = Compile(spec);
  UsageBook book;
  GrantAnswer answer;
  auto holds =
      book.ReserveGrants(*rules, perks::v1::GRANT_EVENT_CARD_ACTIVATED, For("a"), 0, "", answer);
  ASSERT_EQ(holds.size(), 1u);
  book.Commit(holds);
  EXPECT_TRUE(
      book.ReserveGrants(*rules, perks::v1::GRANT_EVENT_CARD_ACTIVATED, For("a"), 0, "", answer)
          .empty());
  ASSERT_EQ(answer.rejected.size(), 1u);
  EXPECT_EQ(answer.rejected[0].reason, perks::v1::NOT_APPLIED_MEMBER_LIMIT);
}

}  // namespace
}  // namespace perks::promotion
