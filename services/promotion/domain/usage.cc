#include "services/promotion/domain/usage.h"

#include "absl/strings/str_cat.h"
#include "services/promotion/domain/funding.h"

namespace perks::promotion {
namespace {

constexpr char kSep[] = "\x1f";  // cannot appear in ids

// Whether one more use of `add_fen` stays within both limits (0 = none).
bool Fits(const Counter* k, int64_t add_fen, int64_t fen_max, int64_t count_max) {
  int64_t fen = k ? k->fen() : 0;
  int64_t count = k ? k->count() : 0;
  if (fen_max > 0 && fen + add_fen > fen_max) return false;
  if (count_max > 0 && count + 1 > count_max) return false;
  return true;
}

bool HasMemberLimits(const CompiledCampaign& c) {
  const auto& m = c.spec().member_limits();
  return c.member_per_campaign_count > 0 || m.per_day_count() || m.per_day_fen() ||
         m.per_week_count() || m.per_week_fen() || m.per_month_count() || m.per_month_fen() ||
         m.per_campaign_fen() || c.spec().eligibility().first_use_only();
}

}  // namespace

std::string UsageBook::CampaignKey(const std::string& c) { return absl::StrCat("c", kSep, c); }
std::string UsageBook::FunderKey(const std::string& c, perks::v1::Funder f) {
  return absl::StrCat("f", kSep, c, kSep, static_cast<int>(f));
}
std::string UsageBook::MemberKey(const char* period, const std::string& c,
                                 const std::string& member, int64_t n) {
  return absl::StrCat(period, kSep, c, kSep, member, kSep, n);
}
std::string UsageBook::MerchantDayKey(const std::string& c, const std::string& merchant,
                                      int64_t day) {
  return absl::StrCat("xd", kSep, c, kSep, merchant, kSep, day);
}

const Counter* UsageBook::Find(const std::string& key) const {
  auto it = counters_.find(key);
  return it == counters_.end() ? nullptr : &it->second;
}

NotAppliedReason UsageBook::Allows(const CompiledCampaign& c, const perks::v1::Basket& basket,
                                   const LocalMoment& local, int64_t discount_fen) const {
  std::lock_guard<std::mutex> lock(mu_);
  return AllowsLocked(c, basket, local, discount_fen);
}

NotAppliedReason UsageBook::AllowsLocked(const CompiledCampaign& c, const perks::v1::Basket& basket,
                                         const LocalMoment& local, int64_t d) const {
  const perks::v1::CampaignSpec& spec = c.spec();
  const std::string& id = c.id();
  if (!Fits(Find(CampaignKey(id)), d, spec.budget_fen(), spec.budget_count())) {
    return perks::v1::NOT_APPLIED_BUDGET;
  }
  std::vector<perks::v1::FundedShare> split = SplitDiscount(d, spec.funding());
  for (int i = 0; i < spec.funding_size(); ++i) {
    int64_t budget = spec.funding(i).budget_fen();
    if (budget > 0 &&
        !Fits(Find(FunderKey(id, spec.funding(i).funder())), split[i].amount_fen(), budget, 0)) {
      return perks::v1::NOT_APPLIED_FUNDER_BUDGET;
    }
  }
  if (HasMemberLimits(c)) {
    // Limits per member need the member: a basket that does not say whose it is gets none.
    if (basket.member_id().empty()) return perks::v1::NOT_APPLIED_MEMBER_LIMIT;
    const auto& m = spec.member_limits();
    const std::string& member = basket.member_id();
    const Counter* ever = Find(MemberKey("mc", id, member, 0));
    if (spec.eligibility().first_use_only() && ever != nullptr && ever->count() > 0) {
      return perks::v1::NOT_APPLIED_FIRST_USE;
    }
    if (!Fits(ever, d, m.per_campaign_fen(), c.member_per_campaign_count) ||
        !Fits(Find(MemberKey("md", id, member, LocalDayNumber(local.day))), d, m.per_day_fen(),
              m.per_day_count()) ||
        !Fits(Find(MemberKey("mw", id, member, LocalWeekNumber(local.day))), d, m.per_week_fen(),
              m.per_week_count()) ||
        !Fits(Find(MemberKey("mm", id, member, LocalMonthNumber(local.day))), d, m.per_month_fen(),
              m.per_month_count())) {
      return perks::v1::NOT_APPLIED_MEMBER_LIMIT;
    }
  }
  if ((spec.merchant_per_day_count() > 0 || spec.merchant_per_day_fen() > 0) &&
      !Fits(Find(MerchantDayKey(id, basket.merchant_id(), LocalDayNumber(local.day))), d,
            spec.merchant_per_day_fen(), spec.merchant_per_day_count())) {
    return perks::v1::NOT_APPLIED_MERCHANT_LIMIT;
  }
  return perks::v1::NOT_APPLIED_REASON_UNSPECIFIED;
}

Hold UsageBook::MakeHold(const CompiledCampaign& c, const perks::v1::Basket& basket,
                         int64_t amount_fen) const {
  LocalMoment local = ToShanghai(absl::FromUnixMillis(basket.at_unix_ms()));
  Hold h;
  h.campaign_id = c.id();
  h.version = c.version.version();
  h.amount_fen = amount_fen;
  h.funding = SplitDiscount(amount_fen, c.spec().funding());
  h.member_id = basket.member_id();
  h.merchant_id = basket.merchant_id();
  h.day = LocalDayNumber(local.day);
  h.week = LocalWeekNumber(local.day);
  h.month = LocalMonthNumber(local.day);
  return h;
}

void UsageBook::Apply(const Hold& h, int sign, bool used) {
  ForEachCounter(h, [&](const std::string& key, int64_t fen) {
    Counter& k = counters_[key];
    (used ? k.used_fen : k.held_fen) += sign * fen;
    (used ? k.used_count : k.held_count) += sign;
  });
}

std::vector<Hold> UsageBook::Reserve(const RuleSet& rules, const perks::v1::Basket& basket,
                                     EvalResult& out) {
  std::lock_guard<std::mutex> lock(mu_);
  Locked view(*this);
  rules.Evaluate(basket, &view, /*explain=*/true, out);  // the till shows why others did not
  std::vector<Hold> holds;
  for (const AppliedDiscount& a : out.applied) {
    holds.push_back(MakeHold(rules.campaign(a.campaign), basket, a.amount_fen));
    Apply(holds.back(), +1, /*used=*/false);
  }
  return holds;
}

std::vector<Hold> UsageBook::ReserveGrants(const RuleSet& rules, perks::v1::GrantEvent event,
                                           const perks::v1::Basket& member, int64_t claim_fen,
                                           const std::string& campaign_id, GrantAnswer& out) {
  std::lock_guard<std::mutex> lock(mu_);
  Locked view(*this);
  out = rules.EvaluateGrants(event, member, claim_fen, campaign_id, &view);
  std::vector<Hold> holds;
  for (const AppliedDiscount& g : out.granted) {
    holds.push_back(MakeHold(rules.campaign(g.campaign), member, g.amount_fen));
    Apply(holds.back(), +1, /*used=*/false);
  }
  return holds;
}

void UsageBook::Commit(const std::vector<Hold>& holds) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Hold& h : holds) {
    Apply(h, -1, /*used=*/false);
    Apply(h, +1, /*used=*/true);
  }
}

void UsageBook::Release(const std::vector<Hold>& holds) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Hold& h : holds) Apply(h, -1, /*used=*/false);
}

void UsageBook::Restore(const std::vector<Hold>& holds) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Hold& h : holds) Apply(h, +1, /*used=*/false);
}

void UsageBook::LoadUsed(const std::string& key, int64_t used_fen, int64_t used_count) {
  std::lock_guard<std::mutex> lock(mu_);
  Counter& k = counters_[key];
  k.used_fen = used_fen;
  k.used_count = used_count;
}

Counter UsageBook::Of(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Counter* k = Find(key);
  return k ? *k : Counter{};
}

Counter UsageBook::CampaignTotal(const std::string& campaign_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Counter* k = Find(CampaignKey(campaign_id));
  return k ? *k : Counter{};
}

Counter UsageBook::FunderTotal(const std::string& campaign_id, perks::v1::Funder funder) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Counter* k = Find(FunderKey(campaign_id, funder));
  return k ? *k : Counter{};
}

}  // namespace perks::promotion
