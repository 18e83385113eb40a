// What the crash tests share: tills whose acknowledged answers are recorded, and the audit
// that every acknowledged confirmation and refund is in its checkout, the ledger holds exactly
// the confirmed discounts less the refunds, per funder, once each, it balances, and the
// campaigns' budgets count exactly what was confirmed (the Bozhou programs of BozhouTillTest).
#ifndef PERKS_TESTS_SUPPORT_CHECKOUT_AUDIT_H_
#define PERKS_TESTS_SUPPORT_CHECKOUT_AUDIT_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "perks/v1/checkout.grpc.pb.h"
#include "perks/v1/promotion.grpc.pb.h"
#include "perks/v1/settlement.grpc.pb.h"
#include "tests/support/till_client.h"

namespace perks::testing {

// What the tills were told.
struct Acknowledged {
  std::mutex mu;
  std::set<std::string> tried;         // every purchase a till sent
  std::set<std::string> confirmed;     // purchases answered CONFIRMED
  std::set<std::string> refunds;       // refund ids answered
  std::map<std::string, int> refused;  // authorizations not answered, by why (for the report)
};

// One till's traffic against the checkout service at `address` until `stop`: purchases with its
// own trace numbers, a tenth reversed instead of confirmed, a tenth of the confirmed ones
// refunded in part. An UNAVAILABLE answer to an authorization ends it (the server was killed),
// unless `through_outages`: then the till pauses, as a cashier would, and goes on.
inline void RunTill(const std::string& address, const tools::TerminalCredentials& till,
                    const std::vector<std::string>& cards, std::atomic<int>& next_trace,
                    std::atomic<bool>& stop, uint32_t seed, Acknowledged& ack,
                    bool through_outages) {
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
      if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
        if (!through_outages) return;  // killed: wait for the next start
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // pacing, not a sync
        continue;
      }
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

struct AuditFigures {
  int64_t confirmed = 0;
  int64_t refunds = 0;
  int64_t ledger_entries = 0;
};

// The audit, as the city admin whose calls `as` makes contexts for.
inline void AuditAcknowledged(const Acknowledged& ack, perks::v1::CheckoutService::Stub* checkouts,
                              perks::v1::SettlementService::Stub* settlement,
                              perks::v1::PromotionService::Stub* promotions,
                              const std::function<std::unique_ptr<grpc::ClientContext>()>& as,
                              AuditFigures* figures) {
  using perks::v1::Checkout;
  std::map<std::string, int64_t> expected_fen;  // funder account -> what it owes
  int64_t entries = 0, confirmed = 0, budget_bank_fen = 0;
  std::set<std::string> refunds_seen;
  for (const std::string& id : ack.tried) {
    perks::v1::GetCheckoutRequest req;
    req.set_checkout_id(id);
    Checkout c;
    grpc::Status s = checkouts->GetCheckout(as().get(), req, &c);
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
  ASSERT_TRUE(settlement->CheckLedger(as().get(), check_req, &check).ok());
  EXPECT_TRUE(check.balanced());
  EXPECT_EQ(check.entries(), entries) << "each confirmed discount and refund once";
  perks::v1::GetBalancesRequest balances_req;
  balances_req.set_tenant_id("bozhou");
  perks::v1::GetBalancesResponse balances;
  ASSERT_TRUE(settlement->GetBalances(as().get(), balances_req, &balances).ok());
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
  ASSERT_TRUE(promotions->GetBudgets(as().get(), budgets_req, &budgets).ok());
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
  figures->confirmed = confirmed;
  figures->refunds = static_cast<int64_t>(refunds_seen.size());
  figures->ledger_entries = check.entries();
}

}  // namespace perks::testing

#endif  // PERKS_TESTS_SUPPORT_CHECKOUT_AUDIT_H_
