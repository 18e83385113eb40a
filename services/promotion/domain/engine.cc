#include "services/promotion/domain/engine.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "google/protobuf/util/time_util.h"
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
  if (inputs.size() > kCampaignsMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kCampaignsMax, " campaigns can be published at once"));
  }
  auto set = std::shared_ptr<RuleSet>(new RuleSet());
  absl::flat_hash_map<std::string, int32_t> groups;
  groups[""] = 0;
  // The index while it is built: per city, each merchant's campaigns by category, and the
  // campaigns that name no merchant by category.
  struct PendingIndex {
    absl::flat_hash_map<std::string, std::vector<std::pair<int32_t, std::vector<uint32_t>>>>
        by_merchant;
    absl::flat_hash_map<int32_t, std::vector<uint32_t>> by_category;
  };
  absl::flat_hash_map<std::string, PendingIndex> pending;
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
    slot.kind = c->kind;
    slot.starts_ms = StartsAtMs(spec);
    slot.ends_ms = EndsAtMs(spec);
    slot.min_fen = e.min_spend_fen();
    for (const std::string& tag : e.member_tags_any()) {
      auto [it, added] = set->tag_ids_.try_emplace(tag, set->tag_ids_.size());
      if (it->second < 64) {
        slot.low_tags |= uint64_t{1} << it->second;
      } else {
        c->high_tags.push_back(it->second);
      }
    }
    slot.tags_slow = !c->high_tags.empty() || slot.low_tags > 0xffffffffu;
    slot.cap_fen = std::numeric_limits<int64_t>::max();
    switch (c->kind) {
      case RuleKind::kThreshold:
        slot.off_fen = spec.threshold().off_fen();
        slot.rule_min_fen = spec.threshold().min_fen();
        slot.per_multiple = spec.threshold().per_multiple();
        if (spec.threshold().cap_fen() > 0) slot.cap_fen = spec.threshold().cap_fen();
        slot.min_fen = std::max(slot.min_fen, spec.threshold().min_fen());
        break;
      case RuleKind::kPercent:
        slot.rate_bp = static_cast<int32_t>(spec.percent().off_bp());
        if (spec.percent().cap_fen() > 0) slot.cap_fen = spec.percent().cap_fen();
        break;
      case RuleKind::kFixed:
        slot.off_fen = spec.fixed().off_fen();
        break;
      case RuleKind::kFare:
        // amount - ceil(amount * pay / 10000) == floor(amount * (10000 - pay) / 10000): the
        // member never pays less than the ratio says.
        slot.rate_bp = static_cast<int32_t>(10000 - spec.fare().pay_bp());
        break;
      case RuleKind::kBalancePayment:
      case RuleKind::kGrant:
        break;  // no discount of their own on the fast path
    }
    slot.stackable = c->stackable;
    slot.group = c->group;
    slot.priority = c->priority;
    slot.needs_usage = c->needs_usage;
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

    // The scan's narrow copy: necessary conditions, exact unless noted in `slow`.
    constexpr int64_t kU32 = std::numeric_limits<uint32_t>::max();
    Row hot{};
    hot.starts_s = static_cast<uint32_t>(std::min(slot.starts_ms / 1000, kU32));
    hot.ends_s = static_cast<uint32_t>(std::min(
        slot.ends_ms == std::numeric_limits<int64_t>::max() ? kU32 : (slot.ends_ms + 999) / 1000,
        kU32));
    hot.min_fen = static_cast<uint32_t>(std::min(slot.min_fen, kU32));
    hot.tags_any = slot.tags_slow ? 0 : static_cast<uint32_t>(slot.low_tags);
    bool inexact = slot.starts_ms % 1000 != 0 || slot.starts_ms / 1000 >= kU32 ||
                   (slot.ends_ms != std::numeric_limits<int64_t>::max() &&
                    (slot.ends_ms % 1000 != 0 || slot.ends_ms / 1000 >= kU32)) ||
                   slot.min_fen >= kU32;
    slot.slow = inexact || !c->programs.empty() || !c->stores.empty() || !c->regions.empty() ||
                slot.category == kSeveralCategories || c->weekday_mask != 0 ||
                c->day_start_minute != 0 || c->day_end_minute != 0 || slot.tags_slow;
    bool linear = c->kind == RuleKind::kPercent || c->kind == RuleKind::kFixed ||
                  c->kind == RuleKind::kFare ||
                  (c->kind == RuleKind::kThreshold && !slot.per_multiple);
    // Simple campaigns have a rate or a fixed amount, never both (no rule kind has both).
    bool on_the_hour =
        slot.starts_ms % 3'600'000 == 0 &&
        (slot.ends_ms == std::numeric_limits<int64_t>::max() || slot.ends_ms % 3'600'000 == 0);
    hot.simple = linear && !slot.slow && !slot.needs_usage && !slot.stackable && slot.group == 0 &&
                 slot.priority >= -128 && slot.priority <= 127 && slot.off_fen < kU32 &&
                 (slot.cap_fen == std::numeric_limits<int64_t>::max() || slot.cap_fen < kU32) &&
                 (slot.rate_bp == 0 || slot.off_fen == 0) && on_the_hour && slot.starts_ms >= 0 &&
                 hot.tags_any <= 0xffff;
    if (hot.simple) {
      int64_t cap = slot.cap_fen == std::numeric_limits<int64_t>::max() ? kU32 : slot.cap_fen;
      hot.lim_fen = static_cast<uint32_t>(slot.rate_bp == 0 ? std::min(slot.off_fen, cap) : cap);
      hot.rate_bp = static_cast<uint16_t>(slot.rate_bp);
      hot.priority = static_cast<int8_t>(slot.priority);
      hot.start_hour = static_cast<uint32_t>(std::min(slot.starts_ms / 3'600'000, kU32 - 1));
      hot.end_hour = slot.ends_ms == std::numeric_limits<int64_t>::max()
                         ? std::numeric_limits<uint32_t>::max()
                         : static_cast<uint32_t>(std::min(slot.ends_ms / 3'600'000, kU32 - 1));
    }
    set->slots_.push_back(slot);
    set->rows_.push_back(hot);

    if (!in.paused && !in.ended) {
      TenantIndex& t = set->tenants_[spec.tenant_id()];
      PendingIndex& p = pending[spec.tenant_id()];
      if (c->kind == RuleKind::kGrant) {
        t.grants.push_back(c->index);
      } else if (e.merchant_ids_size() > 0) {
        for (const std::string& m : e.merchant_ids()) {
          auto& buckets = p.by_merchant[m];
          auto b = std::find_if(buckets.begin(), buckets.end(),
                                [&](const auto& x) { return x.first == slot.category; });
          if (b == buckets.end()) b = buckets.insert(buckets.end(), {slot.category, {}});
          b->second.push_back(c->index);
        }
      } else if (slot.category == kSeveralCategories) {
        for (const std::string& cat : e.categories()) {
          p.by_category[set->category_ids_.at(cat)].push_back(c->index);
        }
      } else {
        p.by_category[slot.category].push_back(c->index);
      }
    }
    set->campaigns_.push_back(std::move(c));
  }
  for (auto& [tenant, p] : pending) {
    TenantIndex& t = set->tenants_[tenant];
    for (auto& [merchant, buckets] : p.by_merchant) {
      MerchantKey key(set->merchant_ids_.emplace_back(merchant));
      if (buckets.size() == 1) {
        t.by_merchant[key] = set->AddBucket(buckets[0].first, std::move(buckets[0].second));
        continue;
      }
      Bucket more{};
      more.category = kOverflow;
      more.hot = static_cast<uint32_t>(set->overflow_.size());
      more.n = static_cast<uint32_t>(buckets.size());
      for (auto& [category, ids] : buckets) {
        set->overflow_.push_back(set->AddBucket(category, std::move(ids)));
      }
      t.by_merchant[key] = more;
    }
    for (auto& [category, ids] : p.by_category) {
      t.by_category[category] = set->AddBucket(category, std::move(ids));
    }
  }
  return std::shared_ptr<const RuleSet>(std::move(set));
}

