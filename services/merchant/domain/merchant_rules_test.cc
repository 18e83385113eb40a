#include "services/merchant/domain/merchant_rules.h"

#include "gtest/gtest.h"

namespace perks::merchant {
namespace {

using namespace perks::v1;

MerchantProfile Profile() {
  MerchantProfile p;
  p.set_tenant_id(" Jieshou ");
  p.set_name("界首惠民超市");
  p.set_credit_code("91350100m000100y43");
  p.set_category("Supermarket");
  p.set_region("jieshou");
  p.set_address("界首市人民路 18 号");
  p.set_contact_name("王经理");
  p.set_contact_phone("13912345678");
  p.mutable_settlement()->set_bank_name("徽商银行界首支行");
  p.mutable_settlement()->set_account_name("界首惠民超市有限公司");
  p.mutable_settlement()->set_account_number("6217 0000 1234 5678 901");
  p.set_offer("会员每日九折");
  return p;
}

TEST(CreditCodeTest, AcceptsPublishedExamplesAndRejectsTypos) {
  EXPECT_TRUE(ValidateCreditCode("91350100M000100Y43").ok());
  EXPECT_TRUE(ValidateCreditCode("91110000600037341L").ok());
  absl::Status typo = ValidateCreditCode("91350100M000100Y44");
  EXPECT_EQ(typo.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(typo.message().find("check character"), std::string::npos);
  EXPECT_NE(ValidateCreditCode("91350100M000100I43").message().find("capital letters"),
            std::string::npos);  // I is not in the alphabet
  EXPECT_FALSE(ValidateCreditCode("9135010").ok());
}

TEST(ProfileTest, NormalizesAndMasks) {
  auto p = NormalizeProfile(Profile());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->tenant_id(), "jieshou");
  EXPECT_EQ(p->credit_code(), "91350100M000100Y43");
  EXPECT_EQ(p->category(), "supermarket");
  EXPECT_EQ(p->settlement().account_number(), "6217000012345678901");
  MerchantProfile shown = MaskedProfile(*p);
  EXPECT_EQ(shown.settlement().account_number(), "***************8901");
  EXPECT_EQ(shown.contact_phone(), "139****5678");
}

TEST(ProfileTest, RefusesMissingOrMalformedFields) {
  MerchantProfile p = Profile();
  p.set_credit_code("91350100M000100Y44");
  EXPECT_EQ(NormalizeProfile(p).status().code(), absl::StatusCode::kInvalidArgument);
  p = Profile();
  p.mutable_settlement()->set_account_number("12ab");
  EXPECT_EQ(NormalizeProfile(p).status().code(), absl::StatusCode::kInvalidArgument);
  p = Profile();
  p.set_offer("");
  EXPECT_EQ(NormalizeProfile(p).status().code(), absl::StatusCode::kInvalidArgument);
  p = Profile();
  p.set_tenant_id("bo zhou");
  EXPECT_EQ(NormalizeProfile(p).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReviewTest, DecisionsFromSubmittedOnly) {
  EXPECT_EQ(*Decide(APPLICATION_STATE_SUBMITTED, REVIEW_DECISION_APPROVE, ""),
            APPLICATION_STATE_APPROVED);
  EXPECT_EQ(*Decide(APPLICATION_STATE_SUBMITTED, REVIEW_DECISION_REJECT, "not a partner region"),
            APPLICATION_STATE_REJECTED);
  EXPECT_EQ(Decide(APPLICATION_STATE_SUBMITTED, REVIEW_DECISION_REJECT, " ").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decide(APPLICATION_STATE_APPROVED, REVIEW_DECISION_REJECT, "x").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CanResubmit(APPLICATION_STATE_REJECTED).ok());
  EXPECT_TRUE(CanResubmit(APPLICATION_STATE_CHANGES_REQUESTED).ok());
  EXPECT_FALSE(CanResubmit(APPLICATION_STATE_APPROVED).ok());
  EXPECT_FALSE(CanResubmit(APPLICATION_STATE_SUBMITTED).ok());
}

TEST(MerchantStateTest, SuspendReinstateTerminate) {
  EXPECT_EQ(*NextMerchantState(MERCHANT_STATE_ACTIVE, MERCHANT_ACTION_SUSPEND),
            MERCHANT_STATE_SUSPENDED);
  EXPECT_EQ(*NextMerchantState(MERCHANT_STATE_SUSPENDED, MERCHANT_ACTION_REINSTATE),
            MERCHANT_STATE_ACTIVE);
  EXPECT_EQ(*NextMerchantState(MERCHANT_STATE_SUSPENDED, MERCHANT_ACTION_TERMINATE),
            MERCHANT_STATE_TERMINATED);
  EXPECT_EQ(NextMerchantState(MERCHANT_STATE_TERMINATED, MERCHANT_ACTION_REINSTATE).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(NextMerchantState(MERCHANT_STATE_ACTIVE, MERCHANT_ACTION_REINSTATE).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace perks::merchant
