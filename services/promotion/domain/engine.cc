#include "services/promotion/domain/engine.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/common/money.h"
#include "services/promotion/domain/funding.h"
#include "services/promotion/domain/spec.h"

namespace perks::promotion {
namespace {

using perks::v1::Basket;
using perks::v1::CampaignSpec;

constexpr int32_t kAnyCategory = -1;
constexpr int32_t kSeveralCategories = -2;
constexpr int32_t kUnknownCategory = -3;  // a basket category no campaign names

RuleKind KindOf(const CampaignSpec& spec) {
  switch (spec.rule_case()) {
    case CampaignSpec::kThreshold:
      return RuleKind::kThreshold;
    case CampaignSpec::kPercent:
      return RuleKind::kPercent;
    case CampaignSpec::kFixed:
      return RuleKind::kFixed;
    case CampaignSpec::kFare:
      return RuleKind::kFare;
    case CampaignSpec::kGrant:
      return RuleKind::kGrant;
    default:
      return RuleKind::kBalancePayment;
  }
}

bool HasUsage(const CampaignSpec& s) {
  const auto& m = s.member_limits();
  return s.eligibility().first_use_only() || m.per_day_count() || m.per_day_fen() ||
         m.per_week_count() || m.per_week_fen() || m.per_month_count() || m.per_month_fen() ||
         m.per_campaign_count() || m.per_campaign_fen() || s.merchant_per_day_count() ||
         s.merchant_per_day_fen() || s.budget_fen() || s.budget_count() ||
         std::any_of(s.funding().begin(), s.funding().end(),
                     [](const perks::v1::FundingShare& f) { return f.budget_fen() > 0; });
}

}  // namespace

absl::StatusOr<std::shared_ptr<const RuleSet>> RuleSet::Compile(std::vector<Input> inputs) {
  std::sort(inputs.begin(), inputs.end(), [](const Input& a, const Input& b) {
    return a.version.campaign_id() < b.version.campaign_id();
  });
  auto set = std::shared_ptr<RuleSet>(new RuleSet());
  absl::flat_hash_map<std::string, int32_t> groups;
  groups[""] = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Input& in = inputs[i];
    const CampaignSpec& spec = in.version.spec();
    if (absl::Status s = ValidateSpec(spec); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("campaign ", in.version.campaign_id(), ": ", s.message()));
    }
    if (!set->campaigns_.empty() && set->campaigns_.back()->id() == in.version.campaign_id()) {
      return absl::InvalidArgumentError(
          absl::StrCat("campaign ", in.version.campaign_id(), " appears twice"));
    }
    auto c = std::make_unique<CompiledCampaign>();
    c->version = std::move(in.version);
    c->index = static_cast<uint32_t>(i);
    c->kind = KindOf(spec);
    c->stackable = spec.stacking().stackable();
    c->priority = spec.stacking().priority();
    auto [g, inserted] = groups.try_emplace(spec.stacking().group(), set->groups_);
    if (inserted) ++set->groups_;
    c->group = g->second;
    c->member_per_campaign_count = spec.member_limits().per_campaign_count();
    if (c->kind == RuleKind::kGrant && c->member_per_campaign_count == 0) {
      c->member_per_campaign_count = 1;
    }
    c->needs_usage = HasUsage(spec) || c->kind == RuleKind::kGrant;
    const auto& e = spec.eligibility();
    c->programs.insert(e.program_ids().begin(), e.program_ids().end());
    c->stores.insert(e.store_ids().begin(), e.store_ids().end());
    c->regions.insert(e.regions().begin(), e.regions().end());
    c->categories.insert(e.categories().begin(), e.categories().end());
    for (int d : e.weekdays()) c->weekday_mask |= static_cast<uint8_t>(1u << (d - 1));
    c->day_start_minute = e.day_start_minute();
    c->day_end_minute = e.day_end_minute();

