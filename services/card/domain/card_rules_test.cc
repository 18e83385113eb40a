#include "services/card/domain/card_rules.h"

#include <limits>
#include <random>
#include <set>

#include "gtest/gtest.h"
#include "services/common/money.h"
#include "services/common/personal.h"

namespace perks::card {
namespace {

using namespace perks::v1;

MemberRow Row(std::string id) {
  MemberRow r;
  r.set_line(2);
  r.set_name(" 王伟 ");
  r.set_id_number(std::move(id));
  r.set_phone("13812345678");
  r.set_org_code("AH-BZ-001");
  r.add_tags("Model_Worker");
  r.add_tags("model_worker");
  r.add_tags("needy_household");
  return r;
}

TEST(MemberRowTest, NormalizesAndMasks) {
  auto m = ValidateMemberRow(Row("11010519491231002x"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->name, "王伟");
  EXPECT_EQ(m->id_number, "11010519491231002X");
  EXPECT_EQ(m->phone_masked, "138****5678");
  EXPECT_EQ(m->tags, (std::vector<std::string>{"model_worker", "needy_household"}));
}

TEST(MemberRowTest, RejectsWrongCheckDigitBadPhoneAndMissingFields) {
  EXPECT_NE(ValidateMemberRow(Row("110105194912310021")).status().message().find("check"),
            std::string::npos);
  MemberRow r = Row("11010519491231002X");
  r.set_phone("12345");
  EXPECT_EQ(ValidateMemberRow(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Row("11010519491231002X");
  r.set_name("  ");
  EXPECT_EQ(ValidateMemberRow(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Row("11010519491231002X");
  r.set_org_code("");
  EXPECT_EQ(ValidateMemberRow(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Row("11010519491231002X");
  r.add_tags("bad tag!");
  EXPECT_EQ(ValidateMemberRow(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProgramTest, BinAndLengthAreChecked) {
  Program p;
  p.set_program_id("bozhou-member");
  p.set_name("亳州工会会员卡");
  p.set_bin_prefix("623668");
  p.set_card_number_length(19);
  EXPECT_EQ(ValidateProgram(p).code(), absl::StatusCode::kInvalidArgument);  // no city
  p.set_tenant_id("bozhou");
  EXPECT_TRUE(ValidateProgram(p).ok());
  p.set_bin_prefix("62a668");
  EXPECT_FALSE(ValidateProgram(p).ok());
  p.set_bin_prefix("6236681234");
  p.set_card_number_length(16);
  EXPECT_FALSE(ValidateProgram(p).ok());  // leaves only 5 random digits
  p.set_card_number_length(20);
  EXPECT_FALSE(ValidateProgram(p).ok());
}

TEST(CardNumberTest, NewNumbersCarryPrefixLengthAndLuhn) {
  std::mt19937_64 rng(1);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string n = NewCardNumber("623668", 19, rng);
    ASSERT_EQ(n.size(), 19u);
    ASSERT_EQ(n.substr(0, 6), "623668");
    ASSERT_TRUE(LuhnValid(n)) << n;
    ASSERT_TRUE(ValidateCardNumber(n).ok());
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 1000u);
  std::string typo = *seen.begin();
  typo.back() = typo.back() == '9' ? '0' : static_cast<char>(typo.back() + 1);
  EXPECT_NE(ValidateCardNumber(typo).message().find("check digit"), std::string::npos);
  EXPECT_EQ(ValidateCardNumber("12ab").code(), absl::StatusCode::kInvalidArgument);
}

TEST(LifecycleTest, AllowedTransitions) {
  EXPECT_EQ(*NextState(CARD_STATE_ISSUED, CARD_ACTION_ACTIVATE), CARD_STATE_ACTIVE);
  EXPECT_EQ(*NextState(CARD_STATE_ACTIVE, CARD_ACTION_FREEZE), CARD_STATE_FROZEN);
  EXPECT_EQ(*NextState(CARD_STATE_FROZEN, CARD_ACTION_UNFREEZE), CARD_STATE_ACTIVE);
  EXPECT_EQ(*NextState(CARD_STATE_FROZEN, CARD_ACTION_REPORT_LOST), CARD_STATE_LOST);
  EXPECT_EQ(*NextState(CARD_STATE_LOST, CARD_ACTION_CLOSE), CARD_STATE_CLOSED);
}

TEST(LifecycleTest, EveryOtherTransitionIsRefusedWithAReason) {
  const CardState states[] = {CARD_STATE_ISSUED, CARD_STATE_ACTIVE,   CARD_STATE_FROZEN,
                              CARD_STATE_LOST,   CARD_STATE_REPLACED, CARD_STATE_CLOSED};
  const CardAction actions[] = {CARD_ACTION_ACTIVATE, CARD_ACTION_FREEZE, CARD_ACTION_UNFREEZE,
                                CARD_ACTION_REPORT_LOST, CARD_ACTION_CLOSE};
  int allowed = 0;
  for (CardState s : states) {
    for (CardAction a : actions) {
      auto next = NextState(s, a);
      if (next.ok()) {
        ++allowed;
        continue;
      }
      EXPECT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_NE(next.status().message().find("card is"), std::string::npos);
    }
  }
  EXPECT_EQ(allowed, 11);
  EXPECT_EQ(*NextState(CARD_STATE_REPLACED, CARD_ACTION_CLOSE), CARD_STATE_CLOSED);
  EXPECT_FALSE(NextState(CARD_STATE_REPLACED, CARD_ACTION_ACTIVATE).ok());
  EXPECT_FALSE(NextState(CARD_STATE_CLOSED, CARD_ACTION_CLOSE).ok());
  EXPECT_EQ(NextState(CARD_STATE_ACTIVE, CARD_ACTION_UNSPECIFIED).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CanReplace(CARD_STATE_LOST).ok());
  EXPECT_FALSE(CanReplace(CARD_STATE_ISSUED).ok());
  EXPECT_FALSE(CanReplace(CARD_STATE_CLOSED).ok());
}

CreditBalanceRequest Credit(int64_t fen) {
  CreditBalanceRequest r;
  r.set_balance_name("transit");
  r.set_kind(BALANCE_KIND_TRANSIT_CREDIT);
  r.set_amount_fen(fen);
  return r;
}

TEST(BalanceTest, CreditValidatesAmounts) {
  EXPECT_TRUE(ValidateCredit(Credit(3000)).ok());
  EXPECT_EQ(ValidateCredit(Credit(0)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateCredit(Credit(-1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateCredit(Credit(std::numeric_limits<int64_t>::max())).code(),
            absl::StatusCode::kInvalidArgument);
  CreditBalanceRequest r = Credit(100);
  r.add_allowed_categories("fuel");
  EXPECT_EQ(ValidateCredit(r).code(), absl::StatusCode::kInvalidArgument);  // not a voucher
}

TEST(BalanceTest, CreditsAddUpAndRefuseToOverflowTheCap) {
  auto first = ApplyCredit(CARD_STATE_ACTIVE, nullptr, Credit(3000));
  ASSERT_TRUE(first.ok());
  auto second = ApplyCredit(CARD_STATE_ACTIVE, &*first, Credit(500));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->amount_fen(), 3500);
  Balance near_cap = *second;
  near_cap.set_amount_fen(kAmountFenMax);
  EXPECT_EQ(ApplyCredit(CARD_STATE_ACTIVE, &near_cap, Credit(1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApplyCredit(CARD_STATE_LOST, &*first, Credit(1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(BalanceTest, DebitNeverGoesBelowZero) {
  Balance b;
  b.set_name("transit");
  b.set_kind(BALANCE_KIND_TRANSIT_CREDIT);
  b.set_amount_fen(100);
  DebitBalanceRequest d;
  d.set_balance_name("transit");
  d.set_amount_fen(101);
  EXPECT_EQ(ApplyDebit(CARD_STATE_ACTIVE, &b, d, 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  d.set_amount_fen(100);
  EXPECT_EQ(ApplyDebit(CARD_STATE_ACTIVE, &b, d, 0)->amount_fen(), 0);
  EXPECT_EQ(ApplyDebit(CARD_STATE_FROZEN, &b, d, 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApplyDebit(CARD_STATE_ACTIVE, nullptr, d, 0).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(BalanceTest, VoucherHonoursCategoryAndExpiry) {
  Balance v;
  v.set_name("warm-heart");
  v.set_kind(BALANCE_KIND_VOUCHER);
  v.set_amount_fen(55000);
  v.add_allowed_categories("farm_produce");
  v.set_expires_at_unix_ms(1'000'000);
  DebitBalanceRequest d;
  d.set_balance_name("warm-heart");
  d.set_amount_fen(1000);
  d.set_merchant_category("dining");
  EXPECT_NE(ApplyDebit(CARD_STATE_ACTIVE, &v, d, 0).status().message().find("farm_produce"),
            std::string::npos);
  d.set_merchant_category("farm_produce");
  EXPECT_EQ(ApplyDebit(CARD_STATE_ACTIVE, &v, d, 999'999)->amount_fen(), 54000);
  EXPECT_NE(ApplyDebit(CARD_STATE_ACTIVE, &v, d, 1'000'000).status().message().find("expired"),
            std::string::npos);
}

}  // namespace
}  // namespace perks::card
