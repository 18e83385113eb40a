#include "tools/common/campaign_file.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/promotion/domain/spec.h"

namespace perks::tools {
namespace {

using ::testing::HasSubstr;

constexpr char kYaml[] = R"(
campaigns:
  - campaign_id: bozhou-supermarket-100-30
    tenant_id: bozhou
    title: "超市满100减30"
    starts_at: 2026-12-01T00:00:00+08:00
    ends_at: 2027-01-01T00:00:00+08:00
    threshold: {min_fen: 10000, off_fen: 3000}
    eligibility:
      categories: [supermarket]
      weekdays: [6, 7]
    funding:
      - {funder: FUNDER_BANK, share_bp: 5000, budget_fen: 20000000}
      - {funder: FUNDER_MERCHANT, share_bp: 5000}
    stacking: {stackable: false, priority: 2}
  - campaign_id: bozhou-daily-10
    tenant_id: bozhou
    title: every day 10% off
    percent: {off_bp: 1000}
    funding: [{funder: FUNDER_MERCHANT, share_bp: 10000}]
)";

TEST(CampaignFileTest, ReadsAYamlProgramWithShanghaiTimes) {
  auto file = ParseCampaignText(kYaml, "bozhou.yaml");
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->campaigns_size(), 2);
  const auto& s = file->campaigns(0);
  EXPECT_EQ(s.title(), "超市满100减30");
  EXPECT_EQ(s.threshold().off_fen(), 3000);
  EXPECT_EQ(s.eligibility().weekdays_size(), 2);
  EXPECT_EQ(s.funding(0).budget_fen(), 20000000);
  // 2026-12-01 00:00 in Shanghai is 2026-11-30 16:00 UTC.
  EXPECT_EQ(promotion::StartsAtMs(s), 1796054400000);
  EXPECT_FALSE(file->campaigns(1).has_starts_at());
}

TEST(CampaignFileTest, ReadsJsonAndASingleCampaign) {
  auto file = ParseCampaignText(
      R"({"campaign_id": "one", "tenant_id": "anqing", "title": "t", "fixed": {"off_fen": "500"},
          "funding": [{"funder": "FUNDER_UNION", "share_bp": 10000}]})",
      "one.json");
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->campaigns_size(), 1);
  EXPECT_EQ(file->campaigns(0).fixed().off_fen(), 500);
}

TEST(CampaignFileTest, RefusesDecimalsUnknownFieldsAndInvalidCampaigns) {
  std::string decimal = kYaml;
  decimal.replace(decimal.find("off_fen: 3000"), 13, "off_fen: 30.5");
  auto s = ParseCampaignText(decimal, "f.yaml").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("whole fen"));

  std::string unknown = kYaml;
  unknown.replace(unknown.find("off_fen: 3000"), 13, "off_yuan: 30");
  EXPECT_THAT(ParseCampaignText(unknown, "f.yaml").status().message(), HasSubstr("off_yuan"));

  std::string invalid = kYaml;
  invalid.replace(invalid.find("share_bp: 5000, budget"), 14, "share_bp: 4000");
  s = ParseCampaignText(invalid, "f.yaml").status();
  EXPECT_THAT(s.message(), HasSubstr("campaign 1 (bozhou-supermarket-100-30)"));
  EXPECT_THAT(s.message(), HasSubstr("10000"));
}

TEST(CampaignFileTest, ASyntaxErrorSaysWhere) {
  auto s = ParseCampaignText("campaigns:\n  - campaign_id: [unclosed\n", "bad.yaml").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("bad.yaml: line "));
  EXPECT_EQ(ReadCampaignFile("/nonexistent/x.yaml").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace perks::tools
