// The rule engine: published campaign versions compiled into an index, and the evaluation every
// checkout asks for. Pure: no disk, no clock, no gRPC. A RuleSet is immutable once compiled; the
// service swaps in a new one when a campaign is published, paused or ended.
//
// How a basket is evaluated (the order is part of the contract):
//  1. Candidates: the campaigns of the basket's city that name its merchant, plus those that name
//     no merchant but its category (or no category). Their cost does not grow with the number of
//     campaigns elsewhere.
//  2. Each candidate's conditions: category, dates, member tags, minimum spend, then programs,
//     stores, regions, weekdays, hours (Asia/Shanghai), then limits and budgets (UsageView).
//     Every candidate that meets them all is "applicable"; its discount is computed on the whole
//     basket.
//  3. Exclusive candidates compete within their group: the largest discount wins; ties go to the
//     higher priority, then the smaller campaign id. Stackable candidates all go on.
//  4. The winners and the stackable ones apply in order of priority (highest first), then
//     campaign id, each on what is left to pay after the ones before.
//  5. Balance payments apply last, on what is left.
#ifndef PERKS_SERVICES_PROMOTION_DOMAIN_ENGINE_H_
#define PERKS_SERVICES_PROMOTION_DOMAIN_ENGINE_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "perks/v1/promotion.pb.h"
#include "services/common/calendar.h"

namespace perks::promotion {

using perks::v1::NotAppliedReason;

enum class RuleKind : uint8_t { kThreshold, kPercent, kFixed, kFare, kGrant, kBalancePayment };

// A campaign version ready to evaluate. Built by RuleSet::Compile.
struct CompiledCampaign {
  perks::v1::CampaignVersion version;  // the spec as published, for funding and explanations
  uint32_t index = 0;                  // position in the rule set; campaign ids sort the same way
  RuleKind kind = RuleKind::kThreshold;
  bool stackable = false;
  int32_t group = 0;  // interned exclusive group
  int32_t priority = 0;
  // Set when limits, budgets or first use apply: the UsageView is asked.
  bool needs_usage = false;
  int64_t member_per_campaign_count = 0;  // grants default to 1

  // Conditions the fast path does not check.
  absl::flat_hash_set<std::string> programs, stores, regions, categories;
  uint8_t weekday_mask = 0;  // bit d-1 for weekday d; 0 = every day
  int32_t day_start_minute = 0, day_end_minute = 0;
  std::vector<uint32_t> high_tags;  // tag ids >= 64 that also qualify

  const perks::v1::CampaignSpec& spec() const { return version.spec(); }
  const std::string& id() const { return version.campaign_id(); }
};

// What limits and budgets allow. The engine asks it only for campaigns with needs_usage.
class UsageView {
 public:
  virtual ~UsageView() = default;
  // NOT_APPLIED_REASON_UNSPECIFIED if granting `discount_fen` more (with its funding split) to
  // this basket stays within every limit and budget of `campaign`, and first use holds; else the
  // first reason it does not.
  virtual NotAppliedReason Allows(const CompiledCampaign& campaign, const perks::v1::Basket& basket,
                                  const LocalMoment& local, int64_t discount_fen) const = 0;
};

struct AppliedDiscount {
  uint32_t campaign = 0;
  int64_t amount_fen = 0;        // the discount (for balance payments: the merchant's top-up)
  int64_t from_balance_fen = 0;  // balance payments: paid from the card's balance
};

struct Rejection {
  uint32_t campaign = 0;
  NotAppliedReason reason = perks::v1::NOT_APPLIED_REASON_UNSPECIFIED;
};

// One evaluation's answer. Reuse one across calls: its vectors keep their capacity.
struct EvalResult {
  int64_t amount_fen = 0;
  int64_t discount_fen = 0;              // sum of applied[].amount_fen
  int64_t from_balances_fen = 0;         // sum of applied[].from_balance_fen
  int64_t to_pay_fen = 0;                // amount - discount - from balances
  int32_t applicable = 0;                // campaigns whose conditions the basket met (step 2)
  std::vector<AppliedDiscount> applied;  // in the order applied
  std::vector<Rejection> rejected;       // only when asked to explain

