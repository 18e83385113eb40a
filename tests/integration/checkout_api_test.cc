// The checkout service over gRPC in perkd, driven by a signed till: the Bozhou program's
// spend-100-save-30 authorized, confirmed and refunded; retries; reversals (late, early, racing a
// confirmation); expiry; bad input.
#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "perks/v1/checkout.grpc.pb.h"
#include "perks/v1/promotion.grpc.pb.h"
#include "services/common/personal.h"
#include "tests/support/bozhou_till_test.h"
#include "tools/common/campaign_file.h"

namespace perks::testing {
namespace {

using perks::v1::Checkout;
using perks::v1::CheckoutService;
using ::testing::HasSubstr;

class CheckoutApiTest : public BozhouTillTest {};

TEST_F(CheckoutApiTest, A100YuanSupermarketPurchaseIsAuthorizedConfirmedAndRefundedPerFunder) {
  Checkout a;
  grpc::Status s = Authorize(1, cards_[0], 10000, &a);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(a.checkout_id(), IdOf(1));
  EXPECT_EQ(a.state(), perks::v1::CHECKOUT_STATE_AUTHORIZED);
  EXPECT_EQ(a.discount_fen(), 3000);
  EXPECT_EQ(a.to_pay_fen(), 7000);
  ASSERT_EQ(a.discounts_size(), 1);
  EXPECT_EQ(a.discounts(0).campaign_id(), "bozhou-supermarket-100-30");
  EXPECT_EQ(a.card_number_masked(), MaskCardNumber(cards_[0]));
  EXPECT_EQ(ReservationOf(a), perks::v1::RESERVATION_STATE_HELD);

  Checkout c;
  ASSERT_TRUE(Confirm(1, &c, "RRN000000001").ok());
  EXPECT_EQ(c.state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
  // Committed, and the promotion side knows which bank payment its discount was given for.
  perks::v1::Reservation committed = ReservationFor(c);
  EXPECT_EQ(committed.state(), perks::v1::RESERVATION_STATE_COMMITTED);
  EXPECT_EQ(committed.reference(), "RRN000000001");
  // A confirmation sent again is answered again; with another bank reference it is refused.
  Checkout again;
  ASSERT_TRUE(Confirm(1, &again, "RRN000000001").ok());
  EXPECT_EQ(again.state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
  EXPECT_EQ(Confirm(1, &again, "RRN000000002").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  // A confirmed purchase is refunded, not reversed.
  s = Reverse(1, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("refunded, not reversed"));

  // 40 of the 100 yuan come back: 12 of the 30 yuan of discount return, 6 to each funder.
  perks::v1::RefundResult r1;
  s = Refund(2, c.checkout_id(), 4000, &r1);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r1.refund().discount_fen(), 1200);
  ASSERT_EQ(r1.refund().funding_size(), 2);
  EXPECT_EQ(r1.refund().funding(0).funder(), perks::v1::FUNDER_BANK);
  EXPECT_EQ(r1.refund().funding(0).amount_fen(), 600);
  EXPECT_EQ(r1.refund().funding(1).funder(), perks::v1::FUNDER_MERCHANT);
  EXPECT_EQ(r1.refund().funding(1).amount_fen(), 600);
  // The same refund again is the same answer, and returns nothing more.
  perks::v1::RefundResult r1_again;
  ASSERT_TRUE(Refund(2, c.checkout_id(), 4000, &r1_again).ok());
  EXPECT_EQ(r1_again.refund().refund_id(), r1.refund().refund_id());
  EXPECT_EQ(r1_again.refund().discount_fen(), 1200);
  EXPECT_EQ(r1_again.checkout().refunded_fen(), 4000);
  // A refund's trace is not reversed, and a purchase's trace is not a refund.
  grpc::Status refused = Reverse(2, &again);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("a refund is not reversed"));
  EXPECT_EQ(Refund(1, c.checkout_id(), 100, &r1_again).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Refund(2, c.checkout_id(), 5000, &r1_again).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  // More than is left is refused and changes nothing.
  auto before = Writes();
  s = Refund(3, c.checkout_id(), 6001, &r1_again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("60.00 yuan of 100.00"));
  EXPECT_EQ(Writes(), before);
  // The rest: every funder has its whole share back.
  perks::v1::RefundResult r2;
  ASSERT_TRUE(Refund(3, c.checkout_id(), 6000, &r2).ok());
  EXPECT_EQ(r2.refund().discount_fen(), 1800);
  EXPECT_EQ(r2.checkout().refunded_discount_fen(), 3000);
  EXPECT_EQ(r2.checkout().refunds_size(), 2);

  // All of it is on disk.
  Restart();
  checkout_ = CheckoutService::NewStub(channel_);
  perks::v1::GetCheckoutRequest get;
  get.set_checkout_id(c.checkout_id());
  Checkout got;
  ASSERT_TRUE(checkout_->GetCheckout(As(bozhou_).get(), get, &got).ok());
  EXPECT_EQ(got.state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
  EXPECT_EQ(got.refunded_fen(), 10000);
}

TEST_F(CheckoutApiTest, TheSameAuthorizationAgainIsTheSameAnswerAndOtherContentIsRefused) {
  Checkout first, second;
  ASSERT_TRUE(Authorize(1, cards_[0], 10000, &first).ok());
  ASSERT_TRUE(Authorize(1, cards_[0], 10000, &second).ok());
  EXPECT_EQ(second.checkout_id(), first.checkout_id());
  EXPECT_EQ(second.reservation_id(), first.reservation_id());
  EXPECT_EQ(second.discount_fen(), 3000);
  auto before = Writes();
  grpc::Status s = Authorize(1, cards_[0], 12000, &second);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(), HasSubstr("new trace number"));
  EXPECT_EQ(Writes(), before);
}

TEST_F(CheckoutApiTest, AReversalBeforeItsAuthorizationIsDoneAndTheLateAuthorizationRefused) {
  Checkout r;
  grpc::Status s = Reverse(7, &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.state(), perks::v1::CHECKOUT_STATE_REVERSED);
  // Sent again: done again.
  ASSERT_TRUE(Reverse(7, &r).ok());
  auto before = Writes();
  s = Authorize(7, cards_[0], 10000, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("reversed before its authorization"));
  EXPECT_EQ(Writes(), before);
}

TEST_F(CheckoutApiTest, AReversalReturnsWhatWasHeldAndTheConfirmationIsThenRefused) {
  Checkout a, r;
  ASSERT_TRUE(Authorize(1, cards_[0], 10000, &a).ok());
  ASSERT_TRUE(Reverse(1, &r).ok());
  EXPECT_EQ(r.state(), perks::v1::CHECKOUT_STATE_REVERSED);
  EXPECT_EQ(ReservationOf(a), perks::v1::RESERVATION_STATE_RELEASED);
  Checkout c;
  grpc::Status s = Confirm(1, &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("void the bank payment"));
  EXPECT_EQ(Reverse(1, &r).error_code(), grpc::StatusCode::OK);  // done already
}

TEST_F(CheckoutApiTest, AConfirmationAfterTheAuthorizationExpiredIsRefusedAndTheHoldReturns) {
  Checkout a;
  ASSERT_TRUE(Authorize(1, cards_[0], 10000, &a).ok());
  ASSERT_GT(a.expires_at_unix_ms(), a.authorized_at_unix_ms());
  // The expiry timer and the confirmation race for it: either way it is expired, and refused.
  clock_.Set(absl::FromUnixMillis(a.expires_at_unix_ms()));
  Checkout c;
  grpc::Status s = UntilAnswered([&] { return Confirm(1, &c); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("expired"));
  perks::v1::GetCheckoutRequest get;
  *get.mutable_trace() = Trace(1);
  ASSERT_TRUE(
      checkout_
          ->GetCheckout(Signed(till_, "/perks.v1.CheckoutService/GetCheckout", get).get(), get, &c)
          .ok());
  EXPECT_EQ(c.state(), perks::v1::CHECKOUT_STATE_EXPIRED);
  perks::v1::ReservationState held = ReservationOf(a);
  EXPECT_TRUE(held == perks::v1::RESERVATION_STATE_RELEASED ||
              held == perks::v1::RESERVATION_STATE_EXPIRED)
      << perks::v1::ReservationState_Name(held);
}

TEST_F(CheckoutApiTest, OfAConfirmationAndAReversalRacingExactlyOneWins) {
  constexpr int kCheckouts = 16;
  std::vector<Checkout> authorized(kCheckouts);
  for (int i = 0; i < kCheckouts; ++i) {
    ASSERT_TRUE(Authorize(i + 1, cards_[i % cards_.size()], 10000 + i, &authorized[i]).ok());
  }
  // Each side sends until it has an answer that is not "under way, send again".
  std::vector<grpc::Status> confirmed(kCheckouts), reversed(kCheckouts);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCheckouts; ++i) {
    threads.emplace_back([&, i] {
      Checkout out;
      confirmed[i] = UntilAnswered([&] { return Confirm(i + 1, &out); });
    });
    threads.emplace_back([&, i] {
      Checkout out;
      reversed[i] = UntilAnswered([&] { return Reverse(i + 1, &out); });
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kCheckouts; ++i) {
    SCOPED_TRACE(i);
    ASSERT_NE(confirmed[i].ok(), reversed[i].ok())
        << confirmed[i].error_message() << " / " << reversed[i].error_message();
    EXPECT_EQ(ReservationOf(authorized[i]), confirmed[i].ok()
                                                ? perks::v1::RESERVATION_STATE_COMMITTED
                                                : perks::v1::RESERVATION_STATE_RELEASED);
  }
  // The ledger agrees: one entry per winning confirmation that had a discount.
  int64_t discounted = 0;
  for (int i = 0; i < kCheckouts; ++i) {
    if (confirmed[i].ok() && authorized[i].discount_fen() > 0) ++discounted;
  }
  EXPECT_EQ(Ledger().entries(), discounted);
}

// A confirmation writes nothing before its commit: a process that ends after the promotion
// service committed, and before the confirmation was written, leaves the checkout AUTHORIZED with
// its reservation committed. Here the till's own Commit stands in for that. A reversal, a retried
// confirmation and an expiry each find the commit and end the checkout CONFIRMED, with the bank
// reference the commit kept; nothing is given back, and the ledger holds each discount once.
TEST_F(CheckoutApiTest, ACommitNeverWrittenDownEndsTheCheckoutConfirmedWhoeverFindsIt) {
  std::vector<Checkout> a(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Authorize(i + 1, cards_[i], 10000, &a[i]).ok());
    ASSERT_EQ(a[i].discount_fen(), 3000);
    perks::v1::CommitRequest commit;
    commit.set_request_id(absl::StrCat("checkout/", IdOf(i + 1), "/commit"));
    commit.set_reservation_id(a[i].reservation_id());
    commit.set_reference(absl::StrCat("RRN00000000", i + 1));
    perks::v1::Reservation r;
    grpc::Status s = promo_->Commit(
        Signed(till_, "/perks.v1.PromotionService/Commit", commit).get(), commit, &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  auto get = [&](int trace) {
    perks::v1::GetCheckoutRequest req;
    *req.mutable_trace() = Trace(trace);
    Checkout c;
    grpc::Status s = checkout_->GetCheckout(
        Signed(till_, "/perks.v1.CheckoutService/GetCheckout", req).get(), req, &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return c;
  };

  // The reversal, five minutes later, is refused: the purchase is confirmed, as of its commit.
  const absl::Time committed_at = clock_.Now();
  clock_.Set(committed_at + absl::Minutes(5));
  Checkout out;
  grpc::Status s = Reverse(1, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("refunded, not reversed"));
  Checkout c = get(1);
  EXPECT_EQ(c.state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
  EXPECT_EQ(c.bank_reference(), "RRN000000001");
  EXPECT_EQ(c.reason(), "");
  EXPECT_EQ(c.settled_at_unix_ms(), absl::ToUnixMillis(committed_at));

  // A confirmation with another bank reference is told which one the purchase was confirmed with.
  s = Confirm(2, &out, "RRN000000009");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("RRN000000002"));
  EXPECT_EQ(get(2).state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
  ASSERT_TRUE(Confirm(2, &out, "RRN000000002").ok());
  EXPECT_EQ(out.bank_reference(), "RRN000000002");

  // Past its expiry (the timer or the confirmation finds it first): confirmed all the same.
  clock_.Set(absl::FromUnixMillis(a[2].expires_at_unix_ms()));
  s = UntilAnswered([&] { return Confirm(3, &out); });
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
  EXPECT_EQ(out.bank_reference(), "RRN000000003");
  EXPECT_EQ(out.settled_at_unix_ms(), absl::ToUnixMillis(committed_at));

  for (const Checkout& held : a) {
    EXPECT_EQ(ReservationOf(held), perks::v1::RESERVATION_STATE_COMMITTED);
  }
  EXPECT_EQ(Ledger().entries(), 3);
}

// A step left in the middle (here: the promotion service was not there to answer) is finished by
// the next start, or by the till's retry, with the same request ids: nothing happens twice.
TEST_F(CheckoutApiTest, AStepLeftInTheMiddleIsFinishedAfterARestart) {
  const std::vector<std::string> all = options_.services;
  RestartWith({"auth", "card", "merchant", "checkout"});
  Checkout out;
  grpc::Status s = Authorize(1, cards_[0], 10000, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("send the same authorization again"));

  RestartWith(all);
  Checkout a;
  s = UntilAnswered([&] { return Authorize(1, cards_[0], 10000, &a); });
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(a.state(), perks::v1::CHECKOUT_STATE_AUTHORIZED);
  EXPECT_EQ(a.discount_fen(), 3000);
  EXPECT_EQ(ReservationOf(a), perks::v1::RESERVATION_STATE_HELD);

  // The commit cannot be made, and nothing is written: the till's retry after the restart
  // makes it.
  RestartWith({"auth", "card", "merchant", "checkout"});
  s = Confirm(1, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  RestartWith(all);
  Checkout c;
  s = UntilAnswered([&] { return Confirm(1, &c); });
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(c.state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
  EXPECT_EQ(c.reservation_id(), a.reservation_id());
  EXPECT_EQ(ReservationOf(c), perks::v1::RESERVATION_STATE_COMMITTED);
}

TEST_F(CheckoutApiTest, BadCheckoutsAreRefusedClearlyAndChangeNothing) {
  SetCardState(cards_[1], perks::v1::CARD_ACTION_FREEZE);
  std::vector<std::string> anqing = IssueMemberCards("anqing", 1, admin_token_, "anqing-green");
  auto before = Writes();
  Checkout out;
  struct Case {
    int trace;
    std::string card;
    int64_t amount_fen;
    grpc::StatusCode code;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {1, cards_[0], -100, grpc::StatusCode::INVALID_ARGUMENT, "amount_fen must be 1 to"},
           {1, cards_[0], 0, grpc::StatusCode::INVALID_ARGUMENT, "amount_fen"},
           {1, cards_[0], 10'000'001, grpc::StatusCode::INVALID_ARGUMENT, "100000.00 yuan"},
           {1, WithCheckDigit("621700000000000000"), 10000, grpc::StatusCode::NOT_FOUND, "card"},
           {1, anqing[0], 10000, grpc::StatusCode::NOT_FOUND, "no such card in bozhou"},
           {1, cards_[1], 10000, grpc::StatusCode::FAILED_PRECONDITION, "frozen"},
       }) {
    SCOPED_TRACE(c.says);
    grpc::Status s = Authorize(c.trace, c.card, c.amount_fen, &out);
    EXPECT_EQ(s.error_code(), c.code) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(c.says));
    EXPECT_EQ(s.error_message().find(c.card), std::string::npos) << "the card number is shown";
  }
  // A malformed trace or date.
  perks::v1::AuthorizeRequest req;
  req.mutable_trace()->set_trace("12ab");
  req.mutable_trace()->set_date("20261205");
  req.mutable_card()->set_card_number(cards_[0]);
  req.set_amount_fen(10000);
  grpc::Status s = checkout_->Authorize(
      Signed(till_, "/perks.v1.CheckoutService/Authorize", req).get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("trace"));
  req.mutable_trace()->set_trace("1");
  req.mutable_trace()->set_date("20261341");
  s = checkout_->Authorize(Signed(till_, "/perks.v1.CheckoutService/Authorize", req).get(), req,
                           &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("YYYYMMDD"));
  // Confirming what was never authorized.
  EXPECT_EQ(Confirm(99, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Writes(), before);
  // A person's token is not a till.
  s = checkout_->Authorize(As(bozhou_).get(), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// The till's merchant is read once per cache period (the gate's, as for a revoked terminal): a
// suspended merchant's tills are refused once it has passed, and served again once reinstated.
TEST_F(CheckoutApiTest, ASuspendedMerchantsTillsAreRefusedOnceTheCachePeriodHasPassed) {
  Checkout out;
  ASSERT_TRUE(Authorize(1, cards_[0], 10000, &out).ok());
  ASSERT_TRUE(Confirm(1, &out).ok());
  perks::v1::ChangeMerchantStateRequest change;
  change.set_request_id("suspend-shop");
  change.set_merchant_id(shop_.merchant_id());
  change.set_action(perks::v1::MERCHANT_ACTION_SUSPEND);
  perks::v1::Merchant m;
  ASSERT_TRUE(merchant_->ChangeMerchantState(As(bozhou_).get(), change, &m).ok());
  ASSERT_EQ(m.state(), perks::v1::MERCHANT_STATE_SUSPENDED);
  clock_.Advance(absl::Seconds(6));
  auto before = Writes();
  grpc::Status s = Authorize(2, cards_[0], 10000, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("is suspended"));
  EXPECT_THAT(s.error_message(), HasSubstr(shop_.merchant_id()));
  EXPECT_EQ(Writes(), before);
  change.set_request_id("reinstate-shop");
  change.set_action(perks::v1::MERCHANT_ACTION_REINSTATE);
  ASSERT_TRUE(merchant_->ChangeMerchantState(As(bozhou_).get(), change, &m).ok());
  clock_.Advance(absl::Seconds(6));
  EXPECT_TRUE(Authorize(3, cards_[0], 10000, &out).ok());
}

// 64 tills of 64 shops at once, each asking for a discount from a bank budget that has room for
// ten: exactly ten are granted, to the fen, and every till gets an answer.
class CheckoutBudgetTest : public BozhouTillTest {
 protected:
  CheckoutBudgetTest() { card_count_ = 64; }
};

TEST_F(CheckoutBudgetTest, SixtyFourTillsAgainstABudgetForTenGetExactlyTen) {
  constexpr int kTills = 64;
  constexpr int64_t kOffFen = 4000, kBudgetFen = 10 * kOffFen;
  const std::string file = dir_.path() + "/budget.yaml";
  {
    std::ofstream out(file);
    out << "campaigns:\n"
           "  - campaign_id: bozhou-budget-ten\n"
           "    tenant_id: bozhou\n"
           "    title: 超市满100减40 (ten of them)\n"
           "    starts_at: 2026-12-01T00:00:00+08:00\n"
           "    ends_at: 2027-01-01T00:00:00+08:00\n"
           "    threshold: {min_fen: 10000, off_fen: "
        << kOffFen
        << "}\n"
           "    eligibility: {program_ids: [bozhou-member], categories: [supermarket]}\n"
           "    funding:\n"
           "      - {funder: FUNDER_BANK, share_bp: 10000, budget_fen: "
        << kBudgetFen
        << "}\n"
           "    stacking: {group: bozhou-offers}\n";
  }
  auto spec = tools::ReadCampaignFile(file);
  ASSERT_TRUE(spec.ok()) << spec.status();
  Publish(spec->campaigns(0));
  std::vector<tools::TerminalCredentials> tills;
  for (int i = 0; i < kTills; ++i)
    tills.push_back(AddTerminal(shop_.stores(0).store_id(), bozhou_));

  std::vector<grpc::Status> answers(kTills);
  std::vector<Checkout> confirmed(kTills);
  std::vector<std::thread> threads;
  for (int i = 0; i < kTills; ++i) {
    threads.emplace_back([&, i] {
      perks::v1::AuthorizeRequest auth;
      auth.mutable_trace()->set_trace("1");
      auth.mutable_trace()->set_date("20261205");
      auth.mutable_card()->set_card_number(cards_[i]);
      auth.set_amount_fen(10000);
      Checkout held;
      answers[i] = checkout_->Authorize(
          Signed(tills[i], "/perks.v1.CheckoutService/Authorize", auth).get(), auth, &held);
      if (!answers[i].ok()) return;
      perks::v1::ConfirmRequest confirm;
      *confirm.mutable_trace() = auth.trace();
      answers[i] =
          checkout_->Confirm(Signed(tills[i], "/perks.v1.CheckoutService/Confirm", confirm).get(),
                             confirm, &confirmed[i]);
    });
  }
  for (auto& t : threads) t.join();
  int64_t granted_fen = 0;
  int granted = 0;
  for (int i = 0; i < kTills; ++i) {
    ASSERT_TRUE(answers[i].ok()) << answers[i].error_message();
    for (const auto& d : confirmed[i].discounts()) {
      if (d.campaign_id() != "bozhou-budget-ten") continue;
      granted_fen += d.amount_fen();
      ++granted;
    }
  }
  EXPECT_EQ(granted, 10);
  EXPECT_EQ(granted_fen, kBudgetFen);
  perks::v1::GetBudgetsRequest req;
  req.set_campaign_id("bozhou-budget-ten");
  perks::v1::CampaignBudgets budgets;
  ASSERT_TRUE(promo_->GetBudgets(As(bozhou_).get(), req, &budgets).ok());
  for (const auto& use : budgets.budgets()) {
    if (use.name() == "bank") {
      EXPECT_EQ(use.used(), kBudgetFen);
    }
  }
  EXPECT_EQ(Ledger().entries(), kTills);  // each purchase got a discount: ten of these, or another
}

}  // namespace
}  // namespace perks::testing
