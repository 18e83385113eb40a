#include "services/promotion/domain/spec.h"

#include "gtest/gtest.h"

namespace perks::promotion {
namespace {

perks::v1::CampaignSpec Valid() {
  perks::v1::CampaignSpec s;
  s.set_campaign_id("bozhou-supermarket-100-30");
  s.set_tenant_id("bozhou");
  s.set_title("Supermarkets: spend 100 save 30");
  *s.mutable_starts_at() = TimestampFromMs(1000);
  s.mutable_threshold()->set_min_fen(10000);
  s.mutable_threshold()->set_off_fen(3000);
  auto* f = s.add_funding();
  f->set_funder(perks::v1::FUNDER_BANK);
  f->set_share_bp(10000);
  return s;
}

TEST(SpecTest, AcceptsAWellFormedCampaign) { EXPECT_TRUE(ValidateSpec(Valid()).ok()); }

TEST(SpecTest, EachMistakeNamesItsField) {
  struct Case {
    void (*mutate)(perks::v1::CampaignSpec&);
    const char* field;
  } cases[] = {
      {[](auto& s) { s.set_campaign_id("Bad Id"); }, "campaign_id"},
      {[](auto& s) { s.set_tenant_id(""); }, "tenant_id"},
      {[](auto& s) { s.set_title(""); }, "title"},
      {[](auto& s) { *s.mutable_ends_at() = TimestampFromMs(1000); }, "ends_at"},
      {[](auto& s) { s.mutable_threshold()->set_off_fen(20000); }, "threshold.off_fen"},
      {[](auto& s) { s.mutable_percent()->set_off_bp(10001); }, "percent.off_bp"},
      {[](auto& s) { s.mutable_fare()->set_pay_bp(10000); }, "fare.pay_bp"},
      {[](auto& s) { s.mutable_grant()->set_amount_fen(3000); }, "grant.event"},
      {[](auto& s) { s.clear_rule(); }, "no rule"},
      {[](auto& s) { s.mutable_eligibility()->add_weekdays(8); }, "weekdays"},
      {[](auto& s) { s.mutable_eligibility()->set_day_start_minute(600); }, "day_start_minute"},
      {[](auto& s) { s.mutable_funding(0)->set_share_bp(5000); }, "funding"},
      {[](auto& s) { s.set_budget_fen(-1); }, "budgets"},
      {[](auto& s) { s.mutable_threshold()->set_min_fen(-10000); }, "threshold.min_fen"},
      {[](auto& s) {
         // Two funders whose shares overlap: 60% + 60%.
         s.mutable_funding(0)->set_share_bp(6000);
         auto* union_share = s.add_funding();
         union_share->set_funder(perks::v1::FUNDER_UNION);
         union_share->set_share_bp(6000);
       },
       "funding"},
      {[](auto& s) { s.mutable_eligibility()->add_categories("bakery"); },
       "eligibility.categories: unknown category \"bakery\""},
      {[](auto& s) {
         s.mutable_eligibility()->add_merchant_ids("m-3");
         s.mutable_eligibility()->add_merchant_ids("m-3");
       },
       "eligibility.merchant_ids: \"m-3\" is listed twice"},
      {[](auto& s) {
         s.mutable_grant()->set_event(perks::v1::GRANT_EVENT_CARD_ACTIVATED);
         s.mutable_grant()->set_balance_name("voucher");
         s.mutable_grant()->set_balance_kind(perks::v1::GRANT_BALANCE_KIND_VOUCHER);
         s.mutable_grant()->set_amount_fen(50000);
         s.mutable_grant()->add_allowed_categories("farm-produce");
       },
       "grant.allowed_categories"},
      {[](auto& s) { s.mutable_balance_payment()->set_balance_name("warm-heart"); },
       "balance_payment.balance_funding"},
      {[](auto& s) {
         s.mutable_balance_payment()->set_balance_name("warm-heart");
         auto* f = s.mutable_balance_payment()->add_balance_funding();
         f->set_funder(perks::v1::FUNDER_UNION);
         f->set_share_bp(9000);
       },
       "balance_payment.balance_funding: the share_bp values must add up to 10000"},
      {[](auto& s) {
         s.mutable_balance_payment()->set_balance_name("warm-heart");
         auto* f = s.mutable_balance_payment()->add_balance_funding();
         f->set_funder(perks::v1::FUNDER_UNION);
         f->set_share_bp(10000);
         f->set_budget_fen(100);
       },
       "balance_payment.balance_funding: no budget_fen"},
  };
  for (const Case& c : cases) {
    perks::v1::CampaignSpec s = Valid();
    c.mutate(s);
    absl::Status status = ValidateSpec(s);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(status.message().find(c.field), std::string::npos) << status.message();
  }
}

TEST(SpecTest, HashFollowsContent) {
  perks::v1::CampaignSpec a = Valid(), b = Valid();
  EXPECT_EQ(SpecSha256(a), SpecSha256(b));
  EXPECT_EQ(SpecSha256(a).size(), 64u);
  b.mutable_threshold()->set_off_fen(2999);
  EXPECT_NE(SpecSha256(a), SpecSha256(b));
}

TEST(SpecTest, DescribesRulesInWords) {
  perks::v1::CampaignSpec s = Valid();
  EXPECT_EQ(DescribeRule(s), "spend 100.00 yuan, save 30.00");
  s.mutable_percent()->set_off_bp(1000);
  s.mutable_percent()->set_cap_fen(5000);
  EXPECT_EQ(DescribeRule(s), "10.00% off, at most 50.00 yuan");
}

}  // namespace
}  // namespace perks::promotion