    Slot slot{};
    slot.campaign = c->index;
    slot.kind = c->kind;
    slot.starts_ms = StartsAtMs(spec);
    slot.ends_ms = EndsAtMs(spec);
    slot.min_fen = e.min_spend_fen();
    for (const std::string& tag : e.member_tags_any()) {
      auto [it, added] = set->tag_ids_.try_emplace(tag, set->tag_ids_.size());
      if (it->second < 64) {
        slot.tags_any |= uint64_t{1} << it->second;
      } else {
        c->high_tags.push_back(it->second);
      }
    }
    slot.tags_slow = !c->high_tags.empty();
    switch (c->kind) {
      case RuleKind::kThreshold:
        slot.p1 = spec.threshold().off_fen();
        slot.p2 = spec.threshold().min_fen();
        slot.p3 = spec.threshold().cap_fen();
        slot.per_multiple = spec.threshold().per_multiple();
        slot.min_fen = std::max(slot.min_fen, spec.threshold().min_fen());
        break;
      case RuleKind::kPercent:
        slot.p1 = spec.percent().off_bp();
        slot.p3 = spec.percent().cap_fen();
        break;
      case RuleKind::kFixed:
        slot.p1 = spec.fixed().off_fen();
        break;
      case RuleKind::kFare:
        slot.p1 = spec.fare().pay_bp();
        break;
      case RuleKind::kBalancePayment:
        slot.p1 = spec.balance_payment().topup_bp();
        break;
      case RuleKind::kGrant:
        break;
    }
    if (e.categories_size() == 0) {
      slot.category = kAnyCategory;
    } else if (e.categories_size() == 1) {
      auto [it, added] = set->category_ids_.try_emplace(e.categories(0), set->category_ids_.size());
      slot.category = it->second;
    } else {
      slot.category = kSeveralCategories;
      for (const std::string& cat : e.categories()) {
        set->category_ids_.try_emplace(cat, set->category_ids_.size());
      }
    }
    slot.slow = !c->programs.empty() || !c->stores.empty() || !c->regions.empty() ||
                slot.category == kSeveralCategories || c->weekday_mask != 0 ||
                c->day_start_minute != 0 || c->day_end_minute != 0 || slot.tags_slow;
    set->slots_by_campaign_.push_back(slot);

    if (!in.paused && !in.ended) {
      TenantIndex& t = set->tenants_[spec.tenant_id()];
      if (c->kind == RuleKind::kGrant) {
        t.grants.push_back(c->index);
      } else if (e.merchant_ids_size() > 0) {
        for (const std::string& m : e.merchant_ids()) t.by_merchant[m].push_back(slot);
      } else if (slot.category >= 0) {
        t.by_category[slot.category].push_back(slot);
      } else if (slot.category == kSeveralCategories) {
        for (const std::string& cat : e.categories()) {
          t.by_category[set->category_ids_.at(cat)].push_back(slot);
        }
      } else {
        t.by_category[kAnyCategory].push_back(slot);
      }
    }
    set->campaigns_.push_back(std::move(c));
  }
  return std::shared_ptr<const RuleSet>(std::move(set));
}

const CompiledCampaign* RuleSet::Find(std::string_view campaign_id) const {
  auto it = std::lower_bound(
      campaigns_.begin(), campaigns_.end(), campaign_id,
      [](const std::unique_ptr<CompiledCampaign>& c, std::string_view id) { return c->id() < id; });
  return it != campaigns_.end() && (*it)->id() == campaign_id ? it->get() : nullptr;
}

// The discount of one rule on `amount_fen`, never more than the amount:
//   threshold: from p2 on, p1 off once, or p1 for every full p2 (per_multiple); at most p3
//              (0 = no cap)
//   percent:   floor(amount * p1 / 10000), at most p3
//   fixed:     p1
//   fare:      the member pays ceil(amount * p1 / 10000); the rest is the discount
int64_t RuleSet::Discount(const Slot& s, int64_t amount_fen) {
  int64_t d = 0;
  switch (s.kind) {
    case RuleKind::kThreshold:
      if (amount_fen < s.p2) return 0;
      d = s.per_multiple ? (amount_fen / s.p2) * s.p1 : s.p1;
      if (s.p3 > 0) d = std::min(d, s.p3);
      break;
    case RuleKind::kPercent:
      d = amount_fen * s.p1 / 10000;
      if (s.p3 > 0) d = std::min(d, s.p3);
      break;
    case RuleKind::kFixed:
      d = s.p1;
      break;
    case RuleKind::kFare:
      d = amount_fen - (amount_fen * s.p1 + 9999) / 10000;
      break;
    case RuleKind::kGrant:
    case RuleKind::kBalancePayment:
      return 0;
  }
  return std::min(d, amount_fen);
}

