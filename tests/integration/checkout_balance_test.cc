// Paying from a card's balance at the till: the Fuyang warm-heart voucher (500 yuan the union
// funds, spendable on farm produce, which the merchant tops up by 10%) taken at Authorize, owed
// to the merchant by the union once confirmed, given back by a reversal, an expiry or a refund,
// and never spent twice by tills racing for it.
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/settlement.grpc.pb.h"
#include "tests/support/bozhou_till_test.h"
#include "tools/common/campaign_file.h"
#include "tools/common/merchant_csv.h"

namespace perks::testing {
namespace {

using perks::v1::Checkout;
using ::testing::HasSubstr;

constexpr char kVoucher[] = "warm-heart-2026";

class CheckoutBalanceTest : public BozhouTillTest {
 protected:
  void SetUp() override {
    BozhouTillTest::SetUp();
    fuyang_ = TokenFor(perks::v1::ROLE_UNION_ADMIN, "fuyang", "", "阜阳市总工会 张科长");
    auto program =
        tools::ReadCampaignFile(std::string(PERKS_EXAMPLES_DIR) + "/fuyang-warm-heart.yaml");
    ASSERT_TRUE(program.ok()) << program.status();
    for (const auto& spec : program->campaigns()) Publish(spec, fuyang_);
    // A farm-produce shop in Fuyang with one till: the till the helpers sign as.
    perks::v1::MerchantProfile profile = tools::SyntheticMerchant(7, "fuyang");
    profile.set_category("farm_produce");
    auto farm = tools::Seeder(channel_, fuyang_, NextRequestId("seed")).Onboard(profile);
    ASSERT_TRUE(farm.ok()) << farm.status();
    farm_ = *farm;
    till_ = AddTerminal(farm_.stores(0).store_id(), fuyang_);
    needy_ = IssueMemberCards("fuyang", 2, fuyang_, "fuyang-member", {"needy_household"});
    for (size_t i = 0; i < needy_.size(); ++i) {
      SetCardState(needy_[i], perks::v1::CARD_ACTION_ACTIVATE, fuyang_);
      perks::v1::GrantRequest grant;
      grant.set_request_id(absl::StrCat("voucher-", i));
      grant.set_event(perks::v1::GRANT_EVENT_ISSUE_BATCH);
      grant.mutable_card()->set_card_number(needy_[i]);
      grant.set_campaign_id("fuyang-warm-heart-2026");
      perks::v1::GrantResult granted;
      grpc::Status s = promo_->Grant(As(fuyang_).get(), grant, &granted);
      ASSERT_TRUE(s.ok()) << s.error_message();
      ASSERT_EQ(granted.grants_size(), 1);
    }
    ASSERT_EQ(VoucherOf(needy_[0]), 50000);
  }

  // What the card's voucher holds once every return so far has been credited.
  int64_t VoucherOf(const std::string& number) {
    EXPECT_TRUE(server_->WaitSettled(absl::Seconds(30)));
    return BalanceOf(number, kVoucher, fuyang_);
  }

