// The stateful model test (RELIABILITY row 9): random sequences of card, checkout, refund and
// day-close calls against perkd, and beside it a model of the Bozhou supermarket program small
// enough to check by reading: 10% off every day (the merchant's, at most 200 yuan) or, once a
// member a day, spend 100 save 30 (half the bank's, half the merchant's), whichever saves more
// (a tie goes to the 10%); refunds give each funder back floor(share × refunded / amount) in all.
// After every step the service and the model agree on every checkout, on every funder's balance,
// and on each closed day's statements.
//
// rapidcheck makes the sequences and, when one fails, shrinks it to the shortest it can find;
// each sequence runs against a fresh perkd. RC_PARAMS="max_success=200" runs more of them;
// RC_PARAMS="seed=…" replays a failure.
#include <cstdlib>
#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/checkout.grpc.pb.h"
#include "perks/v1/settlement.grpc.pb.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "rapidcheck/state.h"
#include "services/common/calendar.h"
#include "tests/support/bozhou_till_test.h"

namespace perks::testing {
namespace {

using perks::v1::CheckoutState;
using perks::v1::FUNDER_BANK;
using perks::v1::FUNDER_MERCHANT;

// Enough sequences to cover the commands' combinations in CI; RC_PARAMS given outside wins.
const bool kDefaultParams = [] {
  setenv("RC_PARAMS", "max_success=25 max_size=40", /*overwrite=*/0);
  return true;
}();

constexpr int kCards = 3;
constexpr int kMaxDays = 12;  // the special period runs through December

// Any value of [lo, hi), whatever the size (rapidcheck's own inRange starts near lo).
template <typename T>
rc::Gen<T> Uniform(T lo, T hi) {
  return rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(lo, hi));
}

// One business day of the sequence: 2026-12-05 plus `day`.
absl::CivilDay CivilOf(int day) { return absl::CivilDay(2026, 12, 5) + day; }
std::string DateOf(int day) { return FormatCompactDate(CivilOf(day)); }

struct ModelCheckout {
  int card = 0;
  int64_t amount_fen = 0;
  int day = 0;
  CheckoutState state = perks::v1::CHECKOUT_STATE_AUTHORIZED;
  bool reversed_unseen = false;  // a reversal came first: there is no purchase
  bool spend_100_save_30 = false;
  int64_t bank_fen = 0;
  int64_t merchant_fen = 0;
  int64_t refunded_fen = 0;
  int64_t bank_back_fen = 0;
  int64_t merchant_back_fen = 0;

  int64_t discount_fen() const { return bank_fen + merchant_fen; }
};

struct DayTally {
  int64_t lines = 0;
  int64_t total_fen = 0;
  void Add(int64_t share_fen) {
    if (share_fen == 0) return;
    ++lines;
    total_fen += share_fen;
  }
};

struct Model {
  int day = 0;
  int traces_drawn = 0;     // trace numbers handed out so far; a new one is never reused
  int closed_through = -1;  // days up to this one are closed
  bool frozen[kCards] = {};
  std::map<int, ModelCheckout> checkouts;  // by trace number
  std::map<int, int> refunds;              // a refund's trace number -> its purchase's
  std::map<int, DayTally> bank_days, merchant_days;

  bool AnyAuthorized() const {
    for (const auto& [trace, c] : checkouts) {
      if (c.state == perks::v1::CHECKOUT_STATE_AUTHORIZED) return true;
    }
    return false;
  }
  bool TraceUsed(int trace) const { return checkouts.count(trace) || refunds.count(trace); }
  // What a new authorization of `amount_fen` on `card` today gets.
  ModelCheckout Expect(int card, int64_t amount_fen) const {
    ModelCheckout c;
    c.card = card;
    c.amount_fen = amount_fen;
    c.day = day;
    bool used_today = false;
    for (const auto& [trace, o] : checkouts) {
      used_today |= o.card == card && o.day == day && o.spend_100_save_30 &&
                    (o.state == perks::v1::CHECKOUT_STATE_AUTHORIZED ||
                     o.state == perks::v1::CHECKOUT_STATE_CONFIRMED);
    }
    const int64_t percent_fen = std::min<int64_t>(amount_fen * 1000 / 10000, 20000);
    if (amount_fen >= 10000 && !used_today && 3000 > percent_fen) {
      c.spend_100_save_30 = true;
      c.bank_fen = 1500;
      c.merchant_fen = 1500;
    } else {
      c.merchant_fen = percent_fen;
    }
    return c;
  }
  int64_t BankBalance() const {
    int64_t sum = 0;
    for (const auto& [t, c] : checkouts) {
      if (c.state == perks::v1::CHECKOUT_STATE_CONFIRMED) sum += c.bank_fen - c.bank_back_fen;
    }
    return sum;
  }
  int64_t MerchantBalance() const {
    int64_t sum = 0;
    for (const auto& [t, c] : checkouts) {
      if (c.state == perks::v1::CHECKOUT_STATE_CONFIRMED) {
        sum += c.merchant_fen - c.merchant_back_fen;
      }
    }
    return sum;
  }
};

class CheckoutModelTest : public BozhouTillTest {
 public:
  CheckoutModelTest() { card_count_ = kCards; }

