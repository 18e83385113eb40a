// The card service over real gRPC on 127.0.0.1, port 0, with an injected clock.
#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "perks/v1/admin.grpc.pb.h"
#include "perks/v1/card.grpc.pb.h"
#include "services/common/clock.h"
#include "services/common/log.h"
#include "services/common/money.h"
#include "services/common/personal.h"
#include "services/perkd/server.h"
#include "storage/test_dir.h"
#include "tools/common/client.h"
#include "tools/common/member_gen.h"

namespace perks {
namespace {

using namespace perks::v1;

std::vector<std::string>* g_log_lines = nullptr;
std::mutex g_log_mu;
void CaptureLog(std::string_view line) {
  std::lock_guard<std::mutex> lock(g_log_mu);
  if (g_log_lines) g_log_lines->emplace_back(line);
}

class CardApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogSink(&CaptureLog);
    g_log_lines = &log_lines_;
    Start();
  }
  void TearDown() override {
    server_.reset();
    SetLogSink(nullptr);
    g_log_lines = nullptr;
  }
  void Start(int message_bytes_max = 4 << 20) {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.data_dir = dir_.path();
    o.clock = &clock_;
    o.message_bytes_max = message_bytes_max;
    auto server = Server::Start(o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    if (token_.empty()) token_ = server_->bootstrap_token();  // made by the first start only
    channel_ = tools::MakeChannel("127.0.0.1:" + std::to_string(server_->port()));
    stub_ = CardService::NewStub(channel_);
  }
  void Restart() {
    server_.reset();
    Start();
  }
  std::unique_ptr<grpc::ClientContext> Ctx() {
    return tools::MakeContext(absl::Seconds(30), token_);
  }

  void CreateProgram(const std::string& id = "bozhou-member") {
    CreateProgramRequest req;
    req.set_request_id("program-" + id);
    req.mutable_program()->set_program_id(id);
    req.mutable_program()->set_tenant_id("bozhou");
    req.mutable_program()->set_name("亳州工会会员卡");
    req.mutable_program()->set_bin_prefix("623668");
    req.mutable_program()->set_card_number_length(19);
    Program resp;
    ASSERT_TRUE(stub_->CreateProgram(Ctx().get(), req, &resp).ok());
  }

  ImportMembersRequest Rows(uint64_t first, uint64_t count, const std::string& request_id) {
    ImportMembersRequest req;
    req.set_request_id(request_id);
    req.set_tenant_id("bozhou");
    tools::MemberGenerator gen(9);
    for (uint64_t i = first; i < first + count; ++i) {
      tools::SyntheticMember m = gen.Row(i);
      MemberRow* row = req.add_rows();
      row->set_line(static_cast<int64_t>(i + 2));
      row->set_name(m.name);
      row->set_id_number(m.id_number);
      row->set_phone(m.phone);
      row->set_org_code(m.org_code);
      for (const auto& t : m.tags) row->add_tags(t);
    }
    return req;
  }

  grpc::Status Import(const ImportMembersRequest& req, ImportMembersResponse* resp) {
    return stub_->ImportMembers(Ctx().get(), req, resp);
  }

  // Imports `count` members with cards and exports their full numbers.
  std::vector<ExportedCard> Issue(uint64_t count) {
    CreateProgram();
    ImportMembersRequest req = Rows(0, count, "seed-import");
    req.set_issue_program_id("bozhou-member");
    req.set_issue_batch_id("batch-1");
    ImportMembersResponse resp;
    EXPECT_TRUE(Import(req, &resp).ok());
    ExportCardsRequest ex;
    ex.set_batch_id("batch-1");
    ExportCardsResponse out;
    EXPECT_TRUE(stub_->ExportCards(Ctx().get(), ex, &out).ok());
    return {out.cards().begin(), out.cards().end()};
  }

  CardRef Ref(const std::string& number) {
    CardRef r;
    r.set_card_number(number);
    return r;
  }

  grpc::Status Act(const std::string& number, CardAction action, Card* out,
                   const std::string& request_id) {
    ChangeCardStateRequest req;
    req.set_request_id(request_id);
    *req.mutable_card() = Ref(number);
    req.set_action(action);
    return stub_->ChangeCardState(Ctx().get(), req, out);
  }

  grpc::Status CreditFen(const std::string& number, int64_t fen, const std::string& request_id,
                         BalanceChange* out) {
    CreditBalanceRequest req;
    req.set_request_id(request_id);
    *req.mutable_card() = Ref(number);
    req.set_balance_name("transit");
    req.set_kind(BALANCE_KIND_TRANSIT_CREDIT);
    req.set_amount_fen(fen);
    return stub_->CreditBalance(Ctx().get(), req, out);
  }

  grpc::Status DebitFen(const std::string& number, int64_t fen, const std::string& request_id,
                        BalanceChange* out) {
    DebitBalanceRequest req;
    req.set_request_id(request_id);
    *req.mutable_card() = Ref(number);
    req.set_balance_name("transit");
    req.set_amount_fen(fen);
    return stub_->DebitBalance(Ctx().get(), req, out);
  }

  int HistoryLength(const std::string& number) {
    ListCardHistoryRequest req;
    *req.mutable_card() = Ref(number);
    ListCardHistoryResponse resp;
    EXPECT_TRUE(stub_->ListCardHistory(Ctx().get(), req, &resp).ok());
    return resp.entries_size();
  }

  storage::TestDir dir_;
  ManualClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  std::unique_ptr<Server> server_;
  std::string token_;  // the installation admin's
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<CardService::Stub> stub_;
  std::vector<std::string> log_lines_;
};

TEST_F(CardApiTest, ServesHealth) {
  auto status = tools::CheckHealth(channel_, "", absl::Seconds(10));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, "SERVING");
  EXPECT_EQ(*tools::CheckHealth(channel_, "perks.v1.CardService", absl::Seconds(10)), "SERVING");
}

