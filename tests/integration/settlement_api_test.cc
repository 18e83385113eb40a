// The settlement service in perkd, fed by real checkouts at a signed till: a Bozhou business day
// of purchases, a reversal and a refund; the day closed at its cut-off; the bank's statement;
// the bank's answer file with one difference of every kind; resolutions; payouts.
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "perks/v1/settlement.grpc.pb.h"
#include "services/common/personal.h"
#include "services/common/records.h"
#include "services/gate/gate.h"
#include "storage/keys.h"
#include "storage/writer.h"
#include "tests/support/bozhou_till_test.h"

namespace perks::testing {
namespace {

using perks::v1::BusinessDay;
using perks::v1::Funder;
using perks::v1::SettlementService;
using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::Time ShanghaiMs(int y, int mo, int d, int h, int mi, int s, int ms) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::FixedTimeZone(8 * 3600)) +
         absl::Milliseconds(ms);
}

int64_t ShareOf(const Checkout& c, Funder funder) {
  int64_t fen = 0;
  for (const auto& d : c.discounts()) {
    for (const auto& s : d.funding()) {
      if (s.funder() == funder) fen += s.amount_fen();
    }
  }
  return fen;
}

class SettlementApiTest : public BozhouTillTest {
 protected:
  SettlementApiTest() { card_count_ = 6; }
  void SetUp() override {
    BozhouTillTest::SetUp();
    settle_ = SettlementService::NewStub(channel_);
    bank_ = TokenFor(perks::v1::ROLE_BANK_OPERATOR, "bozhou", "", "徽商银行 王对账");
  }

  // An authorization and its confirmation.
  Checkout Buy(int trace, const std::string& card, int64_t amount_fen) {
    Checkout a, c;
    grpc::Status s = Authorize(trace, card, amount_fen, &a);
    EXPECT_TRUE(s.ok()) << s.error_message();
    s = Confirm(trace, &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(c.state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
    return c;
  }

  grpc::Status Close(const std::string& date, BusinessDay* out) {
    EXPECT_TRUE(server_->WaitSettled(absl::Seconds(30)));
    perks::v1::CloseDayRequest req;
    req.set_tenant_id("bozhou");
    req.set_date(date);
    return settle_->CloseDay(As(bozhou_).get(), req, out);
  }

  // The whole statement, read a line per page so that paging is exercised.
  std::string Statement(const std::string& date, Funder funder, const std::string& token) {
    std::string csv, page_token;
    for (int pages = 0; pages < 1000; ++pages) {
      perks::v1::GetStatementRequest req;
      req.set_tenant_id("bozhou");
      req.set_date(date);
      req.set_funder(funder);
      req.set_page_lines(1);
      req.set_page_token(page_token);
      perks::v1::StatementPage page;
      grpc::Status s = settle_->GetStatement(As(token).get(), req, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) return "";
      csv += page.csv();
      page_token = page.next_page_token();
      if (page_token.empty()) return csv;
    }
    ADD_FAILURE() << "the statement never ended";
    return csv;
  }

  grpc::Status Import(const std::string& date, const std::string& csv,
                      perks::v1::Reconciliation* out) {
    perks::v1::ImportBankFileRequest req;
    req.set_request_id(NextRequestId("import"));
    req.set_tenant_id("bozhou");
    req.set_date(date);
    req.set_funder(perks::v1::FUNDER_BANK);
    req.set_csv(csv);
    return settle_->ImportBankFile(As(bank_).get(), req, out);
  }

  std::unique_ptr<SettlementService::Stub> settle_;
  std::string bank_;
};

// The D lines of a statement, each with its "\n".
std::vector<std::string> Details(const std::string& csv) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(csv, '\n', absl::SkipEmpty())) {
    if (line.substr(0, 2) == "D,") out.push_back(std::string(line) + "\n");
  }
  return out;
}

