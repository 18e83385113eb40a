// The five services as five processes, started by perks-launch: a checkout goes through all of
// them over gRPC and reaches the ledger, and each process's online backup restores it; kill -9 of a
// random service, again and again while tills check out (PERKS_LAUNCH_CRASH_CYCLES, default 20,
// within PERKS_LAUNCH_CRASH_SECONDS), loses no acknowledged checkout, counts none twice and
// overspends no budget.
//
// The installation (the Bozhou programs, a supermarket and its till, member cards) is set up
// in-process by BozhouTillTest; its databases are then moved into the layout of five processes,
// as an installation that outgrew perkd would be.
#include <filesystem>
#include <random>

#include "gtest/gtest.h"
#include "perks/v1/admin.grpc.pb.h"
#include "storage/test_dir.h"
#include "tests/support/bozhou_till_test.h"
#include "tests/support/checkout_audit.h"
#include "tests/support/env_or.h"
#include "tests/support/launched_services.h"

namespace perks::testing {
namespace {

namespace fs = std::filesystem;

class LaunchTest : public BozhouTillTest {
 protected:
  LaunchTest() { card_count_ = 24; }

  // Stops the in-process server and moves each service's database to <root>/<process>/.
  void SplitIntoProcesses() {
    server_.reset();
    root_ = dir_.path() + "/five";
    const std::pair<const char*, const char*> kMoves[] = {{"card", "card/card"},
                                                          {"auth", "merchant/auth"},
                                                          {"merchant", "merchant/merchant"},
                                                          {"promotion", "promotion/promotion"},
                                                          {"checkout", "checkout/checkout"},
                                                          {"settlement", "settlement/settlement"},
                                                          {"secrets", "secrets"}};
    for (const auto& [from, to] : kMoves) {
      fs::path target = fs::path(root_) / to;
      fs::create_directories(target.parent_path());
      fs::rename(fs::path(dir_.path()) / from, target);
    }
  }
  std::unique_ptr<LaunchedServices> Launch() {
    auto l = LaunchedServices::Start(PERKS_LAUNCH_PATH, root_, logs_.path() + "/launch.log",
                                     {"--shutdown-grace-seconds", "5"});
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? std::move(*l) : nullptr;
  }

  // Entries in the Bozhou ledger; it balances.
  int64_t LedgerEntries(const LaunchedServices& five) {
    auto settlement =
        perks::v1::SettlementService::NewStub(tools::MakeChannel(five.AddressOf("settlement")));
    perks::v1::CheckLedgerRequest req;
    req.set_tenant_id("bozhou");
    perks::v1::LedgerCheck check;
    grpc::Status s = settlement->CheckLedger(As(bozhou_).get(), req, &check);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(check.balanced());
    return check.entries();
  }

  std::string root_;
  storage::TestDir logs_;
};

TEST_F(LaunchTest, ACheckoutGoesThroughTheFiveProcessesReachesTheLedgerAndIsRestoredFromBackups) {
  SplitIntoProcesses();
  auto five = Launch();
  ASSERT_NE(five, nullptr);
  EXPECT_TRUE(five->bootstrap_token().empty()) << "the installation existed already";
  for (const char* s : {"card", "merchant", "promotion", "checkout", "settlement", "auth"}) {
    EXPECT_FALSE(five->AddressOf(s).empty()) << s;
  }
  EXPECT_NE(five->AddressOf("card"), five->AddressOf("checkout"));

  TillClient till(five->AddressOf("checkout"), till_, "20261203");
  Checkout out;
  grpc::Status s = till.Authorize(1, cards_[0], 10000, &out);  // the 100-yuan basket
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.discount_fen(), 3000);
  ASSERT_TRUE(till.Confirm(1, &out).ok());
  ASSERT_EQ(out.state(), perks::v1::CHECKOUT_STATE_CONFIRMED);
  // A clean stop delivers what checkout confirmed to settlement before settlement stops.
  EXPECT_EQ(five->Terminate(), 0);