  // Each Fuyang ledger account's balance, once everything so far is settled.
  std::map<std::string, int64_t> Balances() {
    EXPECT_TRUE(Ledger("fuyang").balanced());
    auto stub = perks::v1::SettlementService::NewStub(channel_);
    perks::v1::GetBalancesRequest req;
    req.set_tenant_id("fuyang");
    perks::v1::GetBalancesResponse resp;
    grpc::Status s = stub->GetBalances(As(fuyang_).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::map<std::string, int64_t> out;
    for (const auto& b : resp.balances()) out[b.account()] = b.balance_fen();
    return out;
  }
  std::string MerchantAccount(const std::string& funder) const {
    return absl::StrCat("merchant/fuyang/", farm_.merchant_id(), "/", funder);
  }

  std::string fuyang_;
  perks::v1::Merchant farm_;
  std::vector<std::string> needy_;
};

TEST_F(CheckoutBalanceTest,
       TheVoucherAndTheMerchantsTenPercentPay550YuanAndTheUnionOwesTheVoucher) {
  Checkout a;
  grpc::Status s = Authorize(1, needy_[0], 55000, &a);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(a.state(), perks::v1::CHECKOUT_STATE_AUTHORIZED);
  EXPECT_EQ(a.from_balances_fen(), 50000);
  EXPECT_EQ(a.discount_fen(), 5000);  // the merchant's top-up
  EXPECT_EQ(a.to_pay_fen(), 0);
  ASSERT_EQ(a.discounts_size(), 1);
  EXPECT_EQ(a.discounts(0).balance_name(), kVoucher);
  ASSERT_EQ(a.discounts(0).balance_funding_size(), 1);
  EXPECT_EQ(a.discounts(0).balance_funding(0).funder(), perks::v1::FUNDER_UNION);
  // Taken from the card when authorized, so no other till can spend it meanwhile.
  EXPECT_EQ(VoucherOf(needy_[0]), 0);
  // The same authorization again is the same answer.
  Checkout again;
  ASSERT_TRUE(Authorize(1, needy_[0], 55000, &again).ok());
  EXPECT_EQ(again.from_balances_fen(), 50000);

  Checkout c;
  ASSERT_TRUE(Confirm(1, &c).ok());
  EXPECT_EQ(c.state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
  std::map<std::string, int64_t> ledger = Balances();
  EXPECT_EQ(ledger["funder/fuyang/UNION"], 50000);  // the union owes the voucher part
  EXPECT_EQ(ledger[MerchantAccount("UNION")], -50000);
  EXPECT_EQ(ledger["funder/fuyang/MERCHANT"], 5000);  // and the merchant its own top-up
  EXPECT_EQ(VoucherOf(needy_[0]), 0);
}

TEST_F(CheckoutBalanceTest, AReversalGivesTheVoucherBackAndNobodyOwesAnything) {
  Checkout a;
  ASSERT_TRUE(Authorize(1, needy_[0], 30000, &a).ok());
  EXPECT_EQ(a.from_balances_fen(), 27273);  // the least that, with 10% on top, covers 300 yuan
  EXPECT_EQ(a.to_pay_fen(), 0);
  EXPECT_EQ(VoucherOf(needy_[0]), 50000 - 27273);
  // The same authorization again is the same answer, and takes nothing more from what is left.
  Checkout again;
  ASSERT_TRUE(Authorize(1, needy_[0], 30000, &again).ok());
  EXPECT_EQ(again.from_balances_fen(), 27273);
  EXPECT_EQ(VoucherOf(needy_[0]), 50000 - 27273);
  Checkout r;
  ASSERT_TRUE(UntilAnswered([&] { return Reverse(1, &r); }).ok());
  EXPECT_EQ(r.state(), perks::v1::CHECKOUT_STATE_REVERSED);
  EXPECT_EQ(VoucherOf(needy_[0]), 50000);
  // Reversed again: the same answer, and nothing given back twice.
  ASSERT_TRUE(UntilAnswered([&] { return Reverse(1, &r); }).ok());
  EXPECT_EQ(VoucherOf(needy_[0]), 50000);
  std::map<std::string, int64_t> ledger = Balances();
  EXPECT_EQ(ledger["funder/fuyang/UNION"], 0);
}

TEST_F(CheckoutBalanceTest, AnExpiredAuthorizationGivesTheVoucherBack) {
  Checkout a;
  ASSERT_TRUE(Authorize(1, needy_[0], 55000, &a).ok());
  EXPECT_EQ(VoucherOf(needy_[0]), 0);
  clock_.Set(absl::FromUnixMillis(a.expires_at_unix_ms()));
  Checkout c;
  grpc::Status s = UntilAnswered([&] { return Confirm(1, &c); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("expired"));
  EXPECT_EQ(VoucherOf(needy_[0]), 50000);
}

TEST_F(CheckoutBalanceTest, ARefundGivesItsPartBackToTheVoucherAndToTheUnion) {
  Checkout c;
  ASSERT_TRUE(Authorize(1, needy_[0], 55000, &c).ok());
  ASSERT_TRUE(Confirm(1, &c).ok());
  // A fifth of the goods come back: 100 yuan to the voucher, 10 yuan of top-up to the merchant.
  perks::v1::RefundResult r;
  grpc::Status s = Refund(2, c.checkout_id(), 11000, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.refund().discount_fen(), 1000);
  ASSERT_EQ(r.refund().to_balances_size(), 1);
  EXPECT_EQ(r.refund().to_balances(0).balance_name(), kVoucher);
  EXPECT_EQ(r.refund().to_balances(0).amount_fen(), 10000);
  ASSERT_EQ(r.refund().balance_funding_size(), 1);
  EXPECT_EQ(r.refund().balance_funding(0).amount_fen(), 10000);
  EXPECT_EQ(VoucherOf(needy_[0]), 10000);
  // The same refund again gives back nothing more.
  perks::v1::RefundResult again;
  ASSERT_TRUE(Refund(2, c.checkout_id(), 11000, &again).ok());
  EXPECT_EQ(VoucherOf(needy_[0]), 10000);
  std::map<std::string, int64_t> ledger = Balances();
  EXPECT_EQ(ledger["funder/fuyang/UNION"], 40000);
  EXPECT_EQ(ledger["funder/fuyang/MERCHANT"], 4000);
  // The rest comes back: the whole voucher is the member's again, and nobody owes anything.
  ASSERT_TRUE(Refund(3, c.checkout_id(), 44000, &r).ok());
  EXPECT_EQ(VoucherOf(needy_[0]), 50000);
  ledger = Balances();
  EXPECT_EQ(ledger["funder/fuyang/UNION"], 0);
  EXPECT_EQ(ledger["funder/fuyang/MERCHANT"], 0);
}

TEST_F(CheckoutBalanceTest, TillsRacingForOneVoucherNeverSpendMoreThanItHolds) {
  // Eight tills' worth of 300-yuan baskets at once on one 500-yuan voucher: each either sees
  // what is left, or is refused because another took it first.
  constexpr int kBaskets = 8;
  std::vector<Checkout> answers(kBaskets);
  std::vector<grpc::Status> statuses(kBaskets);
  std::vector<std::thread> tills;
  for (int i = 0; i < kBaskets; ++i) {
    tills.emplace_back([&, i] {
      statuses[i] = UntilAnswered([&] { return Authorize(10 + i, needy_[1], 30000, &answers[i]); });
    });
  }
  for (std::thread& t : tills) t.join();
  int64_t taken = 0;
  for (int i = 0; i < kBaskets; ++i) {
    if (statuses[i].ok()) {
      taken += answers[i].from_balances_fen();
      EXPECT_EQ(
          answers[i].amount_fen(),
          answers[i].discount_fen() + answers[i].from_balances_fen() + answers[i].to_pay_fen());
      continue;
    }
    EXPECT_EQ(statuses[i].error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << statuses[i].error_message();
    EXPECT_THAT(statuses[i].error_message(), HasSubstr("no longer covers"));
    // A refused authorization stays refused, and holds nothing.
    Checkout retry;
    grpc::Status again = UntilAnswered([&] { return Authorize(10 + i, needy_[1], 30000, &retry); });
    EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  }
  EXPECT_LE(taken, 50000);
  EXPECT_EQ(VoucherOf(needy_[1]), 50000 - taken);
}

TEST_F(CheckoutBalanceTest, AVoucherIsNotSpentAtAMerchantOfAnotherCategory) {
  // The Bozhou supermarket's till: a Fuyang card is not even known there; a Fuyang supermarket
  // would not take the voucher either, since the voucher is for farm produce only.
  perks::v1::MerchantProfile profile = tools::SyntheticMerchant(8, "fuyang");
  ASSERT_NE(profile.category(), "farm_produce");
  auto shop = tools::Seeder(channel_, fuyang_, NextRequestId("seed")).Onboard(profile);
  ASSERT_TRUE(shop.ok()) << shop.status();
  till_ = AddTerminal(shop->stores(0).store_id(), fuyang_);
  Checkout a;
  grpc::Status s = Authorize(1, needy_[0], 20000, &a);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(a.from_balances_fen(), 0);
  EXPECT_EQ(a.to_pay_fen(), 20000);
  EXPECT_EQ(VoucherOf(needy_[0]), 50000);
}

}  // namespace
}  // namespace perks::testing