  perks::v1::TraceRef TraceOf(int trace, int day) const {
    perks::v1::TraceRef t;
    t.set_trace(absl::StrCat(200000 + trace));
    t.set_date(DateOf(day));
    return t;
  }
  std::string IdOf(int trace, int day) const {
    return absl::StrCat(till_.terminal_id, ":", DateOf(day), ":", 200000 + trace);
  }

  grpc::Status DoAuthorize(int trace, int day, int card, int64_t amount_fen,
                           perks::v1::Checkout* out) {
    perks::v1::AuthorizeRequest req;
    *req.mutable_trace() = TraceOf(trace, day);
    req.mutable_card()->set_card_number(cards_[card]);
    req.set_amount_fen(amount_fen);
    return UntilAnswered([&] {
      return checkout_->Authorize(Signed(till_, "/perks.v1.CheckoutService/Authorize", req).get(),
                                  req, out);
    });
  }
  grpc::Status DoConfirm(int trace, int day, perks::v1::Checkout* out) {
    perks::v1::ConfirmRequest req;
    *req.mutable_trace() = TraceOf(trace, day);
    return UntilAnswered([&] {
      return checkout_->Confirm(Signed(till_, "/perks.v1.CheckoutService/Confirm", req).get(), req,
                                out);
    });
  }
  grpc::Status DoReverse(int trace, int day, perks::v1::Checkout* out) {
    perks::v1::ReverseRequest req;
    *req.mutable_trace() = TraceOf(trace, day);
    req.set_reason("no answer from the bank");
    return UntilAnswered([&] {
      return checkout_->Reverse(Signed(till_, "/perks.v1.CheckoutService/Reverse", req).get(), req,
                                out);
    });
  }
  grpc::Status DoRefund(int trace, int day, const std::string& checkout_id, int64_t amount_fen,
                        perks::v1::RefundResult* out) {
    perks::v1::RefundRequest req;
    *req.mutable_trace() = TraceOf(trace, day);
    req.set_checkout_id(checkout_id);
    req.set_amount_fen(amount_fen);
    return UntilAnswered([&] {
      return checkout_->Refund(Signed(till_, "/perks.v1.CheckoutService/Refund", req).get(), req,
                               out);
    });
  }
  grpc::Status DoCardState(int card, perks::v1::CardAction action) {
    perks::v1::ChangeCardStateRequest req;
    req.set_request_id(NextRequestId("card"));
    req.mutable_card()->set_card_number(cards_[card]);
    req.set_action(action);
    req.set_reason("the model test");
    perks::v1::Card out;
    return card_->ChangeCardState(As(bozhou_).get(), req, &out);
  }
  void MoveTo(int day) { clock_.Set(Shanghai(2026, 12, 5, 10) + absl::Hours(24) * day); }
  grpc::Status DoClose(int day, perks::v1::BusinessDay* out) {
    // The day's confirmations reach the ledger within moments of its end; only then is it closed
    // (one arriving after the close would post in the next open day, which is another test's).
    EXPECT_TRUE(server_->WaitSettled(absl::Seconds(30)));
    auto stub = perks::v1::SettlementService::NewStub(channel_);
    perks::v1::CloseDayRequest req;
    req.set_tenant_id("bozhou");
    req.set_date(DateOf(day));
    return stub->CloseDay(As(bozhou_).get(), req, out);
  }
  grpc::Status DoGetDay(int day, perks::v1::BusinessDay* out) {
    auto stub = perks::v1::SettlementService::NewStub(channel_);
    perks::v1::GetDayRequest req;
    req.set_tenant_id("bozhou");
    req.set_date(DateOf(day));
    return stub->GetDay(As(bozhou_).get(), req, out);
  }

