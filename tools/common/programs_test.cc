// The seed programs in examples/programs: each file loads, and the engine gives each program's
// numbers. (End to end against a running server: tests/integration, with the promotion service.)
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/promotion/domain/engine.h"
#include "tools/common/campaign_file.h"

namespace perks::tools {
namespace {

using perks::promotion::EvalResult;
using perks::promotion::RuleSet;
using perks::v1::Basket;

int64_t ShanghaiMs(int y, int mo, int d, int h) {
  return absl::ToUnixMillis(
      absl::FromCivil(absl::CivilSecond(y, mo, d, h, 0, 0), absl::FixedTimeZone(8 * 3600)));
}

class ProgramsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::vector<RuleSet::Input> inputs;
    for (const auto& entry : std::filesystem::directory_iterator(PERKS_EXAMPLES_DIR)) {
      auto file = ReadCampaignFile(entry.path().string());
      ASSERT_TRUE(file.ok()) << file.status();
      ++files_;
      for (const auto& spec : file->campaigns()) {
        inputs.push_back(RuleSet::Input::Of(spec));
      }
    }
    auto set = RuleSet::Compile(std::move(inputs));
    ASSERT_TRUE(set.ok()) << set.status();
    rules_ = new std::shared_ptr<const RuleSet>(*set);
  }
  static void TearDownTestSuite() { delete rules_; }

  static Basket At(const std::string& tenant, const std::string& program,
                   const std::string& category, int64_t amount_fen, int64_t at_ms) {
    Basket b;
    b.set_tenant_id(tenant);
    b.set_program_id(program);
    b.set_member_id("member-1");
    b.set_merchant_id("merchant-1");
    b.set_category(category);
    b.set_amount_fen(amount_fen);
    b.set_at_unix_ms(at_ms);
    return b;
  }

  static perks::v1::Evaluation Eval(const Basket& b) {
    EvalResult r;
    (*rules_)->Evaluate(b, nullptr, true, r);
    perks::v1::Evaluation e;
    (*rules_)->ToProto(b, r, &e);
    return e;
  }

  static int64_t Funded(const perks::v1::Discount& d, perks::v1::Funder funder) {
    for (const auto& f : d.funding()) {
      if (f.funder() == funder) return f.amount_fen();
    }
    return 0;
  }

  static perks::promotion::GrantAnswer Grants(perks::v1::GrantEvent event, const Basket& member,
                                              int64_t claim_fen = 0) {
    return (*rules_)->EvaluateGrants(event, member, claim_fen, "", nullptr);
  }

  static int files_;
  static std::shared_ptr<const RuleSet>* rules_;
};

int ProgramsTest::files_ = 0;
std::shared_ptr<const RuleSet>* ProgramsTest::rules_ = nullptr;

const int64_t kSpecialPeriod = ShanghaiMs(2026, 12, 5, 18);
const int64_t kBeforeIt = ShanghaiMs(2026, 11, 25, 18);

TEST_F(ProgramsTest, EverySeedProgramHasAFile) { EXPECT_EQ(files_, 6); }

TEST_F(ProgramsTest, BozhouSupermarketSpend100Save30HalfBankHalfMerchant) {
  auto e = Eval(At("bozhou", "bozhou-member", "supermarket", 10000, kSpecialPeriod));
  ASSERT_EQ(e.discounts_size(), 1);
  EXPECT_EQ(e.discounts(0).campaign_id(), "bozhou-supermarket-100-30");
  EXPECT_EQ(e.discount_fen(), 3000);
  EXPECT_EQ(Funded(e.discounts(0), perks::v1::FUNDER_BANK), 1500);
  EXPECT_EQ(Funded(e.discounts(0), perks::v1::FUNDER_MERCHANT), 1500);
  EXPECT_EQ(e.to_pay_fen(), 7000);
}

TEST_F(ProgramsTest, BozhouDailyTenPercentOutsideTheSpecialPeriodOrBelowItsThresholds) {
  auto e = Eval(At("bozhou", "bozhou-member", "supermarket", 10000, kBeforeIt));
  ASSERT_EQ(e.discounts_size(), 1);
  EXPECT_EQ(e.discounts(0).campaign_id(), "bozhou-daily-10");
  EXPECT_EQ(e.discount_fen(), 1000);
  EXPECT_EQ(Funded(e.discounts(0), perks::v1::FUNDER_MERCHANT), 1000);
  e = Eval(At("bozhou", "bozhou-member", "dining", 9999, kSpecialPeriod));
  EXPECT_EQ(e.discount_fen(), 999);
  // Another program's card gets nothing from Bozhou's campaigns.
  EXPECT_EQ(Eval(At("bozhou", "anqing-green", "dining", 10000, kBeforeIt)).discount_fen(), 0);
}