NotAppliedReason RuleSet::SlowCheck(const CompiledCampaign& c, const Basket& basket, uint64_t tags,
                                    const LocalMoment& local) const {
  if (!c.high_tags.empty() && (slots_by_campaign_[c.index].tags_any & tags) == 0) {
    bool any = false;
    for (const std::string& tag : basket.member_tags()) {
      auto it = tag_ids_.find(tag);
      if (it != tag_ids_.end() &&
          std::find(c.high_tags.begin(), c.high_tags.end(), it->second) != c.high_tags.end()) {
        any = true;
      }
    }
    if (!any) return perks::v1::NOT_APPLIED_MEMBER_TAGS;
  }
  if (!c.categories.empty() && !c.categories.contains(basket.category())) {
    return perks::v1::NOT_APPLIED_CATEGORY;
  }
  if (!c.programs.empty() && !c.programs.contains(basket.program_id())) {
    return perks::v1::NOT_APPLIED_PROGRAM;
  }
  if (!c.stores.empty() && !c.stores.contains(basket.store_id())) {
    return perks::v1::NOT_APPLIED_STORE;
  }
  if (!c.regions.empty() && !c.regions.contains(basket.region())) {
    return perks::v1::NOT_APPLIED_REGION;
  }
  if (c.weekday_mask != 0 && (c.weekday_mask >> (local.weekday - 1) & 1) == 0) {
    return perks::v1::NOT_APPLIED_WEEKDAY;
  }
  if (c.day_end_minute != 0 &&
      (local.minute_of_day < c.day_start_minute || local.minute_of_day >= c.day_end_minute)) {
    return perks::v1::NOT_APPLIED_HOURS;
  }
  return perks::v1::NOT_APPLIED_REASON_UNSPECIFIED;
}

void RuleSet::Scan(const std::vector<Slot>& slots, const Basket& basket, int32_t category,
                   uint64_t tags, std::optional<LocalMoment>& local, const UsageView* usage,
                   bool explain, EvalResult& out) const {
  const int64_t at = basket.at_unix_ms();
  const int64_t amount = basket.amount_fen();
  auto reject = [&](uint32_t campaign, NotAppliedReason reason) {
    if (explain) out.rejected.push_back({campaign, reason});
  };
  for (const Slot& s : slots) {
    if (s.category >= 0 && s.category != category) {
      reject(s.campaign, perks::v1::NOT_APPLIED_CATEGORY);
      continue;
    }
    if (at < s.starts_ms || at >= s.ends_ms) {
      reject(s.campaign, perks::v1::NOT_APPLIED_OUTSIDE_DATES);
      continue;
    }
    if (s.tags_any != 0 && !s.tags_slow && (s.tags_any & tags) == 0) {
      reject(s.campaign, perks::v1::NOT_APPLIED_MEMBER_TAGS);
      continue;
    }
    if (amount < s.min_fen) {
      reject(s.campaign, perks::v1::NOT_APPLIED_MIN_SPEND);
      continue;
    }
    if (s.slow || (usage != nullptr && campaigns_[s.campaign]->needs_usage)) {
      const CompiledCampaign& c = *campaigns_[s.campaign];
      if (!local) local = ToShanghai(absl::FromUnixMillis(at));
      NotAppliedReason why =
          s.slow ? SlowCheck(c, basket, tags, *local) : perks::v1::NOT_APPLIED_REASON_UNSPECIFIED;
      if (why == perks::v1::NOT_APPLIED_REASON_UNSPECIFIED && usage != nullptr && c.needs_usage) {
        why = usage->Allows(c, basket, *local, Discount(s, amount));
      }
      if (why != perks::v1::NOT_APPLIED_REASON_UNSPECIFIED) {
        reject(s.campaign, why);
        continue;
      }
    }
    ++out.applicable;
    if (s.kind == RuleKind::kBalancePayment) {
      out.balance_candidates.push_back({s.campaign, 0});
    } else {
      out.candidates.push_back({s.campaign, Discount(s, amount)});
    }
  }
}