  // Working space, kept between calls.
  struct Candidate {
    uint32_t campaign;
    int32_t group;
    int32_t priority;
    bool stackable;
    int64_t amount_fen;
  };
  std::vector<Candidate> candidates;
  std::vector<Candidate> balance_candidates;
  std::vector<int32_t> group_best;  // per group: index into candidates, or -1
  std::vector<int32_t> groups_touched;
};

struct GrantAnswer {
  std::vector<AppliedDiscount> granted;  // amount_fen: the grant
  std::vector<Rejection> rejected;
};

class RuleSet {
 public:
  struct Input {
    perks::v1::CampaignVersion version;
    bool paused = false;  // paused and ended campaigns are kept out of the index
    bool ended = false;

    // `spec` as published version `version`, with no hash or publisher: for previews, tests
    // and benchmarks.
    static Input Of(perks::v1::CampaignSpec spec, int32_t version = 1) {
      Input in;
      in.version.set_campaign_id(spec.campaign_id());
      in.version.set_version(version);
      *in.version.mutable_spec() = std::move(spec);
      return in;
    }
  };

  // Compiles the published versions. INVALID_ARGUMENT if one is not a valid spec or a campaign
  // id appears twice.
  static absl::StatusOr<std::shared_ptr<const RuleSet>> Compile(std::vector<Input> campaigns);

  // Evaluates `basket` (step 1-5 above) into `out`. `usage` may be null: limits are then not
  // checked (previews). With `explain`, candidates that did not apply are listed with the reason.
  void Evaluate(const perks::v1::Basket& basket, const UsageView* usage, bool explain,
                EvalResult& out) const;

  // The grants `event` earns the member in `member` (tenant, program, tags, member id;
  // at_unix_ms), optionally only from `campaign_id`.
  GrantAnswer EvaluateGrants(perks::v1::GrantEvent event, const perks::v1::Basket& member,
                             int64_t claim_fen, const std::string& campaign_id,
                             const UsageView* usage) const;

  size_t size() const { return campaigns_.size(); }
  const CompiledCampaign& campaign(uint32_t index) const { return *campaigns_[index]; }
  // The campaign with this id, or null.
  const CompiledCampaign* Find(std::string_view campaign_id) const;

  // The proto answer: discounts with titles and funding, and explanations for people.
  void ToProto(const perks::v1::Basket& basket, const EvalResult& result,
               perks::v1::Evaluation* out) const;
  void GrantsToProto(const perks::v1::Basket& member, const GrantAnswer& answer,
                     perks::v1::GrantResult* out) const;
  std::string Explain(const CompiledCampaign& c, NotAppliedReason reason,
                      const perks::v1::Basket& basket) const;
  // Each of `rejected`, with its reason and an explanation for people, into `out`.
  void AddNotApplied(const std::vector<Rejection>& rejected, const perks::v1::Basket& basket,
                     google::protobuf::RepeatedPtrField<perks::v1::NotApplied>* out) const;

 private:
  // What the scan of a bucket reads of a campaign (the bucket keeps it column by column). The
  // narrow fields are necessary conditions (whole seconds, amounts up to 42.9 million yuan, the
  // first 32 tags); where they are not exact, or the campaign needs more than them, `simple` is
  // false and the campaign's Slot decides.
  struct Row {
    uint32_t starts_s;  // floor(starts_ms / 1000)
    uint32_t ends_s;    // ceil(ends_ms / 1000), at most UINT32_MAX
    uint32_t min_fen;  // the most of the minimum spend and the rule's threshold, at most UINT32_MAX
    uint32_t tags_any;  // bit per tag id < 32; 0 = anyone (or: tags are checked on the slow path)
    // Simple campaigns only: the discount on a is min(a * rate_bp / 10000, lim_fen) with a
    // rate, else min(a, lim_fen); they start and end on the hour.
    uint32_t lim_fen;               // UINT32_MAX: no limit
    uint32_t start_hour, end_hour;  // hours since the epoch; end UINT32_MAX: open-ended
    uint16_t rate_bp;
    int8_t priority;
    // Exclusive, default group, no limits or budgets, on the hour, exact above: settled in the
    // scan.
    bool simple;
  };

  // Whether `at_s` (capped at UINT32_MAX) may be before the campaign's end: an end of
  // UINT32_MAX is none, or past what 32 bits tell, and the Slot decides.
  static bool BeforeEnd(uint32_t at_s, const Row& r) {
    return at_s < r.ends_s || r.ends_s == std::numeric_limits<uint32_t>::max();
  }