  five = Launch();
  ASSERT_NE(five, nullptr);
  EXPECT_EQ(LedgerEntries(*five), 1);
  // An online backup of every process (as perkctl backup does: each its own databases), then a
  // second checkout the backups do not hold.
  std::map<std::string, std::string> backups;  // process -> its backup folder
  auto endpoints = tools::Endpoints::Parse(five->server());
  ASSERT_TRUE(endpoints.ok());
  for (const std::string& address : endpoints->AddressesCallersFirst()) {
    auto admin = perks::v1::AdminService::NewStub(tools::MakeChannel(address));
    perks::v1::BackupRequest req;
    perks::v1::BackupResponse resp;
    grpc::Status b = admin->Backup(As(admin_token_).get(), req, &resp);
    ASSERT_TRUE(b.ok()) << address << ": " << b.error_message();
    const std::string process = fs::path(resp.path()).parent_path().parent_path().filename();
    backups[process] = resp.path();
  }
  EXPECT_EQ(backups.size(), 5u);
  TillClient later(five->AddressOf("checkout"), till_, "20261203");  // the new ports
  s = later.Authorize(2, cards_[1], 10000, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(later.Confirm(2, &out).ok());
  EXPECT_EQ(five->Terminate(), 0);

  // Restoring: each process's data directory becomes its backup.
  for (const auto& [process, backup] : backups) {
    const fs::path data = fs::path(root_) / process;
    const fs::path kept = fs::path(root_) / (process + ".restored");
    fs::rename(backup, kept);
    fs::remove_all(data);
    fs::rename(kept, data);
  }
  five = Launch();
  ASSERT_NE(five, nullptr);
  EXPECT_EQ(LedgerEntries(*five), 1) << "the restored ledger is the backups' one";
  auto checkouts =
      perks::v1::CheckoutService::NewStub(tools::MakeChannel(five->AddressOf("checkout")));
  perks::v1::GetCheckoutRequest get;
  get.set_checkout_id(till.IdOf(1));
  Checkout first;
  EXPECT_TRUE(checkouts->GetCheckout(As(bozhou_).get(), get, &first).ok());
  get.set_checkout_id(till.IdOf(2));
  EXPECT_EQ(checkouts->GetCheckout(As(bozhou_).get(), get, &first).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // The restored processes take checkouts again: the keys came along with the backups.
  TillClient again(five->AddressOf("checkout"), till_, "20261203");
  ASSERT_TRUE(again.Authorize(3, cards_[2], 10000, &out).ok());
  EXPECT_EQ(out.discount_fen(), 3000);
  EXPECT_EQ(five->Terminate(), 0);
}

TEST_F(LaunchTest,
       KillNineOfARandomServiceDuringCheckoutsLosesNoAcknowledgedOneAndCountsNoneTwice) {
  const int64_t cycles = EnvOr("PERKS_LAUNCH_CRASH_CYCLES", 20);
  const absl::Duration bound = absl::Seconds(EnvOr("PERKS_LAUNCH_CRASH_SECONDS", 300));
  constexpr int kTills = 4;
  SplitIntoProcesses();
  auto five = Launch();
  ASSERT_NE(five, nullptr);

  Acknowledged ack;
  std::atomic<int> next_trace{1};
  std::atomic<bool> stop{false};
  std::mt19937 rng(20261203);
  std::vector<std::thread> tills;
  for (int t = 0; t < kTills; ++t) {
    tills.emplace_back(RunTill, five->AddressOf("checkout"), std::cref(till_), std::cref(cards_),
                       std::ref(next_trace), std::ref(stop), rng(), std::ref(ack),
                       /*through_outages=*/true);
  }
  const char* const kServices[] = {"card", "merchant", "promotion", "checkout", "settlement"};
  std::map<std::string, int> killed;
  const absl::Time began = absl::Now();
  int64_t done = 0;
  for (; done < cycles && absl::Now() - began < bound; ++done) {
    const std::string victim = kServices[rng() % 5];
    // The kill falls at a random moment of the load: this wait picks the moment, it does not
    // stand in for any synchronization.
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 400));
    // (EXPECT and break, not ASSERT: the tills must be stopped and joined whatever happens.)
    const pid_t pid = five->PidOf(victim);
    if (pid <= 0 || kill(pid, SIGKILL) != 0) {
      ADD_FAILURE() << victim << " is not running";
      break;
    }
    ++killed[victim];
    if (!five->WaitServing(victim, pid, absl::Seconds(60))) {
      ADD_FAILURE() << "the launcher did not bring " << victim << " back";
      break;
    }
  }
  stop.store(true);
  for (auto& t : tills) t.join();
  EXPECT_GE(done, std::min<int64_t>(cycles, 20)) << "the time bound ended the cycles early";
  // A clean stop lets checkout finish what the kills left and deliver its outbox.
  EXPECT_EQ(five->Terminate(), 0);

  five = Launch();
  ASSERT_NE(five, nullptr);
  auto checkouts =
      perks::v1::CheckoutService::NewStub(tools::MakeChannel(five->AddressOf("checkout")));
  auto settlement =
      perks::v1::SettlementService::NewStub(tools::MakeChannel(five->AddressOf("settlement")));
  auto promotions =
      perks::v1::PromotionService::NewStub(tools::MakeChannel(five->AddressOf("promotion")));
  AuditFigures figures;
  AuditAcknowledged(
      ack, checkouts.get(), settlement.get(), promotions.get(), [this] { return As(bozhou_); },
      &figures);
  std::cout << "cycles " << done << " (";
  for (const auto& [s, n] : killed) std::cout << s << " " << n << " ";
  std::cout << "), purchases tried " << ack.tried.size() << ", confirmed " << figures.confirmed
            << " (" << ack.confirmed.size() << " acknowledged), refunds " << figures.refunds << " ("
            << ack.refunds.size() << " acknowledged), ledger entries " << figures.ledger_entries
            << "\n";
  for (const auto& [why, n] : ack.refused)
    std::cout << "  authorize refused " << n << ": " << why << "\n";
  EXPECT_EQ(five->Terminate(), 0);
}

}  // namespace
}  // namespace perks::testing