bool RuleSet::Better(const EvalResult::Candidate& a, const EvalResult::Candidate& b) const {
  if (a.amount_fen != b.amount_fen) return a.amount_fen > b.amount_fen;
  int32_t pa = campaigns_[a.campaign]->priority, pb = campaigns_[b.campaign]->priority;
  if (pa != pb) return pa > pb;
  return a.campaign < b.campaign;
}

void RuleSet::Stack(const Basket& basket, bool explain, EvalResult& out) const {
  // Step 3: exclusive candidates compete within their group.
  std::vector<EvalResult::Candidate>& cands = out.candidates;
  size_t kept = 0;
  if (out.group_best.size() < static_cast<size_t>(groups_)) out.group_best.assign(groups_, -1);
  out.groups_touched.clear();
  for (size_t i = 0; i < cands.size(); ++i) {
    const CompiledCampaign& c = *campaigns_[cands[i].campaign];
    if (c.stackable) continue;
    int32_t& best = out.group_best[c.group];
    if (best < 0) {
      best = static_cast<int32_t>(i);
      out.groups_touched.push_back(c.group);
    } else if (Better(cands[i], cands[best])) {
      if (explain) out.rejected.push_back({cands[best].campaign, perks::v1::NOT_APPLIED_BEATEN});
      best = static_cast<int32_t>(i);
    } else if (explain) {
      out.rejected.push_back({cands[i].campaign, perks::v1::NOT_APPLIED_BEATEN});
    }
  }
  for (size_t i = 0; i < cands.size(); ++i) {
    const CompiledCampaign& c = *campaigns_[cands[i].campaign];
    if (c.stackable || out.group_best[c.group] == static_cast<int32_t>(i)) cands[kept++] = cands[i];
  }
  cands.resize(kept);
  for (int32_t g : out.groups_touched) out.group_best[g] = -1;

  // Step 4: in order of priority, then campaign id, each on what is left.
  if (cands.size() > 1) {
    std::sort(cands.begin(), cands.end(), [this](const auto& a, const auto& b) {
      int32_t pa = campaigns_[a.campaign]->priority, pb = campaigns_[b.campaign]->priority;
      return pa != pb ? pa > pb : a.campaign < b.campaign;
    });
  }
  int64_t left = basket.amount_fen();
  for (const auto& cand : cands) {
    const Slot& s = slots_by_campaign_[cand.campaign];
    int64_t d = left == basket.amount_fen() ? cand.amount_fen : Discount(s, left);
    if (d <= 0) {
      if (explain) out.rejected.push_back({cand.campaign, perks::v1::NOT_APPLIED_NOTHING_LEFT});
      continue;
    }
    out.applied.push_back({cand.campaign, d, 0});
    out.discount_fen += d;
    left -= d;
  }

  // Step 5: balance payments on what is left. With a top-up of t basis points, x fen from the
  // balance cover x + floor(x * t / 10000) of the basket; x is the least that covers what is left,
  // or the whole balance.
  for (const auto& cand : out.balance_candidates) {
    const CompiledCampaign& c = *campaigns_[cand.campaign];
    const std::string& name = c.spec().balance_payment().balance_name();
    auto it = basket.balances_fen().find(name);
    int64_t balance = it == basket.balances_fen().end() ? 0 : it->second;
    for (const auto& a : out.applied) {
      if (a.from_balance_fen > 0 &&
          campaigns_[a.campaign]->spec().balance_payment().balance_name() == name) {
        balance -= a.from_balance_fen;
      }
    }
    if (left <= 0 || balance <= 0) {
      if (explain) {
        out.rejected.push_back({cand.campaign, left <= 0 ? perks::v1::NOT_APPLIED_NOTHING_LEFT
                                                         : perks::v1::NOT_APPLIED_NO_BALANCE});
      }
      continue;
    }
    int64_t t = c.spec().balance_payment().topup_bp();
    int64_t x = std::min(balance, (left * 10000 + (10000 + t) - 1) / (10000 + t));
    int64_t topup = std::min(x * t / 10000, left - x);
    out.applied.push_back({cand.campaign, topup, x});
    out.discount_fen += topup;
    out.from_balances_fen += x;
    left -= x + topup;
  }
  out.to_pay_fen = left;
}

