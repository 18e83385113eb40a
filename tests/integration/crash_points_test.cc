// Crash points: perkd ends, as a crash, at each step of an authorization, a confirmation, a
// reversal, a refund and a day's close (its --crash-at hook), with and without a card balance
// paying part of the basket; restarted, the till sends the same request again and it is finished,
// once. A confirmation whose commit was made before the crash ends confirmed even when the till
// sends a reversal instead. At the end the ledger holds each confirmed discount and refund exactly
// once, every close finished, and each card's balance holds what its checkouts left it, to the fen.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/settlement.grpc.pb.h"
#include "services/gate/gate.h"
#include "storage/test_dir.h"
#include "tests/support/bozhou_till_test.h"
#include "tests/support/child_server.h"
#include "tests/support/till_client.h"

namespace perks::testing {
namespace {

constexpr int kCrashExit = 86;  // what perkd's --crash-at ends with

enum class Op { kAuthorize, kConfirm, kReverse, kRefund };

struct Case {
  std::string step;
  Op op;
  bool voucher = false;        // the card holds a voucher that pays part of the basket
  bool reverse_after = false;  // after the restart, the till reverses rather than retries
};

constexpr char kVoucher[] = "test-voucher";
constexpr int64_t kVoucherFen = 5000;

class CrashPointsTest : public BozhouTillTest {
 protected:
  CrashPointsTest() { card_count_ = 14; }