TEST_F(CardApiTest, ImportIssuesOneCardPerMemberAndLookupIsMasked) {
  std::vector<ExportedCard> cards = Issue(50);
  ASSERT_EQ(cards.size(), 50u);
  LookupCardRequest req;
  *req.mutable_card() = Ref(cards[0].card_number());
  Card card;
  ASSERT_TRUE(stub_->LookupCard(Ctx().get(), req, &card).ok());
  EXPECT_EQ(card.state(), CARD_STATE_ISSUED);
  EXPECT_EQ(card.program_id(), "bozhou-member");
  EXPECT_EQ(card.card_number_masked(), MaskCardNumber(cards[0].card_number()));
  EXPECT_EQ(card.SerializeAsString().find(cards[0].card_number()), std::string::npos);
}

TEST_F(CardApiTest, ReimportingTheSameRowsChangesNothing) {
  Issue(20);
  ImportMembersRequest again = Rows(0, 20, "second-import");
  again.set_issue_program_id("bozhou-member");
  again.set_issue_batch_id("batch-1");
  ImportMembersResponse resp;
  ASSERT_TRUE(Import(again, &resp).ok());
  EXPECT_EQ(resp.created(), 0);
  EXPECT_EQ(resp.updated(), 0);
  EXPECT_EQ(resp.unchanged(), 20);
  EXPECT_EQ(resp.cards_issued(), 0);
}

TEST_F(CardApiTest, BadRowsAreReportedByLineAndGoodRowsGoIn) {
  CreateProgram();
  ImportMembersRequest req = Rows(0, 5, "mixed");
  std::string id = req.rows(2).id_number();
  id[17] = id[17] == '1' ? '2' : '1';  // a wrong check character
  req.mutable_rows(2)->set_id_number(id);
  req.mutable_rows(4)->set_name("");
  ImportMembersResponse resp;
  ASSERT_TRUE(Import(req, &resp).ok());
  EXPECT_EQ(resp.created(), 3);
  ASSERT_EQ(resp.rejected_size(), 2);
  EXPECT_EQ(resp.rejected(0).line(), req.rows(2).line());
  EXPECT_NE(resp.rejected(0).reason().find("check character"), std::string::npos);
  EXPECT_EQ(resp.rejected(1).line(), req.rows(4).line());
  EXPECT_EQ(resp.rejected(0).reason().find(id), std::string::npos);  // never echoed whole
}

TEST_F(CardApiTest, MemberIsFoundByIdNumberButAnswersCarryOnlyItsLastFour) {
  CreateProgram();
  ImportMembersRequest req = Rows(0, 1, "one");
  ImportMembersResponse resp;
  ASSERT_TRUE(Import(req, &resp).ok());
  GetMemberRequest get;
  get.set_tenant_id("bozhou");
  get.set_id_number(req.rows(0).id_number());
  Member m;
  ASSERT_TRUE(stub_->GetMember(Ctx().get(), get, &m).ok());
  EXPECT_EQ(m.id_number_last4(), req.rows(0).id_number().substr(14));
  EXPECT_EQ(m.SerializeAsString().find(req.rows(0).id_number()), std::string::npos);
  EXPECT_EQ(m.SerializeAsString().find(req.rows(0).phone()), std::string::npos);
}

