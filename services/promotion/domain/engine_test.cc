#include "services/promotion/domain/engine.h"

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "services/promotion/domain/spec.h"

namespace perks::promotion {
namespace {

using perks::v1::Basket;
using perks::v1::CampaignSpec;

// 2026-11-25 (a Wednesday) 12:00 in Shanghai.
const int64_t kNoon = absl::ToUnixMillis(
    absl::FromCivil(absl::CivilSecond(2026, 11, 25, 12, 0, 0), absl::FixedTimeZone(8 * 3600)));

CampaignSpec Campaign(const std::string& id) {
  CampaignSpec s;
  s.set_campaign_id(id);
  s.set_tenant_id("bozhou");
  s.set_title(id);
  auto* bank = s.add_funding();
  bank->set_funder(perks::v1::FUNDER_BANK);
  bank->set_share_bp(5000);
  auto* merchant = s.add_funding();
  merchant->set_funder(perks::v1::FUNDER_MERCHANT);
  merchant->set_share_bp(5000);
  return s;
}

CampaignSpec Threshold(const std::string& id, int64_t min_fen, int64_t off_fen) {
  CampaignSpec s = Campaign(id);
  s.mutable_threshold()->set_min_fen(min_fen);
  s.mutable_threshold()->set_off_fen(off_fen);
  return s;
}

CampaignSpec Percent(const std::string& id, int64_t off_bp, int64_t cap_fen = 0) {
  CampaignSpec s = Campaign(id);
  s.mutable_percent()->set_off_bp(off_bp);
  s.mutable_percent()->set_cap_fen(cap_fen);
  return s;
}

Basket At(const std::string& merchant, const std::string& category, int64_t amount_fen) {
  Basket b;
  b.set_tenant_id("bozhou");
  b.set_program_id("bozhou-member");
  b.set_member_id("m1");
  b.set_merchant_id(merchant);
  b.set_category(category);
  b.set_amount_fen(amount_fen);
  b.set_at_unix_ms(kNoon);
  return b;
}

std::shared_ptr<const RuleSet> Compile(const std::vector<CampaignSpec>& specs) {
  std::vector<RuleSet::Input> in;
  for (const auto& s : specs) {
    in.push_back(RuleSet::Input::Of(s));
  }
  auto set = RuleSet::Compile(std::move(in));
  EXPECT_TRUE(set.ok()) << set.status();
  return *set;
}

// Evaluates with explanations, and checks that the checkout's path (no explanations, the
// vectorized scan) gives the same discounts.
perks::v1::Evaluation Eval(const RuleSet& set, const Basket& b, const UsageView* usage = nullptr) {
  EvalResult r;
  set.Evaluate(b, usage, /*explain=*/true, r);
  perks::v1::Evaluation e;
  set.ToProto(b, r, &e);
  EXPECT_EQ(e.amount_fen(), e.discount_fen() + e.from_balances_fen() + e.to_pay_fen());
  EvalResult fast;
  set.Evaluate(b, usage, /*explain=*/false, fast);
  perks::v1::Evaluation f;
  set.ToProto(b, fast, &f);
  EXPECT_EQ(fast.applicable, r.applicable);
  f.clear_not_applied();
  perks::v1::Evaluation explained = e;
  explained.clear_not_applied();
  EXPECT_EQ(f.SerializeAsString(), explained.SerializeAsString())
      << "without explanations: " << f.DebugString() << "with: " << explained.DebugString();
  return e;
}

perks::v1::NotAppliedReason ReasonFor(const perks::v1::Evaluation& e, const std::string& id) {
  for (const auto& n : e.not_applied()) {
    if (n.campaign_id() == id) return n.reason();
  }
  return perks::v1::NOT_APPLIED_REASON_UNSPECIFIED;
}

TEST(EngineTest, SupermarketSpend100Save30SplitBetweenBankAndMerchant) {
  CampaignSpec s = Threshold("supermarket-100-30", 10000, 3000);
  s.mutable_eligibility()->add_categories("supermarket");
  auto set = Compile({s});
  perks::v1::Evaluation e = Eval(*set, At("m-any", "supermarket", 10000));
  ASSERT_EQ(e.discounts_size(), 1);
  EXPECT_EQ(e.discounts(0).amount_fen(), 3000);
  EXPECT_EQ(e.discounts(0).funding(0).amount_fen(), 1500);
  EXPECT_EQ(e.discounts(0).funding(1).amount_fen(), 1500);
  EXPECT_EQ(e.to_pay_fen(), 7000);
  // 99.99 yuan is not enough; dining is another category.
  e = Eval(*set, At("m-any", "supermarket", 9999));
  EXPECT_EQ(e.discount_fen(), 0);
  EXPECT_EQ(ReasonFor(e, "supermarket-100-30"), perks::v1::NOT_APPLIED_MIN_SPEND);
  EXPECT_EQ(Eval(*set, At("m-any", "dining", 20000)).discount_fen(), 0);
}

TEST(EngineTest, PerMultipleThresholdStopsAtItsCap) {
  CampaignSpec s = Threshold("every-100-30", 10000, 3000);
  s.mutable_threshold()->set_per_multiple(true);
  s.mutable_threshold()->set_cap_fen(6000);
  auto set = Compile({s});
  EXPECT_EQ(Eval(*set, At("m", "x", 19999)).discount_fen(), 3000);
  EXPECT_EQ(Eval(*set, At("m", "x", 20000)).discount_fen(), 6000);
  EXPECT_EQ(Eval(*set, At("m", "x", 35000)).discount_fen(), 6000);
}

TEST(EngineTest, PercentRoundsDownAndCaps) {
  auto set = Compile({Percent("daily-10", 1000, 5000)});
  EXPECT_EQ(Eval(*set, At("m", "x", 1999)).discount_fen(), 199);
  EXPECT_EQ(Eval(*set, At("m", "x", 100000)).discount_fen(), 5000);
}

TEST(EngineTest, HalfPriceFareNeverChargesLessThanHalf) {
  CampaignSpec half = Campaign("bus-half");
  half.mutable_fare()->set_pay_bp(5000);
  half.mutable_eligibility()->add_categories("bus");
  CampaignSpec free = Campaign("bus-free-model-workers");
  free.mutable_fare()->set_pay_bp(0);
  free.mutable_eligibility()->add_categories("bus");
  free.mutable_eligibility()->add_member_tags_any("model_worker");
  auto set = Compile({half, free});
  perks::v1::Evaluation e = Eval(*set, At("bus-co", "bus", 151));
  EXPECT_EQ(e.to_pay_fen(), 76);  // ceil(75.5)
  EXPECT_EQ(e.discount_fen(), 75);
  Basket worker = At("bus-co", "bus", 200);
  worker.add_member_tags("model_worker");
  e = Eval(*set, worker);
  EXPECT_EQ(e.to_pay_fen(), 0);
  ASSERT_EQ(e.discounts_size(), 1);
  EXPECT_EQ(e.discounts(0).campaign_id(), "bus-free-model-workers");
  EXPECT_EQ(ReasonFor(e, "bus-half"), perks::v1::NOT_APPLIED_BEATEN);
}

TEST(EngineTest, ExclusiveOffersGiveTheMemberTheBestAndTiesGoToPriorityThenId) {
  CampaignSpec a = Threshold("a-30", 10000, 3000);
  CampaignSpec b = Percent("b-30pct", 3000);
  CampaignSpec c = Threshold("c-30", 10000, 3000);
  auto set = Compile({c, b, a});
  perks::v1::Evaluation e = Eval(*set, At("m", "x", 10000));
  ASSERT_EQ(e.discounts_size(), 1);
  EXPECT_EQ(e.discounts(0).campaign_id(), "a-30");  // three tie at 30 yuan: smallest id
  c.mutable_stacking()->set_priority(5);
  set = Compile({a, b, c});
  EXPECT_EQ(Eval(*set, At("m", "x", 10000)).discounts(0).campaign_id(), "c-30");
  // At 200 yuan the percentage gives more.
  EXPECT_EQ(Eval(*set, At("m", "x", 20000)).discounts(0).campaign_id(), "b-30pct");
}

TEST(EngineTest, PriorityDecidesTiesBetweenAMerchantsOffersAndTheCitysOwn) {
  // The same 30 yuan from an offer of this merchant and from one of every merchant: the higher
  // priority wins, whichever index holds it, and with equal priority the smaller id.
  CampaignSpec shop = Threshold("a-shop", 10000, 3000);
  shop.mutable_eligibility()->add_merchant_ids("m");
  CampaignSpec city = Threshold("z-city", 10000, 3000);
  city.mutable_stacking()->set_priority(3);
  auto set = Compile({shop, city});
  EXPECT_EQ(Eval(*set, At("m", "x", 10000)).discounts(0).campaign_id(), "z-city");
  shop.mutable_stacking()->set_priority(7);
  set = Compile({shop, city});
  EXPECT_EQ(Eval(*set, At("m", "x", 10000)).discounts(0).campaign_id(), "a-shop");
  city.mutable_stacking()->set_priority(7);
  set = Compile({shop, city});
  EXPECT_EQ(Eval(*set, At("m", "x", 10000)).discounts(0).campaign_id(), "a-shop");
}

TEST(EngineTest, StackableOffersApplyInPriorityOrderOnWhatIsLeft) {
  CampaignSpec daily = Percent("daily-10", 1000);
  daily.mutable_stacking()->set_stackable(true);
  daily.mutable_stacking()->set_priority(1);
  CampaignSpec fuel = Threshold("fuel-200-40", 20000, 4000);
  fuel.mutable_stacking()->set_stackable(true);
  fuel.mutable_stacking()->set_priority(2);
  auto set = Compile({daily, fuel});
  perks::v1::Evaluation e = Eval(*set, At("sinopec", "fuel", 30000));
  ASSERT_EQ(e.discounts_size(), 2);
  EXPECT_EQ(e.discounts(0).campaign_id(), "fuel-200-40");
  EXPECT_EQ(e.discounts(0).amount_fen(), 4000);
  EXPECT_EQ(e.discounts(1).amount_fen(), 2600);  // 10% of the 260 left
  // The threshold is judged on what is left when it comes second.
  fuel.mutable_stacking()->set_priority(0);
  set = Compile({daily, fuel});
  e = Eval(*set, At("sinopec", "fuel", 21000));
  ASSERT_EQ(e.discounts_size(), 1);
  EXPECT_EQ(e.discounts(0).campaign_id(), "daily-10");
  EXPECT_EQ(ReasonFor(e, "fuel-200-40"), perks::v1::NOT_APPLIED_NOTHING_LEFT);
}

TEST(EngineTest, OnlyTheNamedMerchantsAndTheBasketsCityAreConsidered) {
  CampaignSpec s = Threshold("dining-100-50", 10000, 5000);
  s.mutable_eligibility()->add_merchant_ids("restaurant-1");
  CampaignSpec other_city = Threshold("anqing-100-50", 10000, 5000);
  other_city.set_tenant_id("anqing");
  auto set = Compile({s, other_city});
  EXPECT_EQ(Eval(*set, At("restaurant-1", "dining", 10000)).discount_fen(), 5000);
  perks::v1::Evaluation e = Eval(*set, At("restaurant-2", "dining", 10000));
  EXPECT_EQ(e.discount_fen(), 0);
  EXPECT_EQ(e.not_applied_size(), 0);  // not a candidate at all
}

TEST(EngineTest, AMerchantWithOffersInSeveralCategoriesGetsTheBasketsOwn) {
  CampaignSpec dining = Threshold("dining-100-50", 10000, 5000);
  dining.mutable_eligibility()->add_merchant_ids("mall-1");
  dining.mutable_eligibility()->add_categories("dining");
  CampaignSpec market = Threshold("market-100-30", 10000, 3000);
  market.mutable_eligibility()->add_merchant_ids("mall-1");
  market.mutable_eligibility()->add_categories("supermarket");
  CampaignSpec fuel = Percent("fuel-10", 1000);
  fuel.mutable_eligibility()->add_merchant_ids("mall-1");
  fuel.mutable_eligibility()->add_categories("fuel");
  auto set = Compile({dining, market, fuel});
  EXPECT_EQ(Eval(*set, At("mall-1", "dining", 10000)).discount_fen(), 5000);
  EXPECT_EQ(Eval(*set, At("mall-1", "supermarket", 10000)).discount_fen(), 3000);
  EXPECT_EQ(Eval(*set, At("mall-1", "fuel", 10000)).discount_fen(), 1000);
  EXPECT_EQ(Eval(*set, At("mall-1", "bus", 10000)).discount_fen(), 0);
}

TEST(EngineTest, OpenEndedAndFarFutureCampaignsStillApplyAfter2106) {
  // Past what 32-bit seconds tell, the narrow tests must say "maybe", never "no".
  const int64_t y2107 = absl::ToUnixMillis(
      absl::FromCivil(absl::CivilSecond(2107, 1, 1, 12, 0, 0), absl::FixedTimeZone(8 * 3600)));
  CampaignSpec open = Percent("open-10", 1000);
  CampaignSpec stacked = Percent("stacked-5", 500);
  stacked.mutable_stacking()->set_stackable(true);
  CampaignSpec until_2200 = Percent("until-2200-3", 300);
  until_2200.mutable_stacking()->set_stackable(true);
  until_2200.mutable_stacking()->set_priority(-1);
  *until_2200.mutable_ends_at() = TimestampFromMs(absl::ToUnixMillis(
      absl::FromCivil(absl::CivilSecond(2200, 1, 1, 0, 0, 0), absl::FixedTimeZone(8 * 3600))));
  auto set = Compile({open, stacked, until_2200});
  Basket b = At("m", "x", 10000);
  b.set_at_unix_ms(y2107);
  perks::v1::Evaluation e = Eval(*set, b);
  ASSERT_EQ(e.discounts_size(), 3) << e.DebugString();
  EXPECT_EQ(e.discount_fen(), 1000 + 450 + 256);  // 10%, then 5% of 90, then 3% of 85.50
}

TEST(EngineTest, MerchantIdsOfAnyLengthAreFoundExactly) {
  // Short ids are kept in the index itself, long ones apart: both are matched whole.
  const std::string long_id = "M-340100-0000000000000001-restaurant";
  CampaignSpec s = Threshold("dining-100-50", 10000, 5000);
  s.mutable_eligibility()->add_merchant_ids("r-123456789012345");  // 17 bytes
  s.mutable_eligibility()->add_merchant_ids(long_id);
  s.mutable_eligibility()->add_merchant_ids("r1");
  auto set = Compile({s});
  for (const std::string& id : {std::string("r-123456789012345"), long_id, std::string("r1")}) {
    EXPECT_EQ(Eval(*set, At(id, "dining", 10000)).discount_fen(), 5000) << id;
  }
  for (const std::string& id : {std::string("r-12345678901234"), long_id + "x", std::string("r"),
                                std::string("r-123456789012345").substr(0, 15)}) {
    EXPECT_EQ(Eval(*set, At(id, "dining", 10000)).discount_fen(), 0) << id;
  }
}

TEST(EngineTest, WeekdaysAndHoursAreShanghaiTime) {
  CampaignSpec s = Percent("weekday-lunch", 2000);
  s.mutable_eligibility()->add_weekdays(3);  // Wednesday
  s.mutable_eligibility()->set_day_start_minute(11 * 60);
  s.mutable_eligibility()->set_day_end_minute(14 * 60);
  auto set = Compile({s});
  EXPECT_EQ(Eval(*set, At("m", "x", 1000)).discount_fen(), 200);
  Basket evening = At("m", "x", 1000);
  evening.set_at_unix_ms(kNoon + 6 * 3600 * 1000);  // 18:00
  EXPECT_EQ(ReasonFor(Eval(*set, evening), "weekday-lunch"), perks::v1::NOT_APPLIED_HOURS);
  Basket thursday = At("m", "x", 1000);
  thursday.set_at_unix_ms(kNoon + 24 * 3600 * 1000);
  EXPECT_EQ(ReasonFor(Eval(*set, thursday), "weekday-lunch"), perks::v1::NOT_APPLIED_WEEKDAY);
}

TEST(EngineTest, DatesProgramsStoresAndRegionsAreChecked) {
  CampaignSpec s = Percent("special", 1000);
  *s.mutable_starts_at() = TimestampFromMs(kNoon);
  *s.mutable_ends_at() = TimestampFromMs(kNoon + 1000);
  s.mutable_eligibility()->add_program_ids("bozhou-member");
  s.mutable_eligibility()->add_store_ids("store-1");
  s.mutable_eligibility()->add_regions("qiaocheng");
  auto set = Compile({s});
  Basket b = At("m", "x", 1000);
  b.set_store_id("store-1");
  b.set_region("qiaocheng");
  EXPECT_EQ(Eval(*set, b).discount_fen(), 100);
  Basket late = b;
  late.set_at_unix_ms(kNoon + 1000);  // the end is exclusive
  EXPECT_EQ(ReasonFor(Eval(*set, late), "special"), perks::v1::NOT_APPLIED_OUTSIDE_DATES);
  Basket other_program = b;
  other_program.set_program_id("anqing-green");
  EXPECT_EQ(ReasonFor(Eval(*set, other_program), "special"), perks::v1::NOT_APPLIED_PROGRAM);
  Basket other_store = b;
  other_store.set_store_id("store-2");
  EXPECT_EQ(ReasonFor(Eval(*set, other_store), "special"), perks::v1::NOT_APPLIED_STORE);
  Basket other_region = b;
  other_region.set_region("guoyang");
  EXPECT_EQ(ReasonFor(Eval(*set, other_region), "special"), perks::v1::NOT_APPLIED_REGION);
}

TEST(EngineTest, BoundariesInsideASecondAndHugeAmountsAreExact) {
  // The scan's narrow copies are whole seconds and 32-bit amounts; the campaign decides exactly.
  CampaignSpec s = Threshold("odd", 5'000'000'000, 3000);
  *s.mutable_starts_at() = TimestampFromMs(kNoon + 500);
  *s.mutable_ends_at() = TimestampFromMs(kNoon + 1500);
  auto set = Compile({s, Percent("plain", 1000)});
  Basket b = At("m", "x", 5'000'000'000);
  for (auto [at, applies] : {std::pair{kNoon + 499, false},
                             {kNoon + 500, true},
                             {kNoon + 1499, true},
                             {kNoon + 1500, false}}) {
    b.set_at_unix_ms(at);
    perks::v1::Evaluation e = Eval(*set, b);
    EXPECT_EQ(ReasonFor(e, "odd") == perks::v1::NOT_APPLIED_REASON_UNSPECIFIED ||
                  ReasonFor(e, "odd") == perks::v1::NOT_APPLIED_BEATEN,
              applies)
        << at;
  }
  // 4,999,999,999 fen is just short of the threshold, though both exceed 32 bits.
  b.set_at_unix_ms(kNoon + 500);
  b.set_amount_fen(4'999'999'999);
  EXPECT_EQ(ReasonFor(Eval(*set, b), "odd"), perks::v1::NOT_APPLIED_MIN_SPEND);
  // With no cap, 10% of 50 million yuan is 5 million yuan: no 32-bit cap sneaks in.
  b.set_amount_fen(5'000'000'000);
  EXPECT_EQ(Eval(*set, b).discount_fen(), 500'000'000);
}

TEST(EngineTest, VoucherBalanceWithTheMerchantsTenPercentTopUp) {
  CampaignSpec s = Campaign("warm-heart-topup");
  s.clear_funding();
  auto* m = s.add_funding();
  m->set_funder(perks::v1::FUNDER_MERCHANT);
  m->set_share_bp(10000);
  s.mutable_balance_payment()->set_balance_name("warm-heart");
  s.mutable_balance_payment()->set_topup_bp(1000);
  auto* paid_back = s.mutable_balance_payment()->add_balance_funding();
  paid_back->set_funder(perks::v1::FUNDER_UNION);
  paid_back->set_share_bp(10000);
  s.mutable_eligibility()->add_categories("farm_produce");
  auto set = Compile({s});
  Basket b = At("farm-1", "farm_produce", 60000);
  (*b.mutable_balances_fen())["warm-heart"] = 50000;
  perks::v1::Evaluation e = Eval(*set, b);
  ASSERT_EQ(e.discounts_size(), 1);
  EXPECT_EQ(e.discounts(0).from_balance_fen(), 50000);
  EXPECT_EQ(e.discounts(0).amount_fen(), 5000);  // the merchant's 10%
  EXPECT_EQ(e.to_pay_fen(), 5000);
  // The union, which funded the voucher, owes the merchant what was paid from it.
  ASSERT_EQ(e.discounts(0).balance_funding_size(), 1);
  EXPECT_EQ(e.discounts(0).balance_funding(0).funder(), perks::v1::FUNDER_UNION);
  EXPECT_EQ(e.discounts(0).balance_funding(0).amount_fen(), 50000);
  // A smaller basket uses only as much of the voucher as it needs.
  b.set_amount_fen(30000);
  e = Eval(*set, b);
  EXPECT_EQ(e.discounts(0).from_balance_fen(), 27273);
  EXPECT_EQ(e.discounts(0).amount_fen(), 2727);
  EXPECT_EQ(e.to_pay_fen(), 0);
  // No voucher, nothing to pay from.
  b.clear_balances_fen();
  EXPECT_EQ(ReasonFor(Eval(*set, b), "warm-heart-topup"), perks::v1::NOT_APPLIED_NO_BALANCE);
}

TEST(EngineTest, TagsBeyondTheSixtyFourthStillQualify) {
  std::vector<CampaignSpec> specs;
  for (int i = 1; i <= 70; ++i) {
    CampaignSpec s = Campaign(absl::StrFormat("fixed-%02d", i));
    s.mutable_fixed()->set_off_fen(i);
    s.mutable_eligibility()->add_member_tags_any(absl::StrFormat("tag-%02d", i));
    specs.push_back(s);
  }
  auto set = Compile(specs);
  Basket b = At("m", "x", 10000);
  b.add_member_tags("tag-68");
  perks::v1::Evaluation e = Eval(*set, b);
  EXPECT_EQ(e.discount_fen(), 68);
  EXPECT_EQ(ReasonFor(e, "fixed-67"), perks::v1::NOT_APPLIED_MEMBER_TAGS);
}

class RefuseOne final : public UsageView {
 public:
  explicit RefuseOne(std::string id) : id_(std::move(id)) {}
  NotAppliedReason Allows(const CompiledCampaign& c, const Basket&, const LocalMoment&,
                          int64_t) const override {
    return c.id() == id_ ? perks::v1::NOT_APPLIED_BUDGET
                         : perks::v1::NOT_APPLIED_REASON_UNSPECIFIED;
  }

 private:
  std::string id_;
};

TEST(EngineTest, ACampaignOutOfBudgetLeavesTheNextBest) {
  CampaignSpec big = Threshold("big", 10000, 5000);
  big.set_budget_fen(100000);
  CampaignSpec small = Threshold("small", 10000, 1000);
  auto set = Compile({big, small});
  RefuseOne usage("big");
  perks::v1::Evaluation e = Eval(*set, At("m", "x", 10000), &usage);
  ASSERT_EQ(e.discounts_size(), 1);
  EXPECT_EQ(e.discounts(0).campaign_id(), "small");
  EXPECT_EQ(ReasonFor(e, "big"), perks::v1::NOT_APPLIED_BUDGET);
  // Without a usage view (a preview), limits are not asked.
  EXPECT_EQ(Eval(*set, At("m", "x", 10000)).discounts(0).campaign_id(), "big");
}

TEST(EngineTest, GrantsOnActivationAndMedicalClaimsAboveTheThreshold) {
  CampaignSpec transit = Campaign("anqing-activation-30");
  transit.set_tenant_id("anqing");
  auto* g = transit.mutable_grant();
  g->set_event(perks::v1::GRANT_EVENT_CARD_ACTIVATED);
  g->set_balance_name("transit");
  g->set_balance_kind(perks::v1::GRANT_BALANCE_KIND_TRANSIT);
  g->set_amount_fen(3000);
  CampaignSpec medical = Campaign("anqing-medical");
  medical.set_tenant_id("anqing");
  auto* m = medical.mutable_grant();
  m->set_event(perks::v1::GRANT_EVENT_MEDICAL_CLAIM);
  m->set_balance_name("medical");
  m->set_balance_kind(perks::v1::GRANT_BALANCE_KIND_PAYOUT);
  m->set_amount_fen(50000);
  m->set_min_claim_fen(100000);
  auto set = Compile({transit, medical});
  Basket member = At("", "", 0);
  member.set_tenant_id("anqing");
  GrantAnswer a =
      set->EvaluateGrants(perks::v1::GRANT_EVENT_CARD_ACTIVATED, member, 0, "", nullptr);
  ASSERT_EQ(a.granted.size(), 1u);
  EXPECT_EQ(a.granted[0].amount_fen, 3000);
  a = set->EvaluateGrants(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, member, 99999, "", nullptr);
  EXPECT_TRUE(a.granted.empty());
  ASSERT_EQ(a.rejected.size(), 1u);
  EXPECT_EQ(a.rejected[0].reason, perks::v1::NOT_APPLIED_CLAIM_TOO_SMALL);
  a = set->EvaluateGrants(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, member, 100000, "", nullptr);
  ASSERT_EQ(a.granted.size(), 1u);
  EXPECT_EQ(set->campaign(a.granted[0].campaign).member_per_campaign_count, 1);
}

TEST(EngineTest, CompileRefusesAnInvalidOrDuplicatedCampaign) {
  CampaignSpec bad = Threshold("bad", 10000, 3000);
  bad.clear_funding();
  std::vector<RuleSet::Input> in(1);
  *in[0].version.mutable_spec() = bad;
  in[0].version.set_campaign_id("bad");
  EXPECT_EQ(RuleSet::Compile(in).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<RuleSet::Input> twice(2);
  for (auto& i : twice) {
    *i.version.mutable_spec() = Threshold("same", 10000, 3000);
    i.version.set_campaign_id("same");
  }
  EXPECT_EQ(RuleSet::Compile(twice).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EngineTest, PausedCampaignsDoNotApply) {
  std::vector<RuleSet::Input> in(1);
  *in[0].version.mutable_spec() = Percent("paused", 1000);
  in[0].version.set_campaign_id("paused");
  in[0].paused = true;
  auto set = RuleSet::Compile(in);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(Eval(**set, At("m", "x", 1000)).discount_fen(), 0);
  EXPECT_NE((*set)->Find("paused"), nullptr);
}

}  // namespace
}  // namespace perks::promotion