void RuleSet::Evaluate(const Basket& basket, const UsageView* usage, bool explain,
                       EvalResult& out) const {
  out.amount_fen = basket.amount_fen();
  out.discount_fen = out.from_balances_fen = 0;
  out.to_pay_fen = basket.amount_fen();
  out.applicable = 0;
  out.applied.clear();
  out.rejected.clear();
  out.candidates.clear();
  out.balance_candidates.clear();
  if (basket.amount_fen() <= 0) return;
  auto tenant = tenants_.find(basket.tenant_id());
  if (tenant == tenants_.end()) return;
  const TenantIndex& t = tenant->second;

  int32_t category = kUnknownCategory;
  if (auto it = category_ids_.find(basket.category()); it != category_ids_.end()) {
    category = it->second;
  }
  uint64_t tags = 0;
  for (const std::string& tag : basket.member_tags()) {
    auto it = tag_ids_.find(tag);
    if (it != tag_ids_.end() && it->second < 64) tags |= uint64_t{1} << it->second;
  }
  std::optional<LocalMoment> local;
  if (auto m = t.by_merchant.find(basket.merchant_id()); m != t.by_merchant.end()) {
    Scan(m->second, basket, category, tags, local, usage, explain, out);
  }
  if (category >= 0) {
    if (auto c = t.by_category.find(category); c != t.by_category.end()) {
      Scan(c->second, basket, category, tags, local, usage, explain, out);
    }
  }
  if (auto c = t.by_category.find(kAnyCategory); c != t.by_category.end()) {
    Scan(c->second, basket, category, tags, local, usage, explain, out);
  }
  Stack(basket, explain, out);
}

GrantAnswer RuleSet::EvaluateGrants(perks::v1::GrantEvent event, const Basket& member,
                                    int64_t claim_fen, const std::string& campaign_id,
                                    const UsageView* usage) const {
  GrantAnswer answer;
  auto tenant = tenants_.find(member.tenant_id());
  if (tenant == tenants_.end()) return answer;
  LocalMoment local = ToShanghai(absl::FromUnixMillis(member.at_unix_ms()));
  std::optional<LocalMoment> local_opt = local;
  for (uint32_t i : tenant->second.grants) {
    const CompiledCampaign& c = *campaigns_[i];
    const auto& g = c.spec().grant();
    if (g.event() != event || (!campaign_id.empty() && c.id() != campaign_id)) continue;
    const Slot& s = slots_by_campaign_[i];
    auto reject = [&](NotAppliedReason r) { answer.rejected.push_back({i, r}); };
    if (member.at_unix_ms() < s.starts_ms || member.at_unix_ms() >= s.ends_ms) {
      reject(perks::v1::NOT_APPLIED_OUTSIDE_DATES);
      continue;
    }
    bool tag_ok = s.tags_any == 0;
    for (const std::string& tag : member.member_tags()) {
      auto it = tag_ids_.find(tag);
      if (it == tag_ids_.end()) continue;
      if ((it->second < 64 && (s.tags_any >> it->second & 1)) ||
          std::find(c.high_tags.begin(), c.high_tags.end(), it->second) != c.high_tags.end()) {
        tag_ok = true;
      }
    }
    if (!tag_ok) {
      reject(perks::v1::NOT_APPLIED_MEMBER_TAGS);
      continue;
    }
    if (!c.programs.empty() && !c.programs.contains(member.program_id())) {
      reject(perks::v1::NOT_APPLIED_PROGRAM);
      continue;
    }
    if (event == perks::v1::GRANT_EVENT_MEDICAL_CLAIM && claim_fen < g.min_claim_fen()) {
      reject(perks::v1::NOT_APPLIED_CLAIM_TOO_SMALL);
      continue;
    }
    if (usage != nullptr) {
      NotAppliedReason why = usage->Allows(c, member, local, g.amount_fen());
      if (why != perks::v1::NOT_APPLIED_REASON_UNSPECIFIED) {
        reject(why);
        continue;
      }
    }
    answer.granted.push_back({i, g.amount_fen(), 0});
  }
  return answer;
}