namespace {

// The kernel of ScoreNarrow; see there.
__attribute__((target_clones("avx2", "default"))) uint32_t ScoreColumns(
    size_t m, uint32_t at_hour, uint32_t amount, uint32_t tags, const uint16_t* __restrict starts,
    const uint16_t* __restrict ends, const uint16_t* __restrict mins,
    const uint16_t* __restrict lims, const uint16_t* __restrict rates,
    const uint16_t* __restrict tag_sets, uint32_t* best_out) {
  uint32_t passed = 0, best = 0;
  for (size_t i = 0; i < m; ++i) {
    uint32_t pass = static_cast<uint32_t>(at_hour >= starts[i]) &
                    static_cast<uint32_t>(at_hour < ends[i]) &
                    static_cast<uint32_t>(amount >= mins[i]) &
                    (static_cast<uint32_t>(tag_sets[i] == 0) |
                     static_cast<uint32_t>((tag_sets[i] & tags) != 0));
    uint32_t rate = rates[i];
    // With no rate, amount * 0 / 10000 is 0 and the amount itself is the discount's bound.
    uint32_t t = amount * rate / 10000 + (static_cast<uint32_t>(rate == 0) * amount);
    uint32_t d = std::min(t, uint32_t{lims[i]});
    uint32_t key = ((d + 1) << 16 | (0xffffu - static_cast<uint32_t>(i))) & (0u - pass);
    passed += pass;
    best = std::max(best, key);
  }
  *best_out = best;
  return passed;
}

}  // namespace

