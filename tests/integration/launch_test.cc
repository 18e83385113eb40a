// The five services as five processes, started by perks-launch: a checkout goes through all of
// them over gRPC and reaches the ledger; kill -9 of a random service, again and again while
// tills check out (PERKS_LAUNCH_CRASH_CYCLES, default 20, within PERKS_LAUNCH_CRASH_SECONDS),
// loses no acknowledged checkout, counts none twice and overspends no budget.
//
// The installation (the Bozhou programs, a supermarket and its till, member cards) is set up
// in-process by BozhouTillTest; its databases are then moved into the layout of five processes,
// as an installation that outgrew perkd would be.
#include <filesystem>
#include <random>

#include "gtest/gtest.h"
#include "storage/test_dir.h"
#include "tests/support/bozhou_till_test.h"
#include "tests/support/checkout_audit.h"
#include "tests/support/launched_services.h"

namespace perks::testing {
namespace {

namespace fs = std::filesystem;

int64_t EnvOr(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoll(v) : fallback;
}

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

  std::string root_;
  storage::TestDir logs_;
};

TEST_F(LaunchTest, ACheckoutGoesThroughTheFiveProcessesAndReachesTheLedgerOnce) {
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
  auto settlement =
      perks::v1::SettlementService::NewStub(tools::MakeChannel(five->AddressOf("settlement")));
  perks::v1::CheckLedgerRequest req;
  req.set_tenant_id("bozhou");
  perks::v1::LedgerCheck check;
  ASSERT_TRUE(settlement->CheckLedger(As(bozhou_).get(), req, &check).ok());
  EXPECT_TRUE(check.balanced());
  EXPECT_EQ(check.entries(), 1);
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
    const pid_t pid = five->PidOf(victim);
    ASSERT_GT(pid, 0) << victim << " is not running";
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    ++killed[victim];
    ASSERT_TRUE(five->WaitServing(victim, pid, absl::Seconds(60)))
        << "the launcher did not bring " << victim << " back";
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