std::string RuleSet::Explain(const CompiledCampaign& c, NotAppliedReason reason,
                             const Basket& basket) const {
  const CampaignSpec& spec = c.spec();
  switch (reason) {
    case perks::v1::NOT_APPLIED_PROGRAM:
      return "only for cards of another program";
    case perks::v1::NOT_APPLIED_MEMBER_TAGS:
      return absl::StrCat("only for members tagged ",
                          absl::StrJoin(spec.eligibility().member_tags_any(), " or "));
    case perks::v1::NOT_APPLIED_STORE:
      return "not at this store";
    case perks::v1::NOT_APPLIED_REGION:
      return "not in this region";
    case perks::v1::NOT_APPLIED_CATEGORY:
      return absl::StrCat("only for ", absl::StrJoin(spec.eligibility().categories(), ", "),
                          " (this purchase: ", basket.category(), ")");
    case perks::v1::NOT_APPLIED_OUTSIDE_DATES:
      return "not running at this time";
    case perks::v1::NOT_APPLIED_WEEKDAY:
      return "not on this day of the week";
    case perks::v1::NOT_APPLIED_HOURS:
      return absl::StrFormat(
          "only from %02d:%02d to %02d:%02d", spec.eligibility().day_start_minute() / 60,
          spec.eligibility().day_start_minute() % 60, spec.eligibility().day_end_minute() / 60,
          spec.eligibility().day_end_minute() % 60);
    case perks::v1::NOT_APPLIED_MIN_SPEND:
      return absl::StrCat("spend at least ", FormatYuan(slots_by_campaign_[c.index].min_fen),
                          " yuan (this purchase: ", FormatYuan(basket.amount_fen()), ")");
    case perks::v1::NOT_APPLIED_FIRST_USE:
      return "only for a member's first use";
    case perks::v1::NOT_APPLIED_MEMBER_LIMIT:
      return "this member has reached the campaign's limit for now";
    case perks::v1::NOT_APPLIED_MERCHANT_LIMIT:
      return "this merchant has reached the campaign's limit for today";
    case perks::v1::NOT_APPLIED_BUDGET:
      return "the campaign's budget is used up";
    case perks::v1::NOT_APPLIED_FUNDER_BUDGET:
      return "a funder's budget for this campaign is used up";
    case perks::v1::NOT_APPLIED_BEATEN:
      return "another offer gives more; only one of them applies";
    case perks::v1::NOT_APPLIED_NOTHING_LEFT:
      return "the offers before it left nothing for it to take off";
    case perks::v1::NOT_APPLIED_NO_BALANCE:
      return absl::StrCat("the card's ", spec.balance_payment().balance_name(),
                          " balance is empty");
    case perks::v1::NOT_APPLIED_MERCHANT:
      return "not at this merchant";
    case perks::v1::NOT_APPLIED_CLAIM_TOO_SMALL:
      return absl::StrCat("for out-of-pocket costs of at least ",
                          FormatYuan(spec.grant().min_claim_fen()), " yuan");
    default:
      return "does not apply";
  }
}

void RuleSet::ToProto(const Basket& basket, const EvalResult& result,
                      perks::v1::Evaluation* out) const {
  out->Clear();
  out->set_amount_fen(result.amount_fen);
  out->set_discount_fen(result.discount_fen);
  out->set_from_balances_fen(result.from_balances_fen);
  out->set_to_pay_fen(result.to_pay_fen);
  for (const AppliedDiscount& a : result.applied) {
    const CompiledCampaign& c = *campaigns_[a.campaign];
    perks::v1::Discount* d = out->add_discounts();
    d->set_campaign_id(c.id());
    d->set_version(c.version.version());
    d->set_title(c.spec().title());
    d->set_amount_fen(a.amount_fen);
    for (auto& share : SplitDiscount(a.amount_fen, c.spec().funding())) {
      *d->add_funding() = std::move(share);
    }
    if (c.kind == RuleKind::kBalancePayment) {
      d->set_balance_name(c.spec().balance_payment().balance_name());
      d->set_from_balance_fen(a.from_balance_fen);
    }
  }
  for (const Rejection& r : result.rejected) {
    const CompiledCampaign& c = *campaigns_[r.campaign];
    perks::v1::NotApplied* n = out->add_not_applied();
    n->set_campaign_id(c.id());
    n->set_reason(r.reason);
    n->set_explanation(Explain(c, r.reason, basket));
  }
}

}  // namespace perks::promotion