  // The service and the model agree: every checkout the model knows, the funders' balances, a
  // ledger that sums to zero. rapidcheck assertions, so a disagreement fails the sequence.
  void Agree(const Model& m) {
    for (const auto& [trace, want] : m.checkouts) {
      perks::v1::GetCheckoutRequest req;
      req.set_checkout_id(IdOf(trace, want.day));
      perks::v1::Checkout got;
      grpc::Status s = checkout_->GetCheckout(As(bozhou_).get(), req, &got);
      RC_ASSERT(s.ok());
      RC_ASSERT(got.state() == want.state);
      if (want.reversed_unseen) continue;
      RC_ASSERT(got.amount_fen() == want.amount_fen);
      RC_ASSERT(got.discount_fen() == want.discount_fen());
      RC_ASSERT(got.refunded_fen() == want.refunded_fen);
      RC_ASSERT(got.refunded_discount_fen() == want.bank_back_fen + want.merchant_back_fen);
    }
    perks::v1::LedgerCheck check = Ledger();
    RC_ASSERT(check.balanced());
    auto stub = perks::v1::SettlementService::NewStub(channel_);
    perks::v1::GetBalancesRequest req;
    req.set_tenant_id("bozhou");
    perks::v1::GetBalancesResponse balances;
    RC_ASSERT(stub->GetBalances(As(bozhou_).get(), req, &balances).ok());
    std::map<std::string, int64_t> by_account;
    for (const auto& b : balances.balances()) by_account[b.account()] = b.balance_fen();
    RC_ASSERT(by_account["funder/bozhou/BANK"] == m.BankBalance());
    RC_ASSERT(by_account["funder/bozhou/MERCHANT"] == m.MerchantBalance());
    RC_ASSERT(by_account["funder/bozhou/UNION"] == 0);
    RC_ASSERT(balances.sum_fen() == 0);
  }
};

using Sut = CheckoutModelTest;
using Command = rc::state::Command<Model, Sut>;

// Shares the model expects on `c` against what the answer says.
void AssertFunding(const perks::v1::Checkout& got, const ModelCheckout& want) {
  int64_t bank = 0, merchant = 0;
  for (const auto& d : got.discounts()) {
    for (const auto& f : d.funding()) {
      RC_ASSERT(f.funder() == FUNDER_BANK || f.funder() == FUNDER_MERCHANT);
      (f.funder() == FUNDER_BANK ? bank : merchant) += f.amount_fen();
    }
  }
  RC_ASSERT(bank == want.bank_fen);
  RC_ASSERT(merchant == want.merchant_fen);
  RC_ASSERT(got.discount_fen() == want.discount_fen());
  RC_ASSERT(got.to_pay_fen() == want.amount_fen - want.discount_fen());
}

rc::Gen<int64_t> Amounts() {
  return rc::gen::weightedOneOf<int64_t>({
      {3, Uniform<int64_t>(1000, 10000)},    // below the threshold: 10% off
      {5, Uniform<int64_t>(10000, 30000)},   // spend 100 save 30 beats 10%
      {1, Uniform<int64_t>(29995, 30015)},   // around the tie at 300 yuan
      {2, Uniform<int64_t>(30010, 300000)},  // 10% beats it; capped at 200 yuan
  });
}

// A trace number no step of the sequence has used.
int FreshTrace(const Model& m) { return m.traces_drawn; }

// A trace of the model's checkouts, or now and then one the till never authorized.
int SomeTrace(const Model& m) {
  if (m.checkouts.empty() || *Uniform(0, 8) == 0) return 100000 + FreshTrace(m);
  std::vector<int> traces;
  for (const auto& [t, c] : m.checkouts) traces.push_back(t);
  return *rc::gen::elementOf(traces);
}

struct AuthorizeStep : Command {
  int trace;
  int card = *Uniform(0, kCards);
  int64_t amount_fen = *Amounts();
  // A new trace, or now and then one whose reversal came first (its authorization is late).
  explicit AuthorizeStep(const Model& m) : trace(FreshTrace(m)) {
    std::vector<int> unseen;
    for (const auto& [t, c] : m.checkouts) {
      if (c.reversed_unseen) unseen.push_back(t);
    }
    if (!unseen.empty() && *Uniform(0, 3) == 0) trace = *rc::gen::elementOf(unseen);
  }