TEST_F(CardApiTest, SecondCardInSameProgramIsRefusedAsAlreadyHeld) {
  std::vector<ExportedCard> cards = Issue(1);
  IssueCardsRequest req;
  req.set_request_id("issue-again");
  req.set_program_id("bozhou-member");
  req.add_member_ids(cards[0].member_id());
  IssueCardsResponse resp;
  ASSERT_TRUE(stub_->IssueCards(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.issued(), 0);
  ASSERT_EQ(resp.already_held_size(), 1);
}

TEST_F(CardApiTest, LifecycleToReplacementMovesBalances) {
  std::string number = Issue(1)[0].card_number();
  Card card;
  ASSERT_TRUE(Act(number, CARD_ACTION_ACTIVATE, &card, "a1").ok());
  BalanceChange change;
  ASSERT_TRUE(CreditFen(number, 3000, "c1", &change).ok());
  ASSERT_TRUE(Act(number, CARD_ACTION_FREEZE, &card, "a2").ok());
  ASSERT_TRUE(Act(number, CARD_ACTION_REPORT_LOST, &card, "a3").ok());
  EXPECT_EQ(card.state(), CARD_STATE_LOST);
  ReplaceCardRequest rep;
  rep.set_request_id("r1");
  *rep.mutable_card() = Ref(number);
  ReplaceCardResponse replaced;
  ASSERT_TRUE(stub_->ReplaceCard(Ctx().get(), rep, &replaced).ok());
  EXPECT_EQ(replaced.old_card().state(), CARD_STATE_REPLACED);
  EXPECT_EQ(replaced.old_card().balances_size(), 0);
  ASSERT_EQ(replaced.new_card().balances_size(), 1);
  EXPECT_EQ(replaced.new_card().balances(0).amount_fen(), 3000);
  EXPECT_NE(replaced.new_card().card_number_masked(), replaced.old_card().card_number_masked());
  EXPECT_EQ(replaced.new_card().replaces_card_id(), replaced.old_card().card_id());
  // The old number is dead for spending; the member's one place is the new card.
  EXPECT_EQ(Act(number, CARD_ACTION_ACTIVATE, &card, "a4").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(CardApiTest, ClosingAReplacedCardLeavesTheNewCardHoldingTheMembersPlace) {
  std::vector<ExportedCard> cards = Issue(1);
  std::string number = cards[0].card_number();
  Card card;
  ASSERT_TRUE(Act(number, CARD_ACTION_ACTIVATE, &card, "a1").ok());
  ReplaceCardRequest rep;
  rep.set_request_id("r1");
  *rep.mutable_card() = Ref(number);
  ReplaceCardResponse replaced;
  ASSERT_TRUE(stub_->ReplaceCard(Ctx().get(), rep, &replaced).ok());
  ASSERT_TRUE(Act(number, CARD_ACTION_CLOSE, &card, "close-old").ok());
  EXPECT_EQ(card.state(), CARD_STATE_CLOSED);
  IssueCardsRequest req;
  req.set_request_id("issue-again");
  req.set_program_id("bozhou-member");
  req.add_member_ids(cards[0].member_id());
  IssueCardsResponse resp;
  ASSERT_TRUE(stub_->IssueCards(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.issued(), 0);
  EXPECT_EQ(resp.already_held_size(), 1);
}

TEST_F(CardApiTest, InvalidTransitionIsRefusedAndWritesNothing) {
  std::string number = Issue(1)[0].card_number();
  int before = HistoryLength(number);
  Card card;
  grpc::Status s = Act(number, CARD_ACTION_UNFREEZE, &card, "bad");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("card is issued"), std::string::npos) << s.error_message();
  EXPECT_EQ(HistoryLength(number), before);
  // Refusals are not recorded: the same request id may be used once the card allows it.
  ASSERT_TRUE(Act(number, CARD_ACTION_ACTIVATE, &card, "a1").ok());
}

TEST_F(CardApiTest, UnknownCardIsNotFound) {
  LookupCardRequest req;
  *req.mutable_card() = Ref("6236680000000000001");  // Luhn-valid, never issued
  Card card;
  EXPECT_EQ(stub_->LookupCard(Ctx().get(), req, &card).error_code(), grpc::StatusCode::NOT_FOUND);
  req.mutable_card()->set_card_number("6236680000000000007");  // fails its check digit
  EXPECT_EQ(stub_->LookupCard(Ctx().get(), req, &card).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(CardApiTest, RetriedCreditCountsOnceAndReusedIdWithOtherContentIsRefused) {
  std::string number = Issue(1)[0].card_number();
  Card card;
  ASSERT_TRUE(Act(number, CARD_ACTION_ACTIVATE, &card, "a1").ok());
  BalanceChange first, second, third;
  ASSERT_TRUE(CreditFen(number, 3000, "credit-1", &first).ok());
  ASSERT_TRUE(CreditFen(number, 3000, "credit-1", &second).ok());
  EXPECT_EQ(first.SerializeAsString(), second.SerializeAsString());
  EXPECT_EQ(second.balance().amount_fen(), 3000);
  grpc::Status s = CreditFen(number, 5000, "credit-1", &third);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(s.error_message().find("different request"), std::string::npos);
  LookupCardRequest req;
  *req.mutable_card() = Ref(number);
  ASSERT_TRUE(stub_->LookupCard(Ctx().get(), req, &card).ok());
  EXPECT_EQ(card.balances(0).amount_fen(), 3000);
}

TEST_F(CardApiTest, NegativeOverflowingAndBelowZeroAmountsAreRefused) {
  std::string number = Issue(1)[0].card_number();
  Card card;
  ASSERT_TRUE(Act(number, CARD_ACTION_ACTIVATE, &card, "a1").ok());
  BalanceChange change;
  EXPECT_EQ(CreditFen(number, -100, "neg", &change).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CreditFen(number, std::numeric_limits<int64_t>::max(), "huge", &change).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(CreditFen(number, kAmountFenMax, "max", &change).ok());
  EXPECT_EQ(CreditFen(number, 1, "over", &change).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(DebitFen(number, kAmountFenMax + 1, "below", &change).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(DebitFen(number, kAmountFenMax - 5, "most", &change).ok());
  int before = HistoryLength(number);
  grpc::Status s = DebitFen(number, 6, "too-much", &change);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("holds 0.05 yuan"), std::string::npos) << s.error_message();
  EXPECT_EQ(HistoryLength(number), before);
}

TEST_F(CardApiTest, ConcurrentDebitsNeverOverdraw) {
  std::string number = Issue(1)[0].card_number();
  Card card;
  ASSERT_TRUE(Act(number, CARD_ACTION_ACTIVATE, &card, "a1").ok());
  BalanceChange change;
  ASSERT_TRUE(CreditFen(number, 1000, "fund", &change).ok());
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        BalanceChange c;
        if (DebitFen(number, 30, "d-" + std::to_string(t) + "-" + std::to_string(i), &c).ok()) {
          ++granted;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), 33);  // 1000 / 30
  LookupCardRequest req;
  *req.mutable_card() = Ref(number);
  ASSERT_TRUE(stub_->LookupCard(Ctx().get(), req, &card).ok());
  EXPECT_EQ(card.balances(0).amount_fen(), 10);
}

TEST_F(CardApiTest, VoucherExpiresByTheInjectedClock) {
  std::string number = Issue(1)[0].card_number();
  Card card;
  ASSERT_TRUE(Act(number, CARD_ACTION_ACTIVATE, &card, "a1").ok());
  CreditBalanceRequest credit;
  credit.set_request_id("voucher");
  *credit.mutable_card() = Ref(number);
  credit.set_balance_name("warm-heart");
  credit.set_kind(BALANCE_KIND_VOUCHER);
  credit.set_amount_fen(55000);
  credit.add_allowed_categories("farm_produce");
  credit.set_expires_at_unix_ms(absl::ToUnixMillis(clock_.Now() + absl::Hours(24)));
  BalanceChange change;
  ASSERT_TRUE(stub_->CreditBalance(Ctx().get(), credit, &change).ok());
  DebitBalanceRequest debit;
  debit.set_request_id("spend-1");
  *debit.mutable_card() = Ref(number);
  debit.set_balance_name("warm-heart");
  debit.set_amount_fen(5000);
  debit.set_merchant_category("farm_produce");
  ASSERT_TRUE(stub_->DebitBalance(Ctx().get(), debit, &change).ok());
  EXPECT_EQ(change.balance().amount_fen(), 50000);
  clock_.Advance(absl::Hours(24));
  debit.set_request_id("spend-2");
  EXPECT_EQ(stub_->DebitBalance(Ctx().get(), debit, &change).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(CardApiTest, OversizeRequestIsRefusedAndWritesNothing) {
  server_.reset();
  Start(/*message_bytes_max=*/16 << 10);  // 1,000 rows are about 60 KiB
  CreateProgram();
  ImportMembersRequest req = Rows(0, 1000, "big");
  ImportMembersResponse resp;
  grpc::Status s = Import(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  GetMemberRequest get;
  get.set_tenant_id("bozhou");
  get.set_id_number(req.rows(0).id_number());
  Member m;
  EXPECT_EQ(stub_->GetMember(Ctx().get(), get, &m).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CardApiTest, TooManyRowsInOneCallIsInvalidArgument) {
  CreateProgram();
  ImportMembersResponse resp;
  EXPECT_EQ(Import(Rows(0, 1001, "too-many"), &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(CardApiTest, EverythingSurvivesARestart) {
  std::string number = Issue(3)[1].card_number();
  Card card;
  ASSERT_TRUE(Act(number, CARD_ACTION_ACTIVATE, &card, "a1").ok());
  Restart();
  LookupCardRequest req;
  *req.mutable_card() = Ref(number);
  ASSERT_TRUE(stub_->LookupCard(Ctx().get(), req, &card).ok());
  EXPECT_EQ(card.state(), CARD_STATE_ACTIVE);
  // The request id is remembered across the restart too.
  EXPECT_TRUE(Act(number, CARD_ACTION_ACTIVATE, &card, "a1").ok());
}

TEST_F(CardApiTest, OnlineBackupOpensAsADataDirectoryWithEverythingInIt) {
  std::string number = Issue(3)[0].card_number();
  auto admin = AdminService::NewStub(channel_);
  BackupRequest req;
  req.set_label("before-upgrade");
  BackupResponse backup;
  ASSERT_TRUE(admin->Backup(Ctx().get(), req, &backup).ok());
  EXPECT_NE(backup.path().find("before-upgrade"), std::string::npos);
  EXPECT_EQ(std::vector<std::string>(backup.services().begin(), backup.services().end()),
            (std::vector<std::string>{"auth", "card", "checkout", "merchant", "promotion",
                                      "settlement"}));
  Card card;
  ASSERT_TRUE(Act(number, CARD_ACTION_ACTIVATE, &card, "after-backup").ok());
  req.set_label("bad label!");
  EXPECT_EQ(admin->Backup(Ctx().get(), req, &backup).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Restoring is starting a server on the backup: the card is there, as it was then.
  server_.reset();
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.data_dir = backup.path();
  o.clock = &clock_;
  auto restored = Server::Start(o);
  ASSERT_TRUE(restored.ok()) << restored.status();
  auto stub =
      CardService::NewStub(tools::MakeChannel("127.0.0.1:" + std::to_string((*restored)->port())));
  LookupCardRequest lookup;
  *lookup.mutable_card() = Ref(number);
  ASSERT_TRUE(stub->LookupCard(Ctx().get(), lookup, &card).ok());
  EXPECT_EQ(card.state(), CARD_STATE_ISSUED);
  // The ID-number key came along: members are still found by their ID number.
  GetMemberRequest get;
  get.set_tenant_id("bozhou");
  get.set_id_number(Rows(0, 1, "x").rows(0).id_number());
  Member m;
  EXPECT_TRUE(stub->GetMember(Ctx().get(), get, &m).ok());
}

TEST_F(CardApiTest, LogsNeverCarryFullCardOrIdNumbers) {
  std::vector<ExportedCard> cards = Issue(5);
  Card card;
  for (const auto& c : cards) {
    Act(c.card_number(), CARD_ACTION_FREEZE, &card, "bad-" + c.card_id());  // refused: logged
  }
  ImportMembersRequest rows = Rows(0, 5, "ids");
  server_.reset();  // flushes the shutdown lines too
  std::lock_guard<std::mutex> lock(g_log_mu);
  ASSERT_FALSE(log_lines_.empty());
  for (const auto& line : log_lines_) {
    for (const auto& c : cards) EXPECT_EQ(line.find(c.card_number()), std::string::npos) << line;
    for (const auto& r : rows.rows()) EXPECT_EQ(line.find(r.id_number()), std::string::npos);
  }
}

}  // namespace
}  // namespace perks