TEST_F(ProgramsTest, BozhouFuelAndDiningSpecialsBeatTheDailyDiscount) {
  auto fuel = Eval(At("bozhou", "bozhou-member", "fuel", 30000, kSpecialPeriod));
  EXPECT_EQ(fuel.discount_fen(), 4000);  // 40 yuan beats 10% (30 yuan)
  EXPECT_EQ(fuel.discounts(0).campaign_id(), "bozhou-fuel-200-40");
  auto dining = Eval(At("bozhou", "bozhou-member", "dining", 10000, kSpecialPeriod));
  EXPECT_EQ(dining.discount_fen(), 5000);
  EXPECT_EQ(Funded(dining.discounts(0), perks::v1::FUNDER_BANK), 2500);
}

TEST_F(ProgramsTest, AnqingActivationCreditAndHalfPriceBus) {
  Basket member = At("anqing", "anqing-green", "", 0, kBeforeIt);
  auto grants = Grants(perks::v1::GRANT_EVENT_CARD_ACTIVATED, member);
  ASSERT_EQ(grants.granted.size(), 1u);
  EXPECT_EQ(grants.granted[0].amount_fen, 3000);
  EXPECT_EQ((*rules_)->campaign(grants.granted[0].campaign).spec().budget_fen(), 60000000);
  auto ride = Eval(At("anqing", "anqing-green", "bus", 200, kBeforeIt));
  EXPECT_EQ(ride.to_pay_fen(), 100);
}

TEST_F(ProgramsTest, ModelWorkersRideFreeOthersPayHalfInMaanshan) {
  Basket worker = At("maanshan", "maanshan-member", "bus", 200, kBeforeIt);
  worker.add_member_tags("model_worker");
  auto e = Eval(worker);
  EXPECT_EQ(e.to_pay_fen(), 0);
  EXPECT_EQ(e.discounts(0).campaign_id(), "maanshan-model-workers-bus");
  EXPECT_EQ(Eval(At("maanshan", "maanshan-member", "bus", 200, kBeforeIt)).to_pay_fen(), 100);
  Basket medal = At("fuyang", "fuyang-member", "bus", 150, kBeforeIt);
  medal.add_member_tags("may_day_medal");
  EXPECT_EQ(Eval(medal).to_pay_fen(), 0);
}

TEST_F(ProgramsTest, FuyangWarmHeartVoucherBuys550YuanWithTheMerchantsTenPercent) {
  Basket household = At("fuyang", "fuyang-member", "", 0, kBeforeIt);
  household.add_member_tags("needy_household");
  auto grants = Grants(perks::v1::GRANT_EVENT_ISSUE_BATCH, household);
  ASSERT_EQ(grants.granted.size(), 1u);
  EXPECT_EQ(grants.granted[0].amount_fen, 50000);
  EXPECT_TRUE(
      Grants(perks::v1::GRANT_EVENT_ISSUE_BATCH, At("fuyang", "fuyang-member", "", 0, kBeforeIt))
          .granted.empty());

  Basket produce = At("fuyang", "fuyang-member", "farm_produce", 55000, kBeforeIt);
  (*produce.mutable_balances_fen())["warm-heart-2026"] = 50000;
  auto e = Eval(produce);
  ASSERT_EQ(e.discounts_size(), 1);
  EXPECT_EQ(e.discounts(0).from_balance_fen(), 50000);
  EXPECT_EQ(e.discounts(0).amount_fen(), 5000);
  EXPECT_EQ(Funded(e.discounts(0), perks::v1::FUNDER_MERCHANT), 5000);
  EXPECT_EQ(e.to_pay_fen(), 0);
}

TEST_F(ProgramsTest, MaanshanCountySupermarketsAndTheTransitBudget) {
  Basket hanshan = At("maanshan", "maanshan-member", "supermarket", 20000, kBeforeIt);
  hanshan.set_region("hanshan");
  EXPECT_EQ(Eval(hanshan).discount_fen(), 1000);
  hanshan.set_region("huashan");  // a city district, not a county
  EXPECT_EQ(Eval(hanshan).discount_fen(), 0);
  const auto* bus = (*rules_)->Find("maanshan-bus-half");
  ASSERT_NE(bus, nullptr);
  EXPECT_EQ(bus->spec().budget_fen(), 30000000);
  auto coupon = Grants(perks::v1::GRANT_EVENT_ISSUE_BATCH,
                       At("maanshan", "maanshan-member", "", 0, kBeforeIt));
  ASSERT_EQ(coupon.granted.size(), 1u);
  EXPECT_EQ(coupon.granted[0].amount_fen, 30000);
}

TEST_F(ProgramsTest, BozhouMedicalPayoutFromAThousandYuanOutOfPocket) {
  Basket member = At("bozhou", "bozhou-member", "", 0, kBeforeIt);
  EXPECT_TRUE(Grants(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, member, 99999).granted.empty());
  auto payout = Grants(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, member, 100000);
  ASSERT_EQ(payout.granted.size(), 1u);
  EXPECT_EQ(payout.granted[0].amount_fen, 50000);
}

}  // namespace
}  // namespace perks::tools