  void checkPreconditions(const Model& m) const override {
    const auto it = m.checkouts.find(trace);
    RC_PRE(!m.refunds.count(trace));
    const bool fresh_or_late = it == m.checkouts.end() || it->second.reversed_unseen;
    RC_PRE(fresh_or_late);
  }
  void apply(Model& m) const override {
    m.traces_drawn = std::max(m.traces_drawn, trace + 1);
    if (m.frozen[card] || m.checkouts.count(trace)) return;  // frozen; or reversed before it came
    m.checkouts[trace] = m.Expect(card, amount_fen);
  }
  void run(const Model& m, Sut& sut) const override {
    auto it = m.checkouts.find(trace);
    perks::v1::Checkout got;
    grpc::Status s = sut.DoAuthorize(trace, it == m.checkouts.end() ? m.day : it->second.day, card,
                                     amount_fen, &got);
    if (m.frozen[card] || it != m.checkouts.end()) {
      RC_ASSERT(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    } else {
      RC_ASSERT(s.ok());
      RC_ASSERT(got.state() == perks::v1::CHECKOUT_STATE_AUTHORIZED);
      AssertFunding(got, m.Expect(card, amount_fen));
    }
    Model next = m;
    apply(next);
    sut.Agree(next);
  }
  void show(std::ostream& os) const override {
    os << "Authorize trace " << trace << " card " << card << " " << amount_fen << " fen";
  }
};

// The same authorization sent again (its answer was lost): the same checkout, nothing new held.
struct AuthorizeAgainStep : Command {
  int trace;
  explicit AuthorizeAgainStep(const Model& m) : trace(SomeTrace(m)) { checkPreconditions(m); }
  void checkPreconditions(const Model& m) const override {
    // (RC_PRE takes its expression apart, so && would not stop early.)
    auto it = m.checkouts.find(trace);
    const bool authorized = it != m.checkouts.end() && !it->second.reversed_unseen;
    RC_PRE(authorized);
  }
  void apply(Model&) const override {}
  void run(const Model& m, Sut& sut) const override {
    const ModelCheckout& c = m.checkouts.at(trace);
    perks::v1::Checkout got;
    grpc::Status s = sut.DoAuthorize(trace, c.day, c.card, c.amount_fen, &got);
    RC_ASSERT(s.ok());
    RC_ASSERT(got.checkout_id() == sut.IdOf(trace, c.day));
    RC_ASSERT(got.state() == c.state);
    AssertFunding(got, c);
    // Other content under the same trace is refused.
    s = sut.DoAuthorize(trace, c.day, c.card, c.amount_fen + 1, &got);
    RC_ASSERT(s.error_code() == grpc::StatusCode::ALREADY_EXISTS);
    sut.Agree(m);
  }
  void show(std::ostream& os) const override { os << "AuthorizeAgain trace " << trace; }
};

struct ConfirmStep : Command {
  int trace;
  explicit ConfirmStep(const Model& m) : trace(SomeTrace(m)) {}
  void apply(Model& m) const override {
    auto it = m.checkouts.find(trace);
    if (it == m.checkouts.end() || it->second.state != perks::v1::CHECKOUT_STATE_AUTHORIZED) {
      return;
    }
    ModelCheckout& c = it->second;
    c.state = perks::v1::CHECKOUT_STATE_CONFIRMED;
    m.bank_days[m.day].Add(c.bank_fen);
    m.merchant_days[m.day].Add(c.merchant_fen);
  }
  void run(const Model& m, Sut& sut) const override {
    auto it = m.checkouts.find(trace);
    const int day = it == m.checkouts.end() ? m.day : it->second.day;
    perks::v1::Checkout got;
    grpc::Status s = sut.DoConfirm(trace, day, &got);
    if (it == m.checkouts.end()) {
      RC_ASSERT(s.error_code() == grpc::StatusCode::NOT_FOUND);
    } else if (it->second.state == perks::v1::CHECKOUT_STATE_REVERSED) {
      RC_ASSERT(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    } else {
      RC_ASSERT(s.ok());
      RC_ASSERT(got.state() == perks::v1::CHECKOUT_STATE_CONFIRMED);
      AssertFunding(got, it->second);
    }
    Model next = m;
    apply(next);
    sut.Agree(next);
  }
  void show(std::ostream& os) const override { os << "Confirm trace " << trace; }
};

struct ReverseStep : Command {
  int trace;
  explicit ReverseStep(const Model& m) : trace(SomeTrace(m)) {}
  void checkPreconditions(const Model& m) const override {
    // A reversal of an unknown trace is remembered under today's date.
    RC_PRE(!m.refunds.count(trace));
  }
  void apply(Model& m) const override {
    auto it = m.checkouts.find(trace);
    if (it == m.checkouts.end()) {
      ModelCheckout c;
      c.day = m.day;
      c.state = perks::v1::CHECKOUT_STATE_REVERSED;
      c.reversed_unseen = true;
      m.checkouts[trace] = c;
    } else if (it->second.state == perks::v1::CHECKOUT_STATE_AUTHORIZED) {
      it->second.state = perks::v1::CHECKOUT_STATE_REVERSED;
    }
  }
  void run(const Model& m, Sut& sut) const override {
    auto it = m.checkouts.find(trace);
    const int day = it == m.checkouts.end() ? m.day : it->second.day;
    perks::v1::Checkout got;
    grpc::Status s = sut.DoReverse(trace, day, &got);
    if (it != m.checkouts.end() && it->second.state == perks::v1::CHECKOUT_STATE_CONFIRMED) {
      RC_ASSERT(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    } else {
      RC_ASSERT(s.ok());
      RC_ASSERT(got.state() == perks::v1::CHECKOUT_STATE_REVERSED);
    }
    Model next = m;
    apply(next);
    sut.Agree(next);
  }
  void show(std::ostream& os) const override { os << "Reverse trace " << trace; }
};

struct RefundStep : Command {
  int trace;     // the refund's own
  int purchase;  // the purchase refunded
  int64_t amount_fen = 0;
  explicit RefundStep(const Model& m) : trace(FreshTrace(m)), purchase(SomeTrace(m)) {
    auto it = m.checkouts.find(purchase);
    const int64_t left =
        it == m.checkouts.end() ? 10000 : it->second.amount_fen - it->second.refunded_fen;
    amount_fen = *rc::gen::weightedOneOf<int64_t>({
        {4, Uniform<int64_t>(1, std::max<int64_t>(left, 1) + 1)},
        {2, rc::gen::just(std::max<int64_t>(left, 1))},  // the rest
        {1, rc::gen::just(left + 1)},                    // more than is left
    });
  }
  void checkPreconditions(const Model& m) const override {
    RC_PRE(!m.TraceUsed(trace));
    RC_PRE(amount_fen > 0);
  }
  // The refund's answer in the model, or nothing when it is refused.
  std::optional<ModelCheckout> After(const Model& m) const {
    auto it = m.checkouts.find(purchase);
    if (it == m.checkouts.end() || it->second.reversed_unseen) return std::nullopt;
    ModelCheckout c = it->second;
    if (c.state != perks::v1::CHECKOUT_STATE_CONFIRMED) return std::nullopt;
    if (amount_fen > c.amount_fen - c.refunded_fen) return std::nullopt;
    c.refunded_fen += amount_fen;
    c.bank_back_fen = c.bank_fen * c.refunded_fen / c.amount_fen;
    c.merchant_back_fen = c.merchant_fen * c.refunded_fen / c.amount_fen;
    return c;
  }
  void apply(Model& m) const override {
    m.traces_drawn = std::max(m.traces_drawn, trace + 1);
    auto after = After(m);
    if (!after) return;
    ModelCheckout& c = m.checkouts[purchase];
    m.bank_days[m.day].Add(-(after->bank_back_fen - c.bank_back_fen));
    m.merchant_days[m.day].Add(-(after->merchant_back_fen - c.merchant_back_fen));
    c = *after;
    m.refunds[trace] = purchase;
  }
  void run(const Model& m, Sut& sut) const override {
    auto it = m.checkouts.find(purchase);
    const int day = it == m.checkouts.end() ? m.day : it->second.day;
    perks::v1::RefundResult got;
    grpc::Status s = sut.DoRefund(trace, m.day, sut.IdOf(purchase, day), amount_fen, &got);
    auto after = After(m);
    if (it == m.checkouts.end() || it->second.reversed_unseen) {
      // Nothing was bought under that trace (a reversal that came first is no purchase).
      RC_ASSERT(s.error_code() == grpc::StatusCode::NOT_FOUND);
    } else if (!after) {
      RC_ASSERT(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    } else {
      RC_ASSERT(s.ok());
      const ModelCheckout& before = it->second;
      RC_ASSERT(got.refund().amount_fen() == amount_fen);
      RC_ASSERT(got.refund().discount_fen() == after->bank_back_fen + after->merchant_back_fen -
                                                   before.bank_back_fen - before.merchant_back_fen);
      RC_ASSERT(got.checkout().refunded_fen() == after->refunded_fen);
    }
    Model next = m;
    apply(next);
    sut.Agree(next);
  }
  void show(std::ostream& os) const override {
    os << "Refund trace " << trace << " of " << purchase << " " << amount_fen << " fen";
  }
};

struct FreezeOrUnfreezeStep : Command {
  int card = *Uniform(0, kCards);
  void apply(Model& m) const override { m.frozen[card] = !m.frozen[card]; }
  void run(const Model& m, Sut& sut) const override {
    grpc::Status s = sut.DoCardState(
        card, m.frozen[card] ? perks::v1::CARD_ACTION_UNFREEZE : perks::v1::CARD_ACTION_FREEZE);
    RC_ASSERT(s.ok());
    Model next = m;
    apply(next);
    sut.Agree(next);
  }
  void show(std::ostream& os) const override { os << "FreezeOrUnfreeze card " << card; }
};

// The next morning. Authorizations left open would expire overnight, which the model leaves to
// the checkout tests: each is confirmed or reversed first.
struct NextDayStep : Command {
  void checkPreconditions(const Model& m) const override {
    RC_PRE(!m.AnyAuthorized());
    RC_PRE(m.day + 1 < kMaxDays);
  }
  void apply(Model& m) const override { ++m.day; }
  void run(const Model& m, Sut& sut) const override {
    sut.MoveTo(m.day + 1);
    sut.Agree(m);
  }
  void show(std::ostream& os) const override { os << "NextDay"; }
};

// Closes yesterday (and any day before it still open): its statements match the model's.
struct CloseYesterdayStep : Command {
  void checkPreconditions(const Model& m) const override { RC_PRE(m.closed_through < m.day - 1); }
  void apply(Model& m) const override { m.closed_through = m.day - 1; }
  void run(const Model& m, Sut& sut) const override {
    perks::v1::BusinessDay closed;
    grpc::Status s = sut.DoClose(m.day - 1, &closed);
    RC_ASSERT(s.ok());
    for (int d = m.closed_through + 1; d <= m.day - 1; ++d) {
      perks::v1::BusinessDay day;
      RC_ASSERT(sut.DoGetDay(d, &day).ok());
      RC_ASSERT(day.state() == perks::v1::BUSINESS_DAY_CLOSED);
      const DayTally bank = m.bank_days.count(d) ? m.bank_days.at(d) : DayTally();
      const DayTally merchant = m.merchant_days.count(d) ? m.merchant_days.at(d) : DayTally();
      for (const auto& st : day.funder_statements()) {
        const DayTally want = st.funder() == FUNDER_BANK       ? bank
                              : st.funder() == FUNDER_MERCHANT ? merchant
                                                               : DayTally();
        RC_ASSERT(st.lines() == want.lines);
        RC_ASSERT(st.total_fen() == want.total_fen);
      }
    }
    Model next = m;
    apply(next);
    sut.Agree(next);
  }
  void show(std::ostream& os) const override { os << "CloseYesterday"; }
};

RC_GTEST_FIXTURE_PROP(CheckoutModelTest, TheServiceAndTheModelAgreeAfterEveryStep, ()) {
  Model initial;
  rc::state::check(
      initial, static_cast<CheckoutModelTest&>(*this),
      rc::state::gen::execOneOfWithArgs<AuthorizeStep, AuthorizeStep, AuthorizeStep,
                                        AuthorizeAgainStep, ConfirmStep, ConfirmStep, ReverseStep,
                                        RefundStep, RefundStep, FreezeOrUnfreezeStep, NextDayStep,
                                        CloseYesterdayStep>());
}

}  // namespace
}  // namespace perks::testing
