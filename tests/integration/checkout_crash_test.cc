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
#include "tests/support/child_server.h"
#include "tests/support/till_client.h"

namespace perks::testing {
namespace {

int64_t EnvOr(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoll(v) : fallback;
}

class CheckoutCrashTest : public BozhouTillTest {
 protected:
  CheckoutCrashTest() { card_count_ = 48; }
};

// What the tills were told.
struct Acknowledged {
  std::mutex mu;
  std::set<std::string> tried;         // every purchase a till sent
  std::set<std::string> confirmed;     // purchases answered CONFIRMED
  std::set<std::string> refunds;       // refund ids answered
  std::map<std::string, int> refused;  // authorizations not answered, by why (for the report)
};

// One till's traffic against `address` until `stop`: purchases with its own trace numbers, a
// tenth reversed instead of confirmed, a tenth of the confirmed ones refunded in part.
void Till(const std::string& address, const tools::TerminalCredentials& till,
          const std::vector<std::string>& cards, std::atomic<int>& next_trace,
          std::atomic<bool>& stop, uint32_t seed, Acknowledged& ack) {
  TillClient client(address, till, "20261202");
  std::mt19937 rng(seed);
  while (!stop.load()) {
    const int n = next_trace.fetch_add(1);
    const std::string id = client.IdOf(n);
    {
      std::lock_guard<std::mutex> lock(ack.mu);
      ack.tried.insert(id);
    }
    perks::v1::Checkout out;
    if (grpc::Status s = client.Authorize(n, cards[rng() % cards.size()],
                                          5000 + static_cast<int64_t>(rng() % 30000), &out);
        !s.ok()) {
      if (s.error_code() == grpc::StatusCode::UNAVAILABLE) return;  // killed: wait for the next
      std::lock_guard<std::mutex> lock(ack.mu);
      ++ack.refused[s.error_message().substr(0, 60)];
      continue;
    }
    if (rng() % 10 == 0) {
      (void)client.Reverse(n, &out);
      continue;
    }
    if (!client.Confirm(n, &out).ok()) continue;
    if (out.state() == perks::v1::CHECKOUT_STATE_CONFIRMED) {
      std::lock_guard<std::mutex> lock(ack.mu);
      ack.confirmed.insert(id);
    }
    if (rng() % 10 != 0) continue;
    perks::v1::RefundResult result;
    if (client.Refund(next_trace.fetch_add(1), id, 1 + static_cast<int64_t>(rng() % 4000), &result)
            .ok()) {
      std::lock_guard<std::mutex> lock(ack.mu);
      ack.refunds.insert(result.refund().refund_id());
    }
  }
}

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
      tills.emplace_back(Till, child.address(), std::cref(till_), std::cref(cards_),
                         std::ref(next_trace), std::ref(stop), rng(), std::ref(ack));
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

  std::map<std::string, int64_t> expected_fen;  // funder account -> what it owes
  int64_t entries = 0, confirmed = 0, budget_bank_fen = 0;
  std::set<std::string> refunds_seen;
  for (const std::string& id : ack.tried) {
    perks::v1::GetCheckoutRequest req;
    req.set_checkout_id(id);
    Checkout c;
    grpc::Status s = checkouts->GetCheckout(As(bozhou_).get(), req, &c);
    if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
      EXPECT_FALSE(ack.confirmed.contains(id)) << id << " was confirmed and is gone";
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.error_message();
    if (ack.confirmed.contains(id)) {
      EXPECT_EQ(c.state(), perks::v1::CHECKOUT_STATE_CONFIRMED) << id;
    }
    if (c.state() != perks::v1::CHECKOUT_STATE_CONFIRMED) continue;
    ++confirmed;
    if (c.discount_fen() > 0) ++entries;
    for (const auto& d : c.discounts()) {
      for (const auto& f : d.funding()) {
        expected_fen[absl::StrCat("funder/bozhou/",
                                  perks::v1::Funder_Name(f.funder()).substr(7))] += f.amount_fen();
        if (d.campaign_id() == "bozhou-supermarket-100-30" &&
            f.funder() == perks::v1::FUNDER_BANK) {
          budget_bank_fen += f.amount_fen();
        }
      }
    }
    for (const auto& r : c.refunds()) {
      refunds_seen.insert(r.refund_id());
      if (r.discount_fen() > 0) ++entries;
      for (const auto& f : r.funding()) {
        expected_fen[absl::StrCat("funder/bozhou/",
                                  perks::v1::Funder_Name(f.funder()).substr(7))] -= f.amount_fen();
      }
    }
  }
  for (const std::string& r : ack.refunds) {
    EXPECT_TRUE(refunds_seen.contains(r)) << "acknowledged refund " << r << " is gone";
  }
  ASSERT_GT(confirmed, 0);
  ASSERT_GT(entries, 0);

  perks::v1::CheckLedgerRequest check_req;
  check_req.set_tenant_id("bozhou");
  perks::v1::LedgerCheck check;
  ASSERT_TRUE(settlement->CheckLedger(As(bozhou_).get(), check_req, &check).ok());
  EXPECT_TRUE(check.balanced());
  EXPECT_EQ(check.entries(), entries) << "each confirmed discount and refund once";
  perks::v1::GetBalancesRequest balances_req;
  balances_req.set_tenant_id("bozhou");
  perks::v1::GetBalancesResponse balances;
  ASSERT_TRUE(settlement->GetBalances(As(bozhou_).get(), balances_req, &balances).ok());
  std::map<std::string, int64_t> funder_fen;
  for (const auto& b : balances.balances()) {
    if (b.account().rfind("funder/", 0) == 0) funder_fen[b.account()] = b.balance_fen();
  }
  EXPECT_EQ(funder_fen, expected_fen);

  // The bank's budget of the supermarket campaign counts exactly what was confirmed (refunds do
  // not return budget), and nothing beyond its limit.
  perks::v1::GetBudgetsRequest budgets_req;
  budgets_req.set_campaign_id("bozhou-supermarket-100-30");
  perks::v1::CampaignBudgets budgets;
  ASSERT_TRUE(promotions->GetBudgets(As(bozhou_).get(), budgets_req, &budgets).ok());
  bool saw_bank = false;
  for (const auto& use : budgets.budgets()) {
    if (!use.unlimited()) {
      EXPECT_LE(use.used() + use.held(), use.limit()) << use.name();
    }
    if (use.name() == "bank") {
      saw_bank = true;
      EXPECT_EQ(use.used(), budget_bank_fen);
    }
  }
  EXPECT_TRUE(saw_bank);
  std::cout << "cycles " << done << ", purchases tried " << ack.tried.size() << ", confirmed "
            << confirmed << " (" << ack.confirmed.size() << " acknowledged), refunds "
            << refunds_seen.size() << " (" << ack.refunds.size()
            << " acknowledged), ledger entries " << check.entries() << "\n";
  for (const auto& [why, n] : ack.refused)
    std::cout << "  authorize refused " << n << ": " << why << "\n";
}

}  // namespace
}  // namespace perks::testing