// A bank file of `details`, with its header and a correct trailer.
std::string BankFile(const std::string& date, const std::vector<std::string>& details) {
  std::string lines;
  int64_t total_fen = 0;
  for (const std::string& d : details) {
    lines += d;
    total_fen += std::stoll(d.substr(d.rfind(',') + 1));
  }
  return absl::StrCat("H,PERKS-STATEMENT,1,bozhou,", date, ",BANK\n", lines, "T,", details.size(),
                      ",", total_fen, ",", HexEncode(Sha256(lines)), "\n");
}

TEST_F(SettlementApiTest, ABozhouDayIsClosedStatedAndReconciledWithEveryDifferenceFound) {
  // 2026-12-05, 10:00 in Bozhou: three purchases, one reversal, one partial refund.
  const Checkout first = Buy(1, cards_[0], 10000);
  const Checkout second = Buy(2, cards_[1], 15000);
  Checkout held, reversed;
  ASSERT_TRUE(Authorize(3, cards_[2], 20000, &held).ok());
  ASSERT_TRUE(Reverse(3, &reversed).ok());
  const Checkout third = Buy(4, cards_[2], 12000);
  perks::v1::RefundResult refund;
  grpc::Status s = Refund(5, first.checkout_id(), 4000, &refund);
  ASSERT_TRUE(s.ok()) << s.error_message();
  int64_t refunded_bank_fen = 0;
  for (const auto& f : refund.refund().funding()) {
    if (f.funder() == perks::v1::FUNDER_BANK) refunded_bank_fen += f.amount_fen();
  }
  const int64_t bank_fen = ShareOf(first, perks::v1::FUNDER_BANK) +
                           ShareOf(second, perks::v1::FUNDER_BANK) +
                           ShareOf(third, perks::v1::FUNDER_BANK) - refunded_bank_fen;
  ASSERT_GT(refunded_bank_fen, 0);
  ASSERT_GT(bank_fen, 0);

  // The day runs until midnight in Asia/Shanghai: it cannot close before.
  BusinessDay day;
  s = Close("20261205", &day);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("runs until 2026-12-06 00:00:00"));

  clock_.Set(ShanghaiMs(2026, 12, 6, 0, 0, 0, 0));
  s = Close("20261205", &day);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(day.state(), perks::v1::BUSINESS_DAY_CLOSED);
  EXPECT_EQ(day.entries(), 4);  // three confirmations and the refund; the reversal posts nothing
  ASSERT_EQ(day.funder_statements_size(), 3);
  const perks::v1::StatementSummary bank_summary = day.funder_statements(0);
  EXPECT_EQ(bank_summary.funder(), perks::v1::FUNDER_BANK);
  EXPECT_EQ(bank_summary.lines(), 4);
  EXPECT_EQ(bank_summary.total_fen(), bank_fen);
  EXPECT_EQ(bank_summary.file_name(), "bozhou-20261205-BANK.csv");
  // Closing again answers the same close.
  BusinessDay again;
  ASSERT_TRUE(Close("20261205", &again).ok());
  EXPECT_EQ(again.closed_at_unix_ms(), day.closed_at_unix_ms());
  EXPECT_EQ(again.funder_statements(0).sha256(), bank_summary.sha256());

  // The bank's statement: header, one line per discount it funds, the trailer that checks them.
  const std::string statement = Statement("20261205", perks::v1::FUNDER_BANK, bank_);
  EXPECT_THAT(statement, StartsWith("H,PERKS-STATEMENT,1,bozhou,20261205,BANK\n"));
  std::vector<std::string> lines = Details(statement);
  ASSERT_EQ(lines.size(), 4u);
  std::string joined;
  for (const std::string& l : lines) joined += l;
  EXPECT_EQ(statement.substr(statement.rfind("T,")),
            absl::StrCat("T,4,", bank_fen, ",", HexEncode(Sha256(joined)), "\n"));
  EXPECT_EQ(bank_summary.sha256(), HexEncode(Sha256(joined)));
  EXPECT_THAT(lines[0], HasSubstr(MaskCardNumber(cards_[0])));
  EXPECT_THAT(statement, ::testing::Not(HasSubstr(cards_[0])));  // never the whole number
  // The bank's operators read the bank's statement only.
  perks::v1::GetStatementRequest union_statement;
  union_statement.set_tenant_id("bozhou");
  union_statement.set_date("20261205");
  union_statement.set_funder(perks::v1::FUNDER_UNION);
  perks::v1::StatementPage page;
  EXPECT_EQ(settle_->GetStatement(As(bank_).get(), union_statement, &page).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // The ledger balances, and the bank owes what its statement says.
  perks::v1::LedgerCheck check = Ledger();
  EXPECT_TRUE(check.balanced()) << (check.mismatches().empty() ? "" : check.mismatches(0));
  EXPECT_EQ(check.entries(), 4);
  EXPECT_EQ(check.sum_fen(), 0);
  perks::v1::GetBalancesRequest balances_req;
  balances_req.set_tenant_id("bozhou");
  balances_req.set_date("20261205");
  perks::v1::GetBalancesResponse balances;
  ASSERT_TRUE(settle_->GetBalances(As(bank_).get(), balances_req, &balances).ok());
  std::map<std::string, int64_t> balance_of;
  for (const auto& b : balances.balances()) balance_of[b.account()] = b.balance_fen();
  EXPECT_EQ(balances.sum_fen(), 0);
  EXPECT_EQ(balance_of["funder/bozhou/BANK"], bank_fen);
  EXPECT_EQ(balance_of["merchant/bozhou/" + shop_.merchant_id() + "/BANK"], -bank_fen);

  // The bank's answer, with one difference of each kind: the second purchase missing, the
  // third's amount changed, the first's line twice, and a line we never wrote.
  ASSERT_THAT(lines[1], HasSubstr(second.checkout_id()));
  ASSERT_THAT(lines[2], HasSubstr(third.checkout_id()));
  std::string changed = lines[2];
  changed.replace(changed.rfind(',') + 1, std::string::npos, "1\n");
  const std::string invented =
      "D,confirm/T0:20261205:999999#1,CONFIRMED,T0:20261205:999999,2026-12-05 11:00:00,m0,s0,T0,"
      "623668*********0000,c0,1,BANK,10000,1500\n";
  const std::string answer =
      BankFile("20261205", {lines[0], lines[0], changed, lines[3], invented});
  perks::v1::Reconciliation recon;
  s = Import("20261205", answer, &recon);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(recon.our_lines(), 4);
  EXPECT_EQ(recon.bank_lines(), 5);
  EXPECT_EQ(recon.matched_lines(), 1);  // the refund's line
  ASSERT_EQ(recon.differences_size(), 4);
  std::map<perks::v1::DifferenceKind, perks::v1::Difference> by_kind;
  for (const auto& d : recon.differences()) by_kind[d.kind()] = d;
  ASSERT_EQ(by_kind.size(), 4u);
  EXPECT_EQ(by_kind[perks::v1::DIFFERENCE_DUPLICATED].reference(),
            "confirm/" + first.checkout_id() + "#1");
  EXPECT_THAT(by_kind[perks::v1::DIFFERENCE_DUPLICATED].bank_lines(), ::testing::ElementsAre(2, 3));
  EXPECT_EQ(by_kind[perks::v1::DIFFERENCE_ONLY_OURS].reference(),
            "confirm/" + second.checkout_id() + "#1");
  EXPECT_EQ(by_kind[perks::v1::DIFFERENCE_ONLY_OURS].our_fen(),
            ShareOf(second, perks::v1::FUNDER_BANK));
  EXPECT_EQ(by_kind[perks::v1::DIFFERENCE_AMOUNT_DIFFERS].bank_fen(), 1);
  EXPECT_EQ(by_kind[perks::v1::DIFFERENCE_AMOUNT_DIFFERS].our_fen(),
            ShareOf(third, perks::v1::FUNDER_BANK));
  EXPECT_EQ(by_kind[perks::v1::DIFFERENCE_ONLY_BANKS].reference(), "confirm/T0:20261205:999999#1");
  EXPECT_EQ(recon.unresolved(), 4);

  // Each difference resolved with a reason, once.
  for (const auto& d : recon.differences()) {
    perks::v1::ResolveDifferenceRequest req;
    req.set_request_id(NextRequestId("resolve"));
    req.set_tenant_id("bozhou");
    req.set_date("20261205");
    req.set_funder(perks::v1::FUNDER_BANK);
    req.set_difference_id(d.difference_id());
    req.set_resolution(perks::v1::RESOLUTION_OURS_STANDS);
    req.set_reason("bank's batch job dropped and duplicated lines; bank corrects on 12-07");
    perks::v1::Reconciliation after;
    s = settle_->ResolveDifference(As(bank_).get(), req, &after);
    ASSERT_TRUE(s.ok()) << s.error_message();
    req.set_request_id(NextRequestId("resolve"));
    EXPECT_EQ(settle_->ResolveDifference(As(bank_).get(), req, &after).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  perks::v1::GetReconciliationRequest get_recon;
  get_recon.set_tenant_id("bozhou");
  get_recon.set_date("20261205");
  get_recon.set_funder(perks::v1::FUNDER_BANK);
  ASSERT_TRUE(settle_->GetReconciliation(As(bozhou_).get(), get_recon, &recon).ok());
  EXPECT_EQ(recon.unresolved(), 0);
  EXPECT_THAT(recon.differences(0).resolved_by(), HasSubstr("王对账"));

  // What the bank owes the supermarket, and paying it.
  perks::v1::GetPayablesRequest payables_req;
  payables_req.set_tenant_id("bozhou");
  payables_req.set_from_date("20261201");
  payables_req.set_to_date("20261231");
  perks::v1::GetPayablesResponse payables;
  ASSERT_TRUE(settle_->GetPayables(As(bank_).get(), payables_req, &payables).ok());
  ASSERT_EQ(payables.lines_size(), 1);
  EXPECT_EQ(payables.lines(0).merchant_id(), shop_.merchant_id());
  EXPECT_EQ(payables.lines(0).funder(), perks::v1::FUNDER_BANK);
  EXPECT_EQ(payables.lines(0).owed_fen(), bank_fen);
  EXPECT_EQ(payables.lines(0).outstanding_fen(), bank_fen);
  perks::v1::RecordPayoutRequest pay;
  pay.set_request_id(NextRequestId("payout"));
  pay.set_tenant_id("bozhou");
  pay.set_funder(perks::v1::FUNDER_BANK);
  pay.set_merchant_id(shop_.merchant_id());
  pay.set_amount_fen(bank_fen + 1);
  pay.set_bank_reference("HS20261206000123");
  perks::v1::Payout payout;
  s = settle_->RecordPayout(As(bank_).get(), pay, &payout);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("owes merchant"));
  pay.set_amount_fen(bank_fen);
  s = settle_->RecordPayout(As(bank_).get(), pay, &payout);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(payout.date(), "20261206");  // today's business day
  ASSERT_TRUE(settle_->GetPayables(As(bank_).get(), payables_req, &payables).ok());
  EXPECT_EQ(payables.lines(0).outstanding_fen(), 0);
  check = Ledger();
  EXPECT_TRUE(check.balanced());
  EXPECT_EQ(check.entries(), 5);
}

TEST_F(SettlementApiTest, TheLastMillisecondBeforeMidnightIsInTheDayAndMidnightInTheNext) {
  Checkout a, late, early;
  clock_.Set(ShanghaiMs(2026, 12, 5, 23, 59, 59, 0));
  ASSERT_TRUE(Authorize(1, cards_[0], 10000, &a).ok());
  ASSERT_TRUE(Authorize(2, cards_[1], 10000, &a).ok());
  clock_.Set(ShanghaiMs(2026, 12, 5, 23, 59, 59, 999));
  ASSERT_TRUE(Confirm(1, &late).ok());
  clock_.Set(ShanghaiMs(2026, 12, 6, 0, 0, 0, 0));
  ASSERT_TRUE(Confirm(2, &early).ok());
  ASSERT_GT(late.discount_fen(), 0);
  ASSERT_GT(early.discount_fen(), 0);

  BusinessDay d5, d6;
  ASSERT_TRUE(Close("20261205", &d5).ok());
  EXPECT_EQ(d5.entries(), 1);
  perks::v1::GetDayRequest get;
  get.set_tenant_id("bozhou");
  get.set_date("20261206");
  ASSERT_TRUE(settle_->GetDay(As(bank_).get(), get, &d6).ok());
  EXPECT_EQ(d6.state(), perks::v1::BUSINESS_DAY_OPEN);
  clock_.Set(ShanghaiMs(2026, 12, 7, 0, 0, 0, 0));
  ASSERT_TRUE(Close("20261206", &d6).ok());
  EXPECT_EQ(d6.entries(), 1);
  EXPECT_THAT(Statement("20261205", perks::v1::FUNDER_BANK, bank_), HasSubstr(late.checkout_id()));
  EXPECT_THAT(Statement("20261206", perks::v1::FUNDER_BANK, bank_), HasSubstr(early.checkout_id()));
}

TEST_F(SettlementApiTest, AnEventOfAClosedDayPostsInTheNextOpenDayAndOnlyOnce) {
  clock_.Set(ShanghaiMs(2026, 12, 6, 1, 0, 0, 0));
  BusinessDay d5;
  ASSERT_TRUE(Close("20261205", &d5).ok());
  EXPECT_EQ(d5.entries(), 0);
  // A confirmation of the 5th that reaches settlement only now (as after a long outage).
  perks::v1::PostRequest post;
  perks::v1::SettlementEvent* e = post.add_events();
  e->set_event_id("confirm/T9:20261205:1");
  e->set_kind(perks::v1::SETTLEMENT_EVENT_CONFIRMED);
  e->set_tenant_id("bozhou");
  e->set_merchant_id(shop_.merchant_id());
  e->set_checkout_id("T9:20261205:1");
  e->set_occurred_at_unix_ms(absl::ToUnixMillis(ShanghaiMs(2026, 12, 5, 20, 0, 0, 0)));
  e->set_amount_fen(10000);
  perks::v1::Discount* d = e->add_discounts();
  d->set_campaign_id("bozhou-supermarket-100-30");
  d->set_amount_fen(3000);
  d->add_funding()->set_funder(perks::v1::FUNDER_BANK);
  d->mutable_funding(0)->set_amount_fen(3000);
  auto key = LoadOrCreateSecret(dir_.path() + "/secrets", "internal");
  ASSERT_TRUE(key.ok());
  perks::v1::PostResponse posted;
  for (int i = 0; i < 2; ++i) {
    auto ctx = As("");
    ctx->AddMetadata(kInternalKeyHeader, *key);
    grpc::Status s = settle_->Post(ctx.get(), post, &posted);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(posted.posted(), i == 0 ? 1 : 0);
    EXPECT_EQ(posted.already_posted(), i == 0 ? 0 : 1);
  }
  // Only services post.
  EXPECT_EQ(settle_->Post(As(bozhou_).get(), post, &posted).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  clock_.Set(ShanghaiMs(2026, 12, 7, 1, 0, 0, 0));
  BusinessDay d6;
  ASSERT_TRUE(Close("20261206", &d6).ok());
  EXPECT_EQ(d6.entries(), 1);
  EXPECT_EQ(d6.funder_statements(0).total_fen(), 3000);
}

TEST_F(SettlementApiTest, AMalformedBankFileIsRefusedWithItsLineAndNothingIsImported) {
  Buy(1, cards_[0], 10000);
  clock_.Set(ShanghaiMs(2026, 12, 6, 0, 30, 0, 0));
  BusinessDay day;
  ASSERT_TRUE(Close("20261205", &day).ok());
  std::vector<std::string> lines = Details(Statement("20261205", perks::v1::FUNDER_BANK, bank_));
  ASSERT_EQ(lines.size(), 1u);
  std::string broken = lines[0];
  broken.replace(broken.rfind(',') + 1, std::string::npos, "15x0\n");

  auto before = Writes();
  perks::v1::Reconciliation recon;
  grpc::Status s = Import("20261205", BankFile("20261205", {broken}), &recon);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("line 2: share_fen"));
  EXPECT_THAT(s.error_message(), HasSubstr("nothing of it was kept"));
  s = Import("20261205", BankFile("20261205", lines).substr(0, 40), &recon);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A day not closed yet has no statement to match.
  s = Import("20261206", BankFile("20261206", {}), &recon);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Writes(), before);
  perks::v1::GetReconciliationRequest get;
  get.set_tenant_id("bozhou");
  get.set_date("20261205");
  get.set_funder(perks::v1::FUNDER_BANK);
  EXPECT_EQ(settle_->GetReconciliation(As(bank_).get(), get, &recon).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// Every request sent one to three times, the purchases' requests interleaved in a random order:
// each purchase, confirmation and refund takes effect once, and the ledger says so.
TEST_F(SettlementApiTest, RequestsSentOneToThreeTimesInAnyOrderTakeEffectOnce) {
  std::mt19937 rng(20261205);
  struct Flow {
    // Each send is of a step (0 authorize, 1 confirm, 2 refund) and fills in its answer.
    std::vector<std::pair<int, std::function<grpc::Status(std::string*)>>> sends;
    size_t next = 0;
  };
  std::vector<Flow> flows(cards_.size());
  for (size_t i = 0; i < flows.size(); ++i) {
    const int trace = 10 + static_cast<int>(i) * 2;
    const int64_t amount_fen = 10000 + static_cast<int64_t>(i) * 1000;
    auto repeat = [&](int step, std::function<grpc::Status(std::string*)> send) {
      for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
        flows[i].sends.emplace_back(step, send);
      }
    };
    repeat(0, [this, trace, amount_fen, i](std::string* answer) {
      Checkout out;
      grpc::Status s = Authorize(trace, cards_[i], amount_fen, &out);
      *answer = out.SerializeAsString();
      return s;
    });
    repeat(1, [this, trace](std::string* answer) {
      Checkout out;
      grpc::Status s = Confirm(trace, &out);
      *answer = absl::StrCat(out.state(), "/", out.discount_fen());
      return s;
    });
    if (i % 2 == 0) {
      repeat(2, [this, trace](std::string* answer) {
        perks::v1::RefundResult out;
        grpc::Status s = Refund(trace + 1, IdOf(trace), 3000, &out);
        *answer = out.refund().SerializeAsString();
        return s;
      });
    }
  }
  std::map<std::pair<size_t, int>, std::string> first_answer;
  for (bool left = true; left;) {
    std::vector<size_t> open;
    for (size_t i = 0; i < flows.size(); ++i) {
      if (flows[i].next < flows[i].sends.size()) open.push_back(i);
    }
    left = !open.empty();
    if (!left) break;
    Flow& f = flows[open[rng() % open.size()]];
    std::string answer;
    grpc::Status s = UntilAnswered([&] { return f.sends[f.next].second(&answer); });
    ASSERT_TRUE(s.ok()) << s.error_message();
    // The same request again gets the first answer.
    auto [it, first] = first_answer.emplace(
        std::make_pair(static_cast<size_t>(&f - flows.data()), f.sends[f.next].first), answer);
    if (!first) {
      EXPECT_EQ(it->second, answer) << "a repeat got another answer";
    }
    ++f.next;
  }
  // The same key with other content is refused.
  Checkout out;
  EXPECT_EQ(Authorize(10, cards_[0], 99999, &out).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  perks::v1::RefundResult refund;
  EXPECT_EQ(Refund(11, IdOf(10), 2999, &refund).error_code(), grpc::StatusCode::ALREADY_EXISTS);

  int64_t bank_fen = 0;
  for (size_t i = 0; i < flows.size(); ++i) {
    perks::v1::GetCheckoutRequest req;
    req.set_checkout_id(IdOf(10 + static_cast<int>(i) * 2));
    Checkout c;
    ASSERT_TRUE(checkout_->GetCheckout(As(bozhou_).get(), req, &c).ok());
    EXPECT_EQ(c.state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
    EXPECT_EQ(c.refunds_size(), i % 2 == 0 ? 1 : 0);
    bank_fen += ShareOf(c, perks::v1::FUNDER_BANK);
    for (const auto& r : c.refunds()) {
      for (const auto& f : r.funding()) {
        if (f.funder() == perks::v1::FUNDER_BANK) bank_fen -= f.amount_fen();
      }
    }
  }
  EXPECT_EQ(Ledger().entries(), 6 + 3);
  perks::v1::GetBalancesRequest req;
  req.set_tenant_id("bozhou");
  perks::v1::GetBalancesResponse balances;
  ASSERT_TRUE(settle_->GetBalances(As(bozhou_).get(), req, &balances).ok());
  for (const auto& b : balances.balances()) {
    if (b.account() == "funder/bozhou/BANK") {
      EXPECT_EQ(b.balance_fen(), bank_fen);
    }
  }
}

// A confirmation an earlier version left undelivered in the outbox, under its key of then
// (outbox/<event id>), reaches the ledger on the next start, once; and the events after it too.
TEST_F(SettlementApiTest, AnEventLeftUnderTheOutboxsOldKeyIsDeliveredOnTheNextStart) {
  const std::vector<std::string> all = options_.services;
  RestartWith({"auth", "card", "merchant", "promotion", "checkout"});  // no ledger to send to
  Buy(1, cards_[0], 10000);
  server_.reset();
  {
    storage::DbOptions o;
    o.path = (std::filesystem::path(options_.data_dir) / "checkout").string();
    o.column_families = {"checkouts", "pending", "outbox"};
    o.schema_version = 1;
    auto db = storage::Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    const storage::Cf outbox = (*db)->Family("outbox");
    std::vector<std::pair<std::string, std::string>> kept;
    ASSERT_TRUE(ScanEach(**db, outbox, "", "", [&](std::string_view k, std::string_view v) {
                  kept.emplace_back(k, v);
                  return absl::OkStatus();
                }).ok());
    ASSERT_EQ(kept.size(), 1u);
    perks::v1::SettlementEvent event;
    ASSERT_TRUE(event.ParseFromString(kept[0].second));
    storage::GroupCommitWriter writer(db->get(), {});
    ASSERT_TRUE(writer
                    .Run([&](storage::Txn& txn) {
                      txn.Delete(outbox, kept[0].first);
                      txn.Put(outbox, storage::Key().Str("outbox").Str(event.event_id()).bytes(),
                              kept[0].second);
                      return absl::OkStatus();
                    })
                    .ok());
    writer.Stop();
    ASSERT_TRUE((*db)->Close().ok());
  }
  RestartWith(all);
  EXPECT_EQ(Ledger().entries(), 1);
  Buy(3, cards_[1], 10000);
  EXPECT_EQ(Ledger().entries(), 2);
  RestartWith(all);  // nothing is sent twice
  EXPECT_EQ(Ledger().entries(), 2);
}

}  // namespace
}  // namespace perks::testing
