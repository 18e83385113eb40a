// Crash points: perkd ends, as a crash, at each step of an authorization, a confirmation, a
// reversal, a refund and a day's close (its --crash-at hook); restarted, the till sends the same
// request again and it is finished, once. At the end the ledger holds each confirmed discount and
// refund exactly once, and every close finished.
#include <string>
#include <vector>

#include "gtest/gtest.h"
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
};

class CrashPointsTest : public BozhouTillTest {
 protected:
  CrashPointsTest() { card_count_ = 10; }

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
    auto key = LoadOrCreateSecret(dir_.path(), "internal");
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
      {"authorize.written", Op::kAuthorize}, {"authorize.reserved", Op::kAuthorize},
      {"confirm.written", Op::kConfirm},     {"confirm.committed", Op::kConfirm},
      {"confirm.saved", Op::kConfirm},       {"reverse.written", Op::kReverse},
      {"reverse.released", Op::kReverse},    {"refund.saved", Op::kRefund},
  };
  server_.reset();  // from here on, real perkd processes on the same data
  std::vector<std::string> purchases;
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
    switch (cases[i].op) {
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
    purchases.push_back(till.IdOf(trace));
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
  int64_t entries = 2, bank_fen = 6000;  // the two posted events
  for (const std::string& id : purchases) {
    perks::v1::GetCheckoutRequest req;
    req.set_checkout_id(id);
    Checkout c;
    ASSERT_TRUE(checkouts->GetCheckout(As(bozhou_).get(), req, &c).ok());
    EXPECT_NE(c.state(), perks::v1::CHECKOUT_STATE_PENDING) << id;
    if (c.state() != perks::v1::CHECKOUT_STATE_CONFIRMED) continue;
    if (c.discount_fen() > 0) ++entries;
    for (const auto& d : c.discounts()) {
      for (const auto& f : d.funding()) {
        if (f.funder() == perks::v1::FUNDER_BANK) bank_fen += f.amount_fen();
      }
    }
    for (const auto& r : c.refunds()) {
      if (r.discount_fen() > 0) ++entries;
      for (const auto& f : r.funding()) {
        if (f.funder() == perks::v1::FUNDER_BANK) bank_fen -= f.amount_fen();
      }
    }
  }
  EXPECT_EQ(entries, 2 + 6 + 1);  // 6 purchases confirmed, 1 refund, each with a discount
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
  int64_t kept_bank_fen = 0;
  for (const auto& b : balances.balances()) {
    if (b.account() == "funder/bozhou/BANK") kept_bank_fen = b.balance_fen();
  }
  EXPECT_EQ(kept_bank_fen, bank_fen);
}

}  // namespace
}  // namespace perks::testing