  // A voucher the union funds, spendable at supermarkets, on cards_[first...].
  void GiveVouchers(size_t first) {
    perks::v1::CampaignSpec spec;
    spec.set_campaign_id("bozhou-test-voucher");
    spec.set_tenant_id("bozhou");
    spec.set_title("test voucher");
    *spec.mutable_starts_at() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(0);
    spec.mutable_balance_payment()->set_balance_name(kVoucher);
    auto* owed = spec.mutable_balance_payment()->add_balance_funding();
    owed->set_funder(perks::v1::FUNDER_UNION);
    owed->set_share_bp(10000);
    spec.mutable_eligibility()->add_categories("supermarket");
    auto* topup = spec.add_funding();
    topup->set_funder(perks::v1::FUNDER_MERCHANT);
    topup->set_share_bp(10000);
    Publish(spec);
    for (size_t i = first; i < cards_.size(); ++i) {
      perks::v1::CreditBalanceRequest credit;
      credit.set_request_id(NextRequestId("voucher"));
      credit.mutable_card()->set_card_number(cards_[i]);
      credit.set_balance_name(kVoucher);
      credit.set_kind(perks::v1::BALANCE_KIND_VOUCHER);
      credit.set_amount_fen(kVoucherFen);
      credit.add_allowed_categories("supermarket");
      perks::v1::BalanceChange change;
      grpc::Status s = card_->CreditBalance(As(bozhou_).get(), credit, &change);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }

  ChildServer StartChild(std::vector<std::string> args = {}) {
    auto child = ChildServer::Start(PERKD_PATH, dir_.path(), logs_.path() + "/perkd.log", args);
    EXPECT_TRUE(child.ok()) << child.status();
    return std::move(*child);
  }

  // Posts a confirmed 30-yuan bank-funded discount that happened at `at`, as the checkout
  // service would.
  void PostEvent(const std::string& address, const std::string& id, absl::Time at) {
    perks::v1::PostRequest post;
    perks::v1::SettlementEvent* e = post.add_events();
    e->set_event_id("confirm/" + id);
    e->set_kind(perks::v1::SETTLEMENT_EVENT_CONFIRMED);
    e->set_tenant_id("bozhou");
    e->set_merchant_id(shop_.merchant_id());
    e->set_checkout_id(id);
    e->set_occurred_at_unix_ms(absl::ToUnixMillis(at));
    e->set_amount_fen(10000);
    perks::v1::Discount* d = e->add_discounts();
    d->set_campaign_id("bozhou-supermarket-100-30");
    d->set_amount_fen(3000);
    d->add_funding()->set_funder(perks::v1::FUNDER_BANK);
    d->mutable_funding(0)->set_amount_fen(3000);
    auto key = LoadOrCreateSecret(dir_.path() + "/secrets", "internal");
    ASSERT_TRUE(key.ok());
    auto ctx = As("");
    ctx->AddMetadata(kInternalKeyHeader, *key);
    perks::v1::PostResponse resp;
    auto stub = perks::v1::SettlementService::NewStub(tools::MakeChannel(address));
    grpc::Status s = stub->Post(ctx.get(), post, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status CloseDay(const std::string& address, const std::string& date,
                        perks::v1::BusinessDay* out) {
    auto stub = perks::v1::SettlementService::NewStub(tools::MakeChannel(address));
    perks::v1::CloseDayRequest req;
    req.set_tenant_id("bozhou");
    req.set_date(date);
    return UntilAnswered([&] { return stub->CloseDay(As(bozhou_).get(), req, out); });
  }

  storage::TestDir logs_;
};

TEST_F(CrashPointsTest, EveryStepLeftByACrashIsFinishedOnceByTheRetry) {
  const std::vector<Case> cases = {
      {"authorize.written", Op::kAuthorize},
      {"authorize.reserved", Op::kAuthorize},
      {"confirm.begun", Op::kConfirm},
      {"confirm.committed", Op::kConfirm},
      {"confirm.committed", Op::kConfirm, false, true},
      {"confirm.saved", Op::kConfirm},
      {"reverse.written", Op::kReverse},
      {"reverse.released", Op::kReverse},
      {"refund.saved", Op::kRefund},
      {"authorize.paid", Op::kAuthorize, true},
      {"confirm.committed", Op::kConfirm, true, true},
      {"reverse.written", Op::kReverse, true},
      {"reverse.released", Op::kReverse, true},
      {"refund.saved", Op::kRefund, true},
  };
  constexpr size_t kFirstVoucher = 9;
  ASSERT_LE(cases.size(), cards_.size());
  GiveVouchers(kFirstVoucher);  // the cards of the voucher cases
  for (size_t i = 0; i < cases.size(); ++i) ASSERT_EQ(cases[i].voucher, i >= kFirstVoucher) << i;
  server_.reset();  // from here on, real perkd processes on the same data
  std::vector<std::string> purchases;
  std::vector<std::pair<std::string, std::string>> voucher_purchases;  // (checkout, card)
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].step);
    const int trace = 100 + static_cast<int>(i) * 10;
    const std::string& card = cards_[i];
    Checkout out;
    perks::v1::RefundResult refunded;
    {
      ChildServer child = StartChild({"--crash-at", cases[i].step});
      TillClient till(child.address(), till_, "20261202");
      grpc::Status s;
      switch (cases[i].op) {
        case Op::kAuthorize:
          s = till.Authorize(trace, card, 12000, &out);
          break;
        case Op::kConfirm:
          ASSERT_TRUE(till.Authorize(trace, card, 12000, &out).ok());
          s = till.Confirm(trace, &out);
          break;
        case Op::kReverse:
          ASSERT_TRUE(till.Authorize(trace, card, 12000, &out).ok());
          s = till.Reverse(trace, &out);
          break;
        case Op::kRefund:
          ASSERT_TRUE(till.Authorize(trace, card, 12000, &out).ok());
          ASSERT_TRUE(till.Confirm(trace, &out).ok());
          s = till.Refund(trace + 1, till.IdOf(trace), 5000, &refunded);
          break;
      }
      EXPECT_FALSE(s.ok()) << "the process was to end before answering";
      EXPECT_EQ(child.Terminate(), kCrashExit) << "the step was not reached";
    }
    ChildServer child = StartChild();
    TillClient till(child.address(), till_, "20261202");
    if (cases[i].reverse_after) {
      // The commit was made: the reversal is refused, and the purchase is confirmed, with what
      // the voucher paid kept (the start, or the reversal itself, finds the commit).
      grpc::Status s = UntilAnswered([&] { return till.Reverse(trace, &out); });
      EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
      EXPECT_TRUE(absl::StrContains(s.error_message(), "is confirmed")) << s.error_message();
    }
    switch (cases[i].reverse_after ? Op::kConfirm : cases[i].op) {
      case Op::kAuthorize:
        ASSERT_TRUE(UntilAnswered([&] { return till.Authorize(trace, card, 12000, &out); }).ok());
        EXPECT_EQ(out.state(), perks::v1::CHECKOUT_STATE_AUTHORIZED);
        ASSERT_TRUE(UntilAnswered([&] { return till.Confirm(trace, &out); }).ok());
        EXPECT_EQ(out.state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
        break;
      case Op::kConfirm:
        ASSERT_TRUE(UntilAnswered([&] { return till.Confirm(trace, &out); }).ok());
        EXPECT_EQ(out.state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
        break;
      case Op::kReverse:
        ASSERT_TRUE(UntilAnswered([&] { return till.Reverse(trace, &out); }).ok());
        EXPECT_EQ(out.state(), perks::v1::CHECKOUT_STATE_REVERSED);
        break;
      case Op::kRefund: {
        grpc::Status s = UntilAnswered(
            [&] { return till.Refund(trace + 1, till.IdOf(trace), 5000, &refunded); });
        ASSERT_TRUE(s.ok()) << s.error_message();
        EXPECT_EQ(refunded.checkout().refunds_size(), 1);
        EXPECT_EQ(refunded.checkout().refunded_fen(), 5000);
        break;
      }
    }
    if (cases[i].voucher) {
      EXPECT_GT(out.from_balances_fen(), 0) << "the voucher paid nothing";
    }
    purchases.push_back(till.IdOf(trace));
    if (cases[i].voucher) voucher_purchases.emplace_back(till.IdOf(trace), card);
    EXPECT_EQ(child.Terminate(), 0);
  }

  // A day's close, crashed after it began and after it tallied: the next start finishes it.
  {
    ChildServer child = StartChild();
    const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
    PostEvent(child.address(), "T0:20261130:1",
              absl::FromCivil(absl::CivilSecond(2026, 11, 30, 20, 0, 0), shanghai));
    PostEvent(child.address(), "T0:20261201:1",
              absl::FromCivil(absl::CivilSecond(2026, 12, 1, 20, 0, 0), shanghai));
    EXPECT_EQ(child.Terminate(), 0);
  }
  for (const auto& [step, date] : std::vector<std::pair<std::string, std::string>>{
           {"close.begun", "20261130"}, {"close.tallied", "20261201"}}) {
    SCOPED_TRACE(step);
    {
      ChildServer child = StartChild({"--crash-at", step});
      perks::v1::BusinessDay day;
      EXPECT_FALSE(CloseDay(child.address(), date, &day).ok());
      EXPECT_EQ(child.Terminate(), kCrashExit);
    }
    ChildServer child = StartChild();
    perks::v1::BusinessDay day;
    grpc::Status s = CloseDay(child.address(), date, &day);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(day.state(), perks::v1::BUSINESS_DAY_CLOSED);
    EXPECT_EQ(day.entries(), 1);
    EXPECT_EQ(day.funder_statements(0).total_fen(), 3000);
    EXPECT_EQ(child.Terminate(), 0);
  }

  // Each confirmed discount and refund is in the ledger once, and it balances.
  ChildServer child = StartChild();
  auto channel = tools::MakeChannel(child.address());
  auto checkouts = perks::v1::CheckoutService::NewStub(channel);
  auto settlement = perks::v1::SettlementService::NewStub(channel);
  int64_t entries = 2;  // the two posted events
  std::map<std::string, int64_t> owed = {{"funder/bozhou/BANK", 6000}};
  auto add = [&owed](const auto& shares, int64_t sign) {
    for (const auto& f : shares) {
      owed[absl::StrCat("funder/bozhou/", perks::v1::Funder_Name(f.funder()).substr(7))] +=
          sign * f.amount_fen();
    }
  };
  std::map<std::string, Checkout> seen;
  for (const std::string& id : purchases) {
    perks::v1::GetCheckoutRequest req;
    req.set_checkout_id(id);
    Checkout& c = seen[id];
    ASSERT_TRUE(checkouts->GetCheckout(As(bozhou_).get(), req, &c).ok());
    EXPECT_NE(c.state(), perks::v1::CHECKOUT_STATE_PENDING) << id;
    if (c.state() != perks::v1::CHECKOUT_STATE_CONFIRMED) continue;
    if (c.discount_fen() > 0 || c.from_balances_fen() > 0) ++entries;
    for (const auto& d : c.discounts()) {
      add(d.funding(), 1);
      add(d.balance_funding(), 1);
    }
    for (const auto& r : c.refunds()) {
      if (r.discount_fen() > 0 || !r.to_balances().empty()) ++entries;
      add(r.funding(), -1);
      add(r.balance_funding(), -1);
    }
  }
  // 10 purchases confirmed (3 of them partly paid by voucher), 2 refunds, each settling something.
  EXPECT_EQ(entries, 2 + 10 + 2);
  perks::v1::CheckLedgerRequest check_req;
  check_req.set_tenant_id("bozhou");
  perks::v1::LedgerCheck check;
  ASSERT_TRUE(settlement->CheckLedger(As(bozhou_).get(), check_req, &check).ok());
  EXPECT_TRUE(check.balanced());
  EXPECT_EQ(check.entries(), entries);
  perks::v1::GetBalancesRequest balances_req;
  balances_req.set_tenant_id("bozhou");
  perks::v1::GetBalancesResponse balances;
  ASSERT_TRUE(settlement->GetBalances(As(bozhou_).get(), balances_req, &balances).ok());
  std::map<std::string, int64_t> kept;
  for (const auto& b : balances.balances()) {
    if (absl::StartsWith(b.account(), "funder/")) kept[b.account()] = b.balance_fen();
  }
  for (auto& [account, fen] : owed) EXPECT_EQ(kept[account], fen) << account;
  EXPECT_GT(owed["funder/bozhou/UNION"], 0);  // the vouchers the union owes for

  // Each voucher holds what its checkout left it: all of it after a reversal, what was paid less
  // what refunds gave back otherwise (every clean stop waited for the returns to be credited).
  auto cards = perks::v1::CardService::NewStub(channel);
  for (const auto& [id, number] : voucher_purchases) {
    SCOPED_TRACE(id);
    const Checkout& c = seen[id];
    int64_t left = kVoucherFen;
    if (c.state() == perks::v1::CHECKOUT_STATE_CONFIRMED) {
      left -= c.from_balances_fen();
      for (const auto& r : c.refunds()) {
        for (const auto& b : r.to_balances()) left += b.amount_fen();
      }
    }
    perks::v1::LookupCardRequest req;
    req.mutable_card()->set_card_number(number);
    perks::v1::Card card;
    ASSERT_TRUE(cards->LookupCard(As(bozhou_).get(), req, &card).ok());
    int64_t holds = -1;
    for (const auto& b : card.balances()) {
      if (b.name() == kVoucher) holds = b.amount_fen();
    }
    EXPECT_EQ(holds, left);
  }
}

}  // namespace
}  // namespace perks::testing
