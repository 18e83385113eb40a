// kill -9 of perkd at random moments while tills authorize, confirm, reverse and refund; restart;
// again, PERKS_CHECKOUT_CRASH_CYCLES times (default 50). Then one clean restart and stop, which
// finishes what was left in the middle and delivers the outbox, and the check: every
// acknowledged confirmation and refund is in its checkout; the ledger holds exactly the
// confirmed discounts less the refunds, per funder, once each; it balances; the campaigns'
// budgets count exactly what was confirmed.
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "perks/v1/settlement.grpc.pb.h"
#include "storage/test_dir.h"
#include "tests/support/bozhou_till_test.h"
#include "tests/support/checkout_audit.h"
#include "tests/support/child_server.h"
#include "tests/support/env_or.h"

namespace perks::testing {
namespace {

class CheckoutCrashTest : public BozhouTillTest {
 protected:
  CheckoutCrashTest() { card_count_ = 48; }
};

TEST_F(CheckoutCrashTest, KillNineDuringCheckoutsLosesNoAcknowledgedDiscountAndCountsNoneTwice) {
  const int64_t cycles = EnvOr("PERKS_CHECKOUT_CRASH_CYCLES", 50);
  const absl::Duration bound = absl::Seconds(EnvOr("PERKS_CHECKOUT_CRASH_SECONDS", 300));
  constexpr int kTills = 4;
  // The program, the shop, its till and the cards were set up in-process; from here on the same
  // data is served by a real perkd process, on the real clock.
  server_.reset();
  storage::TestDir logs;
  const std::string log = logs.path() + "/perkd.log";
  auto start = [&] {
    auto child = ChildServer::Start(PERKD_PATH, dir_.path(), log);
    EXPECT_TRUE(child.ok()) << child.status();
    return std::move(*child);
  };

  Acknowledged ack;
  std::atomic<int> next_trace{1};
  std::mt19937 rng(20261202);
  const absl::Time began = absl::Now();
  int64_t done = 0;
  for (; done < cycles && absl::Now() - began < bound; ++done) {
    ChildServer child = start();
    std::atomic<bool> stop{false};
    std::vector<std::thread> tills;
    for (int t = 0; t < kTills; ++t) {
      tills.emplace_back(RunTill, child.address(), std::cref(till_), std::cref(cards_),
                         std::ref(next_trace), std::ref(stop), rng(), std::ref(ack),
                         /*through_outages=*/false);
    }
    // The kill falls at a random moment of the load: this wait picks the moment, it does not
    // stand in for any synchronization.
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 250));
    child.Kill();
    stop.store(true);
    for (auto& t : tills) t.join();
  }
  EXPECT_GE(done, std::min<int64_t>(cycles, 50)) << "the time bound ended the cycles early";
  {
    // A clean start finishes what each kill left in the middle; a clean stop delivers the outbox.
    ChildServer child = start();
    EXPECT_EQ(child.Terminate(), 0);
  }
  ChildServer child = start();
  auto channel = tools::MakeChannel(child.address());
  auto checkouts = perks::v1::CheckoutService::NewStub(channel);
  auto settlement = perks::v1::SettlementService::NewStub(channel);
  auto promotions = perks::v1::PromotionService::NewStub(channel);

  AuditFigures figures;
  AuditAcknowledged(
      ack, checkouts.get(), settlement.get(), promotions.get(), [this] { return As(bozhou_); },
      &figures);
  std::cout << "cycles " << done << ", purchases tried " << ack.tried.size() << ", confirmed "
            << figures.confirmed << " (" << ack.confirmed.size() << " acknowledged), refunds "
            << figures.refunds << " (" << ack.refunds.size() << " acknowledged), ledger entries "
            << figures.ledger_entries << "\n";
  for (const auto& [why, n] : ack.refused)
    std::cout << "  authorize refused " << n << ": " << why << "\n";
}

}  // namespace
}  // namespace perks::testing