// Built for each vector width the machine may have; the widest it has is used.
uint32_t RuleSet::ScoreNarrow(const Bucket& b, uint32_t at_hour, uint32_t amount, uint32_t tags,
                              uint32_t* best_key) const {
  return ScoreColumns(Stride(b), at_hour, amount, tags, Col(b, kStartHour), Col(b, kEndHour),
                      Col(b, kMin), Col(b, kLim), Col(b, kRate), Col(b, kTags), best_key);
}

RuleSet::Bucket RuleSet::AddBucket(int32_t category, std::vector<uint32_t> ids) {
  auto rest =
      std::stable_partition(ids.begin(), ids.end(), [&](uint32_t i) { return rows_[i].simple; });
  if (rest - ids.begin() > kSimpleMax) rest = ids.begin() + kSimpleMax;  // the rest decide fully
  // Simple ones by priority, then index: the first of equal discounts wins.
  std::sort(ids.begin(), rest, [&](uint32_t a, uint32_t b) {
    return rows_[a].priority != rows_[b].priority ? rows_[a].priority > rows_[b].priority : a < b;
  });
  std::stable_sort(rest, ids.end(),
                   [&](uint32_t a, uint32_t b) { return rows_[a].min_fen < rows_[b].min_fen; });
  const uint32_t n = static_cast<uint32_t>(ids.size());
  const uint32_t ns = static_cast<uint32_t>(rest - ids.begin());
  Bucket b{};
  b.category = category;
  b.n = n;
  b.n_simple = static_cast<uint16_t>(ns);
  b.hot = static_cast<uint32_t>(hot_.size());
  b.ids = static_cast<uint32_t>(ids_.size());
  if (ns > 0) {
    b.base_hour = rows_[ids[0]].start_hour;
    b.priority = rows_[ids[0]].priority;
    for (uint32_t i = 0; i < ns; ++i) {
      b.base_hour = std::min(b.base_hour, rows_[ids[i]].start_hour);
      if (rows_[ids[i]].priority != b.priority) b.priority = kMixedPriorities;
    }
  }
  auto narrow = [](uint64_t v) { return static_cast<uint16_t>(std::min<uint64_t>(v, kU16Never)); };
  const size_t stride = Stride(b);
  hot_.resize(hot_.size() + size_t{kColumns} * stride);
  uint16_t* c = hot_.data() + b.hot;
  // Padding never fits: no hour of the narrow scan reaches its start.
  for (size_t i = ns; i < stride; ++i) c[size_t{kStartHour} * stride + i] = kU16Never;
  for (uint32_t i = 0; i < ns; ++i) {
    const Row& r = rows_[ids[i]];
    c[stride * size_t{kStartHour} + i] = narrow(r.start_hour - b.base_hour);
    c[stride * size_t{kEndHour} + i] = narrow(uint64_t{r.end_hour} - b.base_hour);
    c[stride * size_t{kMin} + i] = narrow(r.min_fen);
    c[stride * size_t{kLim} + i] = narrow(r.lim_fen);
    c[stride * size_t{kRate} + i] = r.rate_bp;
    c[stride * size_t{kTags} + i] = static_cast<uint16_t>(r.tags_any);
    c[stride * size_t{kIdLow} + i] = static_cast<uint16_t>(ids[i] & 0xffff);
    c[stride * size_t{kIdHigh} + i] = static_cast<uint16_t>(ids[i] >> 16);
  }
  ids_.insert(ids_.end(), ids.begin(), ids.end());
  return b;
}

void RuleSet::Prefetch(const Bucket& b) const {
  auto fetch = [](const void* start, size_t bytes) {
    const char* p = static_cast<const char*>(start);
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off);
  };
  fetch(hot_.data() + b.hot, Stride(b) * kColumns * sizeof(uint16_t));
}