  // The rest of a campaign as the evaluation needs it, read only for those that pass.
  struct Slot {
    // The discount on an amount a >= rule_min_fen (see Discount()):
    //   min(a * rate_bp / 10000 + off_fen, cap_fen, a), or with per_multiple
    //   min((a / rule_min_fen) * off_fen, cap_fen, a).
    int64_t off_fen;
    int64_t cap_fen;  // INT64_MAX: no cap
    int64_t rule_min_fen;
    int64_t starts_ms;
    int64_t ends_ms;    // INT64_MAX: open-ended
    int64_t min_fen;    // exact
    uint64_t low_tags;  // tag ids < 64 that qualify, when tags_slow
    int32_t rate_bp;
    int32_t category;  // interned; -1 = any; -2 = several (checked on the slow path)
    int32_t group;
    int32_t priority;
    RuleKind kind;
    bool per_multiple;
    bool stackable;
    bool tags_slow;  // tag ids >= 64 qualify too: the slow path checks tags
    bool slow;       // more conditions on the CompiledCampaign, or Hot's narrow fields inexact
    bool needs_usage;
  };
  // The campaigns of one index key and category (-1: any category; -2: several, checked on the
  // slow path). Simple campaigns come first, the rest after by minimum spend, so the scan of the
  // rest stops at the first that wants more than the basket.
  //
  // What the scan reads of each simple campaign, column by column, 16 bytes a campaign, tested
  // without branches and vectorized: its dates as whole hours after the bucket's base hour
  // (simple campaigns start and end on the hour), its minimum, limit, rate and tags, each in
  // 16 bits (the discount on an amount a is min(a * rate_bp / 10000, lim) with a rate, else
  // min(a, lim)). The columns decide exactly for baskets below kNarrowAmountFen; larger ones
  // are decided from the campaign's Row. Simple campaigns are in order of priority (highest
  // first), then campaign index, so among equal discounts the first wins.
  struct Bucket {
    int32_t category;    // or kOverflow: then hot and n are the merchant's buckets in overflow_
    uint32_t n;          // campaigns
    uint16_t n_simple;   // of which simple: the first n_simple, at most kSimpleMax
    int16_t priority;    // of every simple campaign here, or kMixedPriorities
    uint32_t base_hour;  // hours since the epoch that hour 0 of the columns stands for
    uint32_t hot;        // in hot_: the columns Column, n_simple each, one after the other
    uint32_t ids;        // in ids_: the n campaigns' indexes
  };
  static_assert(sizeof(Bucket) == 24);
  static constexpr int32_t kOverflow = -4;
  static constexpr int32_t kMixedPriorities = 1000;
  // Then the campaign index (two halves), read for the winner only, close by.
  enum Column { kStartHour, kEndHour, kMin, kLim, kRate, kTags, kIdLow, kIdHigh, kColumns };
  static constexpr int kScoredColumns = kIdLow;
  // Column values: hours past what the columns tell (or no end) are kU16Never; a minimum or a
  // limit of kU16Never or more is kU16Never, which decides the same below kNarrowAmountFen.
  static constexpr uint32_t kU16Never = 0xffff;
  static constexpr int64_t kNarrowAmountFen = kU16Never;
  static constexpr uint32_t kSimpleMax = 0xffff;
  // A column of kLanes or more simple campaigns is padded with ones that never fit up to a
  // multiple of kLanes, so its scan runs whole vectors with no scalar tail.
  static constexpr size_t kLanes = 8;
  static size_t Stride(const Bucket& b) {
    return b.n_simple < kLanes ? b.n_simple : (size_t{b.n_simple} + kLanes - 1) & ~(kLanes - 1);
  }
  const uint16_t* Col(const Bucket& b, Column c) const {
    return hot_.data() + b.hot + Stride(b) * c;
  }
  // A merchant id as a map key, compared in the map's own slot: up to 15 bytes inline; a
  // longer one points into merchant_ids_ (which outlives the map).
  class MerchantKey {
   public:
    explicit MerchantKey(std::string_view id) {
      if (id.size() <= kInline) {
        std::memcpy(bytes_, id.data(), id.size());
        size_ = static_cast<uint8_t>(id.size());
      } else {
        const char* p = id.data();
        uint32_t n = static_cast<uint32_t>(id.size());
        std::memcpy(bytes_, &p, sizeof p);
        std::memcpy(bytes_ + sizeof p, &n, sizeof n);
        size_ = kFar;
      }
    }
    std::string_view view() const {
      if (size_ != kFar) return {bytes_, size_};
      const char* p;
      uint32_t n;
      std::memcpy(&p, bytes_, sizeof p);
      std::memcpy(&n, bytes_ + sizeof p, sizeof n);
      return {p, n};
    }

