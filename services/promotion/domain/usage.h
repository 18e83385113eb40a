// What has been used and what is held against every limit and budget, in memory, and the one
// place that decides whether a discount still fits. A reservation is evaluated and held under
// one lock, so no interleaving of reservations can take a limit past its value.
//
// Counted per campaign (by id, so a new version keeps counting): the campaign's total (fen and
// count), each funder's share (fen), each member per day, week and month (Asia/Shanghai) and over
// the campaign, and each merchant per day. Held amounts count against limits like used ones.
#ifndef PERKS_SERVICES_PROMOTION_DOMAIN_USAGE_H_
#define PERKS_SERVICES_PROMOTION_DOMAIN_USAGE_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "services/promotion/domain/engine.h"

namespace perks::promotion {

// One discount held for a reservation: enough to count it, and to uncount it, without the rule
// set that granted it.
struct Hold {
  std::string campaign_id;
  int32_t version = 0;
  int64_t amount_fen = 0;
  std::vector<perks::v1::FundedShare> funding;
  std::string member_id;
  std::string merchant_id;
  int64_t day = 0, week = 0, month = 0;  // Asia/Shanghai period numbers (calendar.h)
};

struct Counter {
  int64_t used_fen = 0, used_count = 0;
  int64_t held_fen = 0, held_count = 0;
  int64_t fen() const { return used_fen + held_fen; }
  int64_t count() const { return used_count + held_count; }
};

class UsageBook final : public UsageView {
 public:
  // UsageView, for evaluations that hold nothing (Evaluate): a consistent read under the lock.
  NotAppliedReason Allows(const CompiledCampaign& campaign, const perks::v1::Basket& basket,
                          const LocalMoment& local, int64_t discount_fen) const override;

  // Evaluates `basket` against `rules` with every limit and budget, and holds what applies.
  // Atomic with respect to every other call on this book.
  std::vector<Hold> Reserve(const RuleSet& rules, const perks::v1::Basket& basket, EvalResult& out);
  // Holds grants the same way (a grant is a discount paid to a balance).
  std::vector<Hold> ReserveGrants(const RuleSet& rules, perks::v1::GrantEvent event,
                                  const perks::v1::Basket& member, int64_t claim_fen,
                                  const std::string& campaign_id, GrantAnswer& out);
  // What was held becomes used; or returns (released, expired). Each exactly once per hold.
  void Commit(const std::vector<Hold>& holds);
  void Release(const std::vector<Hold>& holds);
  // Counts holds still held before a restart.
  void Restore(const std::vector<Hold>& holds);
  // Sets what was used of the counter `key` (from ForEachCounter), on start.
  void LoadUsed(const std::string& key, int64_t used_fen, int64_t used_count);
  // Every counter a hold counts against, with the fen it adds there (and a count of one).
  template <typename Visit>
  static void ForEachCounter(const Hold& h, Visit visit);

  // The counter `key` (from ForEachCounter): zero if nothing was ever held or used there.
  Counter Of(const std::string& key) const;
  // The campaign's total, or one funder's share of it (fen only).
  Counter CampaignTotal(const std::string& campaign_id) const;
  Counter FunderTotal(const std::string& campaign_id, perks::v1::Funder funder) const;

 private:
  // Allows, with mu_ held.
  NotAppliedReason AllowsLocked(const CompiledCampaign& c, const perks::v1::Basket& basket,
                                const LocalMoment& local, int64_t discount_fen) const;
  static std::string CampaignKey(const std::string& c);
  static std::string FunderKey(const std::string& c, perks::v1::Funder f);
  static std::string MemberKey(const char* period, const std::string& c, const std::string& member,
                               int64_t n);
  static std::string MerchantDayKey(const std::string& c, const std::string& merchant, int64_t day);

  // Adds `sign` times the hold to every counter it touches, as held (or used).
  void Apply(const Hold& h, int sign, bool used);
  Hold MakeHold(const CompiledCampaign& c, const perks::v1::Basket& basket,
                int64_t amount_fen) const;
  const Counter* Find(const std::string& key) const;

  // A view that reads with mu_ already held, for evaluations inside Reserve.
  class Locked final : public UsageView {
   public:
    explicit Locked(const UsageBook& book) : book_(book) {}
    NotAppliedReason Allows(const CompiledCampaign& c, const perks::v1::Basket& basket,
                            const LocalMoment& local, int64_t discount_fen) const override {
      return book_.AllowsLocked(c, basket, local, discount_fen);
    }

   private:
    const UsageBook& book_;
  };

  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Counter> counters_;
};

template <typename Visit>
void UsageBook::ForEachCounter(const Hold& h, Visit visit) {
  visit(CampaignKey(h.campaign_id), h.amount_fen);
  for (const auto& share : h.funding) {
    visit(FunderKey(h.campaign_id, share.funder()), share.amount_fen());
  }
  if (!h.member_id.empty()) {
    visit(MemberKey("mc", h.campaign_id, h.member_id, 0), h.amount_fen);
    visit(MemberKey("md", h.campaign_id, h.member_id, h.day), h.amount_fen);
    visit(MemberKey("mw", h.campaign_id, h.member_id, h.week), h.amount_fen);
    visit(MemberKey("mm", h.campaign_id, h.member_id, h.month), h.amount_fen);
  }
  visit(MerchantDayKey(h.campaign_id, h.merchant_id, h.day), h.amount_fen);
}

}  // namespace perks::promotion

#endif  // PERKS_SERVICES_PROMOTION_DOMAIN_USAGE_H_