const CompiledCampaign* RuleSet::Find(std::string_view campaign_id) const {
  auto it = std::lower_bound(
      campaigns_.begin(), campaigns_.end(), campaign_id,
      [](const std::unique_ptr<CompiledCampaign>& c, std::string_view id) { return c->id() < id; });
  return it != campaigns_.end() && (*it)->id() == campaign_id ? it->get() : nullptr;
}

NotAppliedReason RuleSet::SlowCheck(const CompiledCampaign& c, const Basket& basket, uint64_t tags,
                                    const LocalMoment& local) const {
  const Slot& s = slots_[c.index];
  if (basket.at_unix_ms() < s.starts_ms || basket.at_unix_ms() >= s.ends_ms) {
    return perks::v1::NOT_APPLIED_OUTSIDE_DATES;
  }
  if (basket.amount_fen() < s.min_fen) return perks::v1::NOT_APPLIED_MIN_SPEND;
  if (s.tags_slow && (s.low_tags & tags) == 0) {
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

// A campaign whose dates, tags and minimum spend the basket meets: the rest of its conditions,
// then it becomes a candidate.
void RuleSet::Accept(uint32_t ci, const Basket& basket, uint64_t tags,
                     std::optional<LocalMoment>& local, const UsageView* usage, bool explain,
                     EvalResult& out) const {
  const Slot& s = slots_[ci];
  const int64_t amount = basket.amount_fen();
  if (s.slow || (usage != nullptr && s.needs_usage)) {
    const CompiledCampaign& c = *campaigns_[ci];
    if (!local) local = ToShanghai(absl::FromUnixMillis(basket.at_unix_ms()));
    NotAppliedReason why =
        s.slow ? SlowCheck(c, basket, tags, *local) : perks::v1::NOT_APPLIED_REASON_UNSPECIFIED;
    if (why == perks::v1::NOT_APPLIED_REASON_UNSPECIFIED && usage != nullptr && s.needs_usage) {
      why = usage->Allows(c, basket, *local, Discount(s, amount));
    }
    if (why != perks::v1::NOT_APPLIED_REASON_UNSPECIFIED) {
      if (explain) out.rejected.push_back({ci, why});
      return;
    }
  }
  ++out.applicable;
  if (s.kind == RuleKind::kBalancePayment) {
    out.balance_candidates.push_back({ci, s.group, s.priority, s.stackable, 0});
  } else {
    out.candidates.push_back({ci, s.group, s.priority, s.stackable, Discount(s, amount)});
  }
}

void RuleSet::Scan(const Bucket& bucket, const Basket& basket, int32_t category, uint64_t tags,
                   std::optional<LocalMoment>& local, const UsageView* usage, bool explain,
                   EvalResult& out) const {
  const int64_t at = basket.at_unix_ms();
  const int64_t amount = basket.amount_fen();
  // Evaluate() has refused at < 0; beyond 2106 the narrow copies say "maybe" and Slot decides.
  const uint32_t at_s =
      static_cast<uint32_t>(std::min<int64_t>(at / 1000, std::numeric_limits<uint32_t>::max()));
  const uint32_t amount32 =
      static_cast<uint32_t>(std::min<int64_t>(amount, std::numeric_limits<uint32_t>::max()));
  const uint32_t tags32 = static_cast<uint32_t>(tags);
  const size_t n = bucket.n;
  const uint32_t* campaigns = ids_.data() + bucket.ids;
  const Row* rows = rows_.data();
  if (explain) {
    // The same tests in the same order, saying which one failed.
    for (size_t i = 0; i < n; ++i) {
      const Row& r = rows[campaigns[i]];
      NotAppliedReason why = perks::v1::NOT_APPLIED_REASON_UNSPECIFIED;
      if (bucket.category >= 0 && bucket.category != category) {
        why = perks::v1::NOT_APPLIED_CATEGORY;
      } else if (at_s < r.starts_s || !BeforeEnd(at_s, r)) {
        why = perks::v1::NOT_APPLIED_OUTSIDE_DATES;
      } else if (r.tags_any != 0 && (r.tags_any & tags32) == 0) {
        why = perks::v1::NOT_APPLIED_MEMBER_TAGS;
      } else if (amount32 < r.min_fen) {
        why = perks::v1::NOT_APPLIED_MIN_SPEND;
      }
      if (why != perks::v1::NOT_APPLIED_REASON_UNSPECIFIED) {
        out.rejected.push_back({campaigns[i], why});
      } else {
        Accept(campaigns[i], basket, tags, local, usage, explain, out);
      }
    }
    return;
  }
  if (bucket.category >= 0 && bucket.category != category) return;
  // Simple campaigns are settled here: counted, and the best kept. None has started before the
  // bucket's base hour.
  const size_t ns = bucket.n_simple;
  const int64_t at_hour = at / 3'600'000 - int64_t{bucket.base_hour};
  if (ns > 0 && at_hour >= 0) {
    // Each campaign i that applies has a key, 1 + its discount, then kSimpleMax - i (they are in
    // order of priority, then campaign index); the largest wins.
    uint32_t passed = 0;
    int64_t best = 0;
    if (amount < kNarrowAmountFen && at_hour < kU16Never) {
      uint32_t key = 0;
      passed = ScoreNarrow(bucket, static_cast<uint32_t>(at_hour), amount32, tags32, &key);
      best = key;
    } else {
      const int64_t hour = at / 3'600'000;
      for (size_t i = 0; i < ns; ++i) {
        const Row& r = rows[campaigns[i]];
        bool pass = hour >= r.start_hour && hour < r.end_hour && amount32 >= r.min_fen &&
                    (r.tags_any == 0 || (r.tags_any & tags32) != 0);
        if (!pass) continue;
        ++passed;
        // Amounts are at most kAmountFenMax (< 2^34): the key stays below 2^50.
        int64_t d = SimpleDiscount(r.rate_bp, r.lim_fen, amount);
        best = std::max(best, (d + 1) << 16 | static_cast<int64_t>(kSimpleMax - i));
      }
    }
    out.applicable += static_cast<int32_t>(passed);
    if (best > 0) {
      const size_t i = kSimpleMax - (best & 0xffff);
      const uint32_t w = Col(bucket, kIdLow)[i] | uint32_t{Col(bucket, kIdHigh)[i]} << 16;
      const int32_t priority =
          bucket.priority != kMixedPriorities ? bucket.priority : rows[w].priority;
      out.candidates.push_back({w, 0, priority, false, (best >> 16) - 1});
    }
  }
  // The rest: each that passes is read in full.
  for (size_t i = ns; i < n; ++i) {
    const Row& r = rows[campaigns[i]];
    if (amount32 < r.min_fen) break;  // by minimum spend: none after it either
    if (at_s >= r.starts_s && BeforeEnd(at_s, r) &&
        (r.tags_any == 0 || (r.tags_any & tags32) != 0)) {
      Accept(campaigns[i], basket, tags, local, usage, explain, out);
    }
  }
}

bool RuleSet::Better(const EvalResult::Candidate& a, const EvalResult::Candidate& b) {
  if (a.amount_fen != b.amount_fen) return a.amount_fen > b.amount_fen;
  if (a.priority != b.priority) return a.priority > b.priority;
  return a.campaign < b.campaign;
}

void RuleSet::Stack(const Basket& basket, bool explain, EvalResult& out) const {
  // Step 3: exclusive candidates compete within their group.
  std::vector<EvalResult::Candidate>& cands = out.candidates;
  size_t kept = 0;
  if (out.group_best.size() < static_cast<size_t>(groups_)) out.group_best.assign(groups_, -1);
  out.groups_touched.clear();
  for (size_t i = 0; i < cands.size(); ++i) {
    if (cands[i].stackable) continue;
    int32_t& best = out.group_best[cands[i].group];
    if (best < 0) {
      best = static_cast<int32_t>(i);
      out.groups_touched.push_back(cands[i].group);
    } else if (Better(cands[i], cands[best])) {
      if (explain) out.rejected.push_back({cands[best].campaign, perks::v1::NOT_APPLIED_BEATEN});
      best = static_cast<int32_t>(i);
    } else if (explain) {
      out.rejected.push_back({cands[i].campaign, perks::v1::NOT_APPLIED_BEATEN});
    }
  }
  for (size_t i = 0; i < cands.size(); ++i) {
    if (cands[i].stackable || out.group_best[cands[i].group] == static_cast<int32_t>(i)) {
      cands[kept++] = cands[i];
    }
  }
  cands.resize(kept);
  for (int32_t g : out.groups_touched) out.group_best[g] = -1;

  // Step 4: in order of priority, then campaign id, each on what is left.
  if (cands.size() > 1) {
    std::sort(cands.begin(), cands.end(), [](const auto& a, const auto& b) {
      return a.priority != b.priority ? a.priority > b.priority : a.campaign < b.campaign;
    });
  }
  int64_t left = basket.amount_fen();
  for (const auto& cand : cands) {
    int64_t d =
        left == basket.amount_fen() ? cand.amount_fen : Discount(slots_[cand.campaign], left);
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
  if (basket.amount_fen() <= 0 || basket.at_unix_ms() < 0) return;
  // The basket's strings live apart from it: ask for them all at once.
  __builtin_prefetch(&basket.merchant_id());
  __builtin_prefetch(&basket.category());
  __builtin_prefetch(&basket.tenant_id());
  auto tenant = tenants_.find(basket.tenant_id());
  if (tenant == tenants_.end()) return;
  const TenantIndex& t = tenant->second;
  // The merchant's campaigns first: their columns are on their way from memory while the rest
  // of the basket is looked up.
  absl::Span<const Bucket> merchant;
  if (auto m = t.by_merchant.find(std::string_view(basket.merchant_id()));
      m != t.by_merchant.end()) {
    merchant = m->second.category != kOverflow
                   ? absl::MakeConstSpan(&m->second, 1)
                   : absl::MakeConstSpan(overflow_.data() + m->second.hot, m->second.n);
    for (const Bucket& b : merchant) Prefetch(b);
  }

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
  for (const Bucket& b : merchant) Scan(b, basket, category, tags, local, usage, explain, out);
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
  for (uint32_t i : tenant->second.grants) {
    const CompiledCampaign& c = *campaigns_[i];
    const auto& g = c.spec().grant();
    if (g.event() != event || (!campaign_id.empty() && c.id() != campaign_id)) continue;
    const Slot& s = slots_[i];
    auto reject = [&](NotAppliedReason r) { answer.rejected.push_back({i, r}); };
    if (member.at_unix_ms() < s.starts_ms || member.at_unix_ms() >= s.ends_ms) {
      reject(perks::v1::NOT_APPLIED_OUTSIDE_DATES);
      continue;
    }
    bool tag_ok = slots_[i].low_tags == 0 && !slots_[i].tags_slow;
    for (const std::string& tag : member.member_tags()) {
      auto it = tag_ids_.find(tag);
      if (it == tag_ids_.end()) continue;
      if ((it->second < 64 && (slots_[i].low_tags >> it->second & 1)) ||
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
      return absl::StrCat("spend at least ", FormatYuan(slots_[c.index].min_fen),
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
      for (auto& share :
           SplitDiscount(a.from_balance_fen, c.spec().balance_payment().balance_funding())) {
        *d->add_balance_funding() = std::move(share);
      }
    }
  }
  AddNotApplied(result.rejected, basket, out->mutable_not_applied());
}

void RuleSet::GrantsToProto(const Basket& member, const GrantAnswer& answer,
                            perks::v1::GrantResult* out) const {
  out->Clear();
  for (const AppliedDiscount& a : answer.granted) {
    const CompiledCampaign& c = *campaigns_[a.campaign];
    const perks::v1::GrantRule& rule = c.spec().grant();
    perks::v1::GrantedBalance* g = out->add_grants();
    g->set_campaign_id(c.id());
    g->set_version(c.version.version());
    g->set_balance_name(rule.balance_name());
    g->set_balance_kind(rule.balance_kind());
    g->set_amount_fen(a.amount_fen);
    for (auto& share : SplitDiscount(a.amount_fen, c.spec().funding())) {
      *g->add_funding() = std::move(share);
    }
    *g->mutable_allowed_categories() = rule.allowed_categories();
    if (rule.has_expires_at()) {
      g->set_expires_at_unix_ms(
          google::protobuf::util::TimeUtil::TimestampToMilliseconds(rule.expires_at()));
    }
  }
  AddNotApplied(answer.rejected, member, out->mutable_not_applied());
}

void RuleSet::AddNotApplied(const std::vector<Rejection>& rejected, const Basket& basket,
                            google::protobuf::RepeatedPtrField<perks::v1::NotApplied>* out) const {
  for (const Rejection& r : rejected) {
    const CompiledCampaign& c = *campaigns_[r.campaign];
    perks::v1::NotApplied* n = out->Add();
    n->set_campaign_id(c.id());
    n->set_reason(r.reason);
    n->set_explanation(Explain(c, r.reason, basket));
  }
}

}  // namespace perks::promotion