   private:
    static constexpr size_t kInline = 15;
    static constexpr uint8_t kFar = 0xff;
    char bytes_[kInline] = {};
    uint8_t size_ = 0;
  };
  static_assert(sizeof(MerchantKey) == 16);
  struct MerchantKeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return absl::Hash<std::string_view>{}(id); }
    size_t operator()(const MerchantKey& k) const { return (*this)(k.view()); }
  };
  struct MerchantKeyEq {
    using is_transparent = void;
    static std::string_view View(std::string_view id) { return id; }
    static std::string_view View(const MerchantKey& k) { return k.view(); }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a) == View(b);
    }
  };
  struct TenantIndex {
    // A merchant's bucket sits in its slot (nearly always its only one: a merchant has one
    // category), so finding it is one read of a small table, and its columns' address is known
    // at once.
    absl::flat_hash_map<MerchantKey, Bucket, MerchantKeyHash, MerchantKeyEq> by_merchant;
    absl::flat_hash_map<int32_t, Bucket> by_category;  // -1: every category
    std::vector<uint32_t> grants;
  };
  // Asks the memory for the columns the scan of `b` reads, all at once.
  void Prefetch(const Bucket& b) const;
  // Keys each simple campaign i of `b` for a basket of `amount` < kNarrowAmountFen at
  // `at_hour` (the bucket's hours, below kU16Never): 0 if its dates, minimum or tags do not
  // fit, else (1 + its discount) << 16 | (kSimpleMax - i). All in 32 bits, without branches.
  // Returns how many fit; *best_key gets the largest key.
  uint32_t ScoreNarrow(const Bucket& b, uint32_t at_hour, uint32_t amount, uint32_t tags,
                       uint32_t* best_key) const;
  // A simple campaign's discount on `amount`, from its rate and limit (UINT32_MAX: none).
  static int64_t SimpleDiscount(uint32_t rate_bp, uint32_t lim_fen, int64_t amount) {
    int64_t lim = lim_fen == UINT32_MAX ? INT64_MAX : int64_t{lim_fen};
    return std::min(rate_bp == 0 ? amount : amount * rate_bp / 10000, lim);
  }
  // Lays out a bucket of the campaigns `ids` at the end of the arenas.
  Bucket AddBucket(int32_t category, std::vector<uint32_t> ids);

  static int64_t Discount(const Slot& s, int64_t amount_fen) {
    if (amount_fen < s.rule_min_fen) return 0;
    int64_t d = s.per_multiple ? (amount_fen / s.rule_min_fen) * s.off_fen
                               : amount_fen * s.rate_bp / 10000 + s.off_fen;
    return std::min(std::min(d, s.cap_fen), amount_fen);
  }
  NotAppliedReason SlowCheck(const CompiledCampaign& c, const perks::v1::Basket& basket,
                             uint64_t tags, const LocalMoment& local) const;
  void Accept(uint32_t campaign, const perks::v1::Basket& basket, uint64_t tags,
              std::optional<LocalMoment>& local, const UsageView* usage, bool explain,
              EvalResult& out) const;
  void Scan(const Bucket& bucket, const perks::v1::Basket& basket, int32_t category, uint64_t tags,
            std::optional<LocalMoment>& local, const UsageView* usage, bool explain,
            EvalResult& out) const;
  void Stack(const perks::v1::Basket& basket, bool explain, EvalResult& out) const;
  static bool Better(const EvalResult::Candidate& a, const EvalResult::Candidate& b);

 public:
  // Campaign indexes fit in 20 bits of the scan's ordering key.
  static constexpr size_t kCampaignsMax = (1u << 20) - 1;

  std::vector<std::unique_ptr<CompiledCampaign>> campaigns_;  // sorted by campaign id
  std::vector<Slot> slots_;                                   // by campaign index
  absl::flat_hash_map<std::string, TenantIndex> tenants_;
  std::vector<Row> rows_;                 // by campaign index
  std::deque<std::string> merchant_ids_;  // stays where it is: long by_merchant keys
  std::vector<Bucket> overflow_;
  std::vector<uint16_t> hot_;  // each bucket's columns of simple campaigns
  std::vector<uint32_t> ids_;  // each bucket's campaign indexes
  absl::flat_hash_map<std::string, uint32_t> tag_ids_;
  absl::flat_hash_map<std::string, int32_t> category_ids_;
  int32_t groups_ = 1;
};

}  // namespace perks::promotion

#endif  // PERKS_SERVICES_PROMOTION_DOMAIN_ENGINE_H_
