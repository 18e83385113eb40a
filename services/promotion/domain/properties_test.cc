// Property tests (rapidcheck) of the engine's money: funding splits and stacking, over random
// campaigns and baskets, checked against the contract in engine.h and a naive model of it. A
// failure prints the smallest campaigns and baskets rapidcheck found and an RC_PARAMS that
// replays it; RC_PARAMS="max_success=5000" searches longer than the default 100 cases.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "services/common/money.h"
#include "services/promotion/domain/engine.h"
#include "services/promotion/domain/funding.h"
#include "services/promotion/domain/spec.h"

namespace perks::promotion {
namespace {

using perks::v1::Basket;
using perks::v1::CampaignSpec;
using perks::v1::Funder;

// 2026-11-25 (a Wednesday) 12:00 in Shanghai.
const int64_t kNoon = absl::ToUnixMillis(
    absl::FromCivil(absl::CivilSecond(2026, 11, 25, 12, 0, 0), absl::FixedTimeZone(8 * 3600)));
constexpr int64_t kHourMs = 3600 * 1000;

// ---- Generators ----------------------------------------------------------------------------

// Uniform in [lo, hi] whatever the test's size (rapidcheck's inRange narrows with the size);
// shrinks towards lo.
template <typename T>
rc::Gen<T> Between(T lo, T hi) {
  return rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(lo, hi + 1));
}

// True one time in `n`; shrinks to false.
bool OneIn(int n) { return *Between(1, n) == n; }

// Each of `pool` with probability 1/`n`, in the pool's order: often none.
std::vector<std::string> SomeOf(const std::vector<std::string>& pool, int n) {
  std::vector<std::string> out;
  for (const std::string& v : pool) {
    if (OneIn(n)) out.push_back(v);
  }
  return out;
}

struct Share {
  Funder funder = perks::v1::FUNDER_UNSPECIFIED;
  int64_t bp = 0;         // 0: a fixed share
  int64_t fixed_fen = 0;  // fixed shares only
};

void showValue(const Share& s, std::ostream& os) {
  os << perks::v1::Funder_Name(s.funder);
  if (s.bp > 0) {
    os << " " << s.bp << "bp";
  } else {
    os << " fixed " << s.fixed_fen;
  }
}

Shares ToShares(const std::vector<Share>& funding) {
  Shares out;
  for (const Share& f : funding) {
    auto* s = out.Add();
    s->set_funder(f.funder);
    s->set_share_bp(f.bp);
    s->set_fixed_fen(f.fixed_fen);
  }
  return out;
}

// A funding ValidateFunding accepts: 1-3 distinct funders in any order, at least one share in
// basis points (each above 0, together 10000), the others fixed amounts (0 included).
rc::Gen<std::vector<Share>> GenFunding() {
  return rc::gen::exec([] {
    std::vector<Funder> left = {perks::v1::FUNDER_BANK, perks::v1::FUNDER_UNION,
                                perks::v1::FUNDER_MERCHANT};
    const int n = *Between(1, 3);
    std::vector<Share> out;
    for (int i = 0; i < n; ++i) {
      size_t j = *Between<size_t>(0, left.size() - 1);
      out.push_back({left[j]});
      left.erase(left.begin() + static_cast<ptrdiff_t>(j));
    }
    std::vector<int> in_bp;
    for (int i = 0; i < n; ++i) {
      if (!OneIn(3)) in_bp.push_back(i);
    }
    if (in_bp.empty()) in_bp.push_back(*Between(0, n - 1));
    int64_t bp_left = 10000;
    for (size_t k = 0; k < in_bp.size(); ++k) {
      const auto after = static_cast<int64_t>(in_bp.size() - k - 1);  // each needs 1 bp at least
      int64_t bp = after == 0 ? bp_left
                              : *rc::gen::weightedOneOf<int64_t>({
                                    {3, Between<int64_t>(1, bp_left - after)},
                                    {1, rc::gen::element<int64_t>(1, bp_left - after)},
                                });
      out[in_bp[k]].bp = bp;
      bp_left -= bp;
    }
    for (Share& s : out) {
      if (s.bp > 0) continue;
      s.fixed_fen = *rc::gen::weightedOneOf<int64_t>({
          {1, rc::gen::just<int64_t>(0)},
          {3, Between<int64_t>(0, 5000)},
          {1, Between<int64_t>(0, 1'000'000'000'000)},
      });
    }
    return out;
  });
}

// A power of two from 2^8 to 2^33, give or take one: where narrow copies of amounts stop.
rc::Gen<int64_t> GenNearPowerOfTwo() {
  return rc::gen::exec(
      [] { return (int64_t{1} << *Between(8, 33)) + *rc::gen::element<int64_t>(-1, 0, 1); });
}

// Amounts where the rules' and the scan's boundaries are: small and round ones, around powers
// of two and 2^32 fen (the scan keeps 32-bit copies), anything up to the largest amount accepted.
rc::Gen<int64_t> GenAmount() {
  return rc::gen::weightedOneOf<int64_t>({
      {4, Between<int64_t>(0, 30000)},
      {3, rc::gen::element<int64_t>(1, 999, 1000, 1001, 5000, 10000, 20000)},
      {1, GenNearPowerOfTwo()},
      {1, Between<int64_t>(4'294'967'290, 4'294'967'300)},
      {1, Between<int64_t>(0, kAmountFenMax)},
  });
}

rc::Gen<int64_t> GenPositiveAmount() {
  return rc::gen::map(GenAmount(), [](int64_t a) { return std::max<int64_t>(a, 1); });
}

// Amounts off: a few round ones (so that offers tie), around powers of two and the largest
// 32-bit amount, any.
rc::Gen<int64_t> GenOff() {
  return rc::gen::weightedOneOf<int64_t>({
      {3, rc::gen::element<int64_t>(100, 200, 300, 1000, 3000)},
      {2, Between<int64_t>(1, 20000)},
      {1, GenNearPowerOfTwo()},
      {1, Between<int64_t>(4'294'967'000, 4'294'967'300)},
      {1, Between<int64_t>(1, kAmountFenMax)},
  });
}

// Instants every 5 hours from 30 hours before kNoon to 30 hours after (other hours and
// weekdays), each give or take up to 1.5 seconds (the scan keeps whole seconds).
rc::Gen<int64_t> GenMoment() {
  return rc::gen::exec([] {
    int64_t anchor = kNoon + (*Between(0, 12) - 6) * 5 * kHourMs;
    int64_t jitter = *rc::gen::weightedOneOf<int64_t>({
        {2, rc::gen::element<int64_t>(0, -1, 1, -500, 500, -999, 999, -1000, 1000)},
        {1, Between<int64_t>(-1500, 1500)},
    });
    return anchor + jitter;
  });
}

// A minute of the day (0-1440) for hours of eligibility: often at a whole hour, give or take a
// minute, where GenMoment's instants fall.
rc::Gen<int> GenMinuteOfDay() {
  return rc::gen::exec([] {
    if (OneIn(3)) return *Between(0, 1440);
    return std::clamp(*Between(0, 24) * 60 + *rc::gen::element(-1, 0, 1), 0, 1440);
  });
}

enum class Kind { kThreshold, kPerMultiple, kPercent, kFixed, kFare, kBalancePayment };

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kThreshold:
      return "threshold";
    case Kind::kPerMultiple:
      return "per-multiple";
    case Kind::kPercent:
      return "percent";
    case Kind::kFixed:
      return "fixed";
    case Kind::kFare:
      return "fare";
    case Kind::kBalancePayment:
      return "balance-payment";
  }
  return "?";
}

// A campaign as generated; ToSpec writes it as an admin would.
struct Offer {
  std::string id;
  std::string tenant = "bozhou";
  Kind kind = Kind::kFixed;
  int64_t min_fen = 0;  // thresholds
  int64_t off_fen = 0;  // thresholds, fixed
  int64_t cap_fen = 0;  // thresholds, percent; 0 = none
  int64_t bp = 0;       // percent: off; fare: what the member pays; balance payment: top-up
  std::string balance;  // balance payment
  int64_t min_spend_fen = 0;
  std::optional<int64_t> starts_ms, ends_ms;
  std::vector<std::string> merchants, categories, tags, programs, stores, regions;
  std::vector<int> weekdays;
  int day_start_minute = 0, day_end_minute = 0;
  std::string group;
  bool stackable = false;
  int32_t priority = 0;
  std::vector<Share> funding;
};

void showValue(const Offer& o, std::ostream& os) {
  os << "{" << o.id << " " << o.tenant << " " << KindName(o.kind);
  if (o.min_fen) os << " min=" << o.min_fen;
  if (o.off_fen) os << " off=" << o.off_fen;
  if (o.cap_fen) os << " cap=" << o.cap_fen;
  if (o.bp || o.kind == Kind::kFare) os << " bp=" << o.bp;
  if (!o.balance.empty()) os << " balance=" << o.balance;
  if (o.min_spend_fen) os << " min_spend=" << o.min_spend_fen;
  if (o.starts_ms) os << " starts=noon" << absl::StrFormat("%+d", *o.starts_ms - kNoon) << "ms";
  if (o.ends_ms) os << " ends=noon" << absl::StrFormat("%+d", *o.ends_ms - kNoon) << "ms";
  auto list = [&os](const char* name, const std::vector<std::string>& v) {
    if (!v.empty()) os << " " << name << "=[" << absl::StrJoin(v, ",") << "]";
  };
  list("merchants", o.merchants);
  list("categories", o.categories);
  list("tags", o.tags);
  list("programs", o.programs);
  list("stores", o.stores);
  list("regions", o.regions);
  if (!o.weekdays.empty()) os << " weekdays=[" << absl::StrJoin(o.weekdays, ",") << "]";
  if (o.day_end_minute) os << " minutes=[" << o.day_start_minute << "," << o.day_end_minute << ")";
  if (!o.group.empty()) os << " group=" << o.group;
  if (o.stackable) os << " stackable";
  if (o.priority) os << " priority=" << o.priority;
  os << " funding=";
  rc::show(o.funding, os);
  os << "}";
}

CampaignSpec ToSpec(const Offer& o) {
  CampaignSpec s;
  s.set_campaign_id(o.id);
  s.set_tenant_id(o.tenant);
  s.set_title(o.id);
  *s.mutable_funding() = ToShares(o.funding);
  switch (o.kind) {
    case Kind::kThreshold:
    case Kind::kPerMultiple:
      s.mutable_threshold()->set_min_fen(o.min_fen);
      s.mutable_threshold()->set_off_fen(o.off_fen);
      s.mutable_threshold()->set_per_multiple(o.kind == Kind::kPerMultiple);
      s.mutable_threshold()->set_cap_fen(o.cap_fen);
      break;
    case Kind::kPercent:
      s.mutable_percent()->set_off_bp(o.bp);
      s.mutable_percent()->set_cap_fen(o.cap_fen);
      break;
    case Kind::kFixed:
      s.mutable_fixed()->set_off_fen(o.off_fen);
      break;
    case Kind::kFare:
      s.mutable_fare()->set_pay_bp(o.bp);
      break;
    case Kind::kBalancePayment:
      s.mutable_balance_payment()->set_balance_name(o.balance);
      s.mutable_balance_payment()->set_topup_bp(o.bp);
      {
        auto* f = s.mutable_balance_payment()->add_balance_funding();
        f->set_funder(perks::v1::FUNDER_UNION);
        f->set_share_bp(10000);
      }
      break;
  }
  if (o.starts_ms) *s.mutable_starts_at() = TimestampFromMs(*o.starts_ms);
  if (o.ends_ms) *s.mutable_ends_at() = TimestampFromMs(*o.ends_ms);
  auto* e = s.mutable_eligibility();
  e->set_min_spend_fen(o.min_spend_fen);
  for (const auto& v : o.merchants) e->add_merchant_ids(v);
  for (const auto& v : o.categories) e->add_categories(v);
  for (const auto& v : o.tags) e->add_member_tags_any(v);
  for (const auto& v : o.programs) e->add_program_ids(v);
  for (const auto& v : o.stores) e->add_store_ids(v);
  for (const auto& v : o.regions) e->add_regions(v);
  for (int d : o.weekdays) e->add_weekdays(d);
  e->set_day_start_minute(o.day_start_minute);
  e->set_day_end_minute(o.day_end_minute);
  s.mutable_stacking()->set_stackable(o.stackable);
  s.mutable_stacking()->set_group(o.group);
  s.mutable_stacking()->set_priority(o.priority);
  return s;
}

const std::vector<std::string> kMerchants = {"m-1", "m-2", "m-3"};
const std::vector<std::string> kCategories = {"supermarket", "dining", "fuel"};
const std::vector<std::string> kTags = {"t-0", "t-1", "t-2", "t-3", "t-4"};
const std::vector<std::string> kPrograms = {"bozhou-member", "bozhou-retired"};
const std::vector<std::string> kStores = {"s-1", "s-2"};
const std::vector<std::string> kRegions = {"r-1", "r-2"};
const std::vector<std::string> kBalances = {"warm-heart", "transit"};

// What kinds of campaign a property draws.
struct Mix {
  bool stacking = true;  // stackable offers and several exclusive groups; else all in `group`
  std::string group;
  bool balance_payments = true;
  bool slow_conditions = true;  // programs, stores, regions, weekdays, hours
};

rc::Gen<Offer> GenOffer(Mix mix) {
  return rc::gen::exec([mix] {
    Offer o;
    if (OneIn(8)) o.tenant = "anqing";
    o.kind = static_cast<Kind>(*Between(0, mix.balance_payments ? 5 : 4));
    switch (o.kind) {
      case Kind::kThreshold:
      case Kind::kPerMultiple:
        o.min_fen = *GenPositiveAmount();
        o.off_fen = std::min(*GenOff(), o.min_fen);
        if (OneIn(2)) o.cap_fen = *GenPositiveAmount();
        break;
      case Kind::kPercent:
        o.bp = *rc::gen::weightedOneOf<int64_t>({
            {1, rc::gen::element<int64_t>(1000, 2000, 5000, 10000)},
            {1, Between<int64_t>(1, 10000)},
        });
        if (OneIn(2)) o.cap_fen = *GenPositiveAmount();
        break;
      case Kind::kFixed:
        o.off_fen = *GenOff();
        break;
      case Kind::kFare:
        o.bp = *rc::gen::weightedOneOf<int64_t>({
            {1, rc::gen::element<int64_t>(0, 5000, 9999)},
            {1, Between<int64_t>(0, 9999)},
        });
        break;
      case Kind::kBalancePayment:
        o.balance = *rc::gen::elementOf(kBalances);
        o.bp = *rc::gen::weightedOneOf<int64_t>({
            {1, rc::gen::element<int64_t>(0, 1000, 10000)},
            {1, Between<int64_t>(0, 10000)},
        });
        break;
    }
    if (OneIn(3)) o.min_spend_fen = *GenAmount();
    switch (*Between(0, 8)) {
      case 1:
        o.starts_ms = *GenMoment();
        break;
      case 2:
        o.ends_ms = *GenMoment();
        break;
      case 3: {
        int64_t a = *GenMoment(), b = *GenMoment();
        if (a == b) ++b;
        o.starts_ms = std::min(a, b);
        o.ends_ms = std::max(a, b);
        break;
      }
      default:
        break;  // no dates: always on
    }
    if (OneIn(3)) o.merchants = SomeOf(kMerchants, 2);
    if (OneIn(3)) o.categories = SomeOf(kCategories, 2);
    if (OneIn(3)) o.tags = SomeOf(kTags, 2);
    if (mix.slow_conditions) {
      if (OneIn(6)) o.programs = SomeOf(kPrograms, 2);
      if (OneIn(6)) o.stores = SomeOf(kStores, 2);
      if (OneIn(6)) o.regions = SomeOf(kRegions, 2);
      if (OneIn(6)) {
        for (int d = 1; d <= 7; ++d) {
          if (OneIn(2)) o.weekdays.push_back(d);
        }
      }
      if (OneIn(6)) {
        int a = *GenMinuteOfDay(), b = *GenMinuteOfDay();
        if (a == b) b = a == 1440 ? a - 1 : a + 1;
        o.day_start_minute = std::min(a, b);
        o.day_end_minute = std::max(a, b);
      }
    }
    if (mix.stacking) {
      o.group = *rc::gen::element<std::string>("", "", "g-a", "g-b");
      o.stackable = OneIn(3);
    } else {
      o.group = mix.group;
    }
    o.priority = *rc::gen::weightedOneOf<int32_t>({
        {6, rc::gen::element<int32_t>(0, 0, 0, 1, 2, -1)},
        {1, rc::gen::element<int32_t>(127, -128, 128, -129, 1000, -1000)},
    });
    o.funding = *GenFunding();
    return o;
  });
}

// 1-12 campaigns with distinct ids in an order unrelated to the list's. One time in four also a
// campaign of another city, first by id, naming 20-70 tags of its own: the others' tags are then
// interned past the scan's 32 bits, or past 64.
rc::Gen<std::vector<Offer>> GenOffers(Mix mix) {
  return rc::gen::exec([mix] {
    std::vector<Offer> offers = *rc::gen::resize(
        12, rc::gen::nonEmpty(rc::gen::container<std::vector<Offer>>(GenOffer(mix))));
    std::vector<int> numbers;
    for (size_t i = 0; i < offers.size(); ++i) numbers.push_back(static_cast<int>(i));
    for (Offer& o : offers) {
      size_t j = *Between<size_t>(0, numbers.size() - 1);
      o.id = absl::StrFormat("c-%02d", numbers[j]);
      numbers.erase(numbers.begin() + static_cast<ptrdiff_t>(j));
    }
    if (OneIn(4)) {
      Offer many;
      many.id = "a-many-tags";
      many.tenant = "anqing";
      many.kind = Kind::kFixed;
      many.off_fen = 1;
      many.group = mix.stacking ? "" : mix.group;
      many.funding = {{perks::v1::FUNDER_BANK, 10000, 0}};
      const int tags = *rc::gen::element(20, 40, 70);
      for (int i = 0; i < tags; ++i) many.tags.push_back(absl::StrFormat("x-%02d", i));
      offers.push_back(std::move(many));
    }
    return offers;
  });
}

// A basket as generated.
struct Cart {
  std::string tenant = "bozhou";
  std::string program, merchant, store, category, region;
  std::vector<std::string> tags;
  int64_t amount_fen = 0;
  int64_t at_ms = 0;
  std::map<std::string, int64_t> balances;
};

void showValue(const Cart& c, std::ostream& os) {
  os << "{" << c.tenant << " " << c.program << " " << c.merchant << " " << c.store << " "
     << c.category << " " << c.region << " tags=[" << absl::StrJoin(c.tags, ",")
     << "] amount=" << c.amount_fen << " at=noon" << absl::StrFormat("%+d", c.at_ms - kNoon)
     << "ms";
  for (const auto& [name, fen] : c.balances) os << " " << name << "=" << fen;
  os << "}";
}

Basket ToBasket(const Cart& c) {
  Basket b;
  b.set_tenant_id(c.tenant);
  b.set_program_id(c.program);
  b.set_member_id("m1");
  for (const auto& t : c.tags) b.add_member_tags(t);
  b.set_merchant_id(c.merchant);
  b.set_store_id(c.store);
  b.set_category(c.category);
  b.set_region(c.region);
  b.set_amount_fen(c.amount_fen);
  b.set_at_unix_ms(c.at_ms);
  for (const auto& [name, fen] : c.balances) (*b.mutable_balances_fen())[name] = fen;
  return b;
}

// A basket anywhere; the pools hold a merchant, a category and a tag no campaign names.
rc::Gen<Cart> GenCart() {
  return rc::gen::exec([] {
    Cart c;
    if (OneIn(8)) c.tenant = "anqing";
    c.program = *rc::gen::element<std::string>("bozhou-member", "bozhou-retired");
    c.merchant = *rc::gen::element<std::string>("m-1", "m-2", "m-3", "m-4");
    c.store = *rc::gen::element<std::string>("s-1", "s-2", "s-3");
    c.category = *rc::gen::element<std::string>("supermarket", "dining", "fuel", "pharmacy");
    c.region = *rc::gen::element<std::string>("r-1", "r-2", "r-3");
    c.tags = SomeOf({"t-0", "t-1", "t-2", "t-3", "t-4", "t-new"}, 3);
    c.amount_fen = *GenAmount();
    c.at_ms = *GenMoment();
    for (const std::string& name : kBalances) {
      if (OneIn(2)) c.balances[name] = *GenAmount();
    }
    return c;
  });
}

// A basket, one time in two aimed at one of `offers`: its city, one of its merchants,
// categories, tags, programs, stores and regions, and an amount and a time on or next to its
// boundaries (minimum spend, dates, hours).
rc::Gen<Cart> GenCartFor(const std::vector<Offer>& offers) {
  return rc::gen::exec([offers] {
    Cart c = *GenCart();
    if (!OneIn(2)) return c;
    const Offer& o = offers[*Between<size_t>(0, offers.size() - 1)];
    c.tenant = o.tenant;
    auto pick = [](const std::vector<std::string>& v, std::string& out) {
      if (!v.empty()) out = *rc::gen::elementOf(v);
    };
    pick(o.merchants, c.merchant);
    pick(o.categories, c.category);
    pick(o.programs, c.program);
    pick(o.stores, c.store);
    pick(o.regions, c.region);
    if (!o.tags.empty()) c.tags.push_back(*rc::gen::elementOf(o.tags));
    std::vector<int64_t> amounts = {c.amount_fen};
    for (int64_t m : {o.min_fen, o.min_spend_fen}) {
      if (m == 0) continue;
      for (int64_t a : {m - 1, m, m + 1}) amounts.push_back(std::min(a, kAmountFenMax));
    }
    c.amount_fen = *rc::gen::elementOf(amounts);
    std::vector<int64_t> times = {c.at_ms};
    for (const auto& t : {o.starts_ms, o.ends_ms}) {
      if (t) times.insert(times.end(), {*t - 1, *t});
    }
    if (o.day_end_minute != 0) {
      // That day in Shanghai, in the minute before, the first, the last and the one after.
      const int64_t day = 24 * kHourMs;
      const int64_t midnight = (c.at_ms + 8 * kHourMs) / day * day - 8 * kHourMs;
      for (int m :
           {o.day_start_minute - 1, o.day_start_minute, o.day_end_minute - 1, o.day_end_minute}) {
        times.push_back(midnight + m * 60000 + *Between<int64_t>(0, 59999));
      }
    }
    c.at_ms = *rc::gen::elementOf(times);
    return c;
  });
}

// 1-20 of them; shrinking drops those a failure does not need.
rc::Gen<std::vector<Cart>> GenCartsFor(const std::vector<Offer>& offers) {
  return rc::gen::resize(
      20, rc::gen::nonEmpty(rc::gen::container<std::vector<Cart>>(GenCartFor(offers))));
}

// ---- The engine, and a naive model of it ---------------------------------------------------

std::shared_ptr<const RuleSet> CompileOffers(const std::vector<Offer>& offers) {
  std::vector<RuleSet::Input> in;
  for (const Offer& o : offers) {
    CampaignSpec spec = ToSpec(o);
    if (absl::Status s = ValidateSpec(spec); !s.ok()) RC_FAIL(std::string(s.message()));
    in.push_back(RuleSet::Input::Of(std::move(spec)));
  }
  auto set = RuleSet::Compile(std::move(in));
  if (!set.ok()) RC_FAIL(std::string(set.status().message()));
  return *set;
}

// campaign id, discount, from the balance: what a member sees.
using Applied = std::vector<std::tuple<std::string, int64_t, int64_t>>;

Applied AppliedOf(const RuleSet& set, const EvalResult& r) {
  Applied out;
  for (const AppliedDiscount& a : r.applied) {
    out.emplace_back(set.campaign(a.campaign).id(), a.amount_fen, a.from_balance_fen);
  }
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Every condition of step 2 (engine.h), the slow and obvious way. Shanghai is UTC+8 all year.
bool NaiveMeets(const Offer& o, const Cart& b) {
  if (b.amount_fen <= 0 || o.tenant != b.tenant) return false;
  if (!o.merchants.empty() && !Contains(o.merchants, b.merchant)) return false;
  if (!o.categories.empty() && !Contains(o.categories, b.category)) return false;
  if (o.starts_ms && b.at_ms < *o.starts_ms) return false;
  if (o.ends_ms && b.at_ms >= *o.ends_ms) return false;
  if (!o.tags.empty() && std::none_of(b.tags.begin(), b.tags.end(),
                                      [&](const std::string& t) { return Contains(o.tags, t); })) {
    return false;
  }
  // A threshold's min_fen is a minimum spend too.
  int64_t min = o.min_spend_fen;
  if (o.kind == Kind::kThreshold || o.kind == Kind::kPerMultiple) min = std::max(min, o.min_fen);
  if (b.amount_fen < min) return false;
  if (!o.programs.empty() && !Contains(o.programs, b.program)) return false;
  if (!o.stores.empty() && !Contains(o.stores, b.store)) return false;
  if (!o.regions.empty() && !Contains(o.regions, b.region)) return false;
  const int64_t local_ms = b.at_ms + 8 * kHourMs;
  const int64_t day = local_ms / (24 * kHourMs);
  const int weekday = static_cast<int>((day + 3) % 7) + 1;  // 1970-01-01 was a Thursday
  const int minute = static_cast<int>(local_ms % (24 * kHourMs) / 60000);
  if (!o.weekdays.empty() &&
      std::find(o.weekdays.begin(), o.weekdays.end(), weekday) == o.weekdays.end()) {
    return false;
  }
  if (o.day_end_minute != 0 && (minute < o.day_start_minute || minute >= o.day_end_minute)) {
    return false;
  }
  return true;
}

// The discount on `a` fen, as promotion.proto describes each rule.
int64_t NaiveDiscount(const Offer& o, int64_t a) {
  int64_t d = 0;
  switch (o.kind) {
    case Kind::kThreshold:
      if (a < o.min_fen) return 0;
      d = o.off_fen;
      break;
    case Kind::kPerMultiple:
      if (a < o.min_fen) return 0;
      d = (a / o.min_fen) * o.off_fen;
      break;
    case Kind::kPercent:
      d = a * o.bp / 10000;
      break;
    case Kind::kFixed:
      d = o.off_fen;
      break;
    case Kind::kFare:
      // The member pays pay_bp of the fare, rounded up.
      return a - (a * o.bp + 9999) / 10000;
    case Kind::kBalancePayment:
      return 0;
  }
  if (o.cap_fen > 0) d = std::min(d, o.cap_fen);
  return std::min(d, a);
}

// Of two exclusive offers, the member's: the more off, then the higher priority, then the
// smaller campaign id.
bool NaiveBetter(const Offer& a, int64_t a_fen, const Offer& b, int64_t b_fen) {
  if (a_fen != b_fen) return a_fen > b_fen;
  if (a.priority != b.priority) return a.priority > b.priority;
  return a.id < b.id;
}

struct NaiveAnswer {
  int32_t applicable = 0;
  Applied applied;
  int64_t discount_fen = 0;
};

// Steps 2-4 of engine.h for campaigns without balance payments.
NaiveAnswer NaiveEvaluate(const std::vector<Offer>& offers, const Cart& b) {
  struct Candidate {
    const Offer* offer;
    int64_t discount;
  };
  NaiveAnswer answer;
  std::vector<Candidate> stacked;
  std::map<std::string, Candidate> best;  // exclusive: by group
  for (const Offer& o : offers) {
    if (!NaiveMeets(o, b)) continue;
    ++answer.applicable;
    Candidate c{&o, NaiveDiscount(o, b.amount_fen)};
    if (o.stackable) {
      stacked.push_back(c);
      continue;
    }
    auto [it, first] = best.try_emplace(o.group, c);
    if (!first && NaiveBetter(o, c.discount, *it->second.offer, it->second.discount)) {
      it->second = c;
    }
  }
  for (const auto& [group, c] : best) stacked.push_back(c);
  // The highest priority first, then the smaller campaign id; each on what is left.
  std::sort(stacked.begin(), stacked.end(), [](const Candidate& x, const Candidate& y) {
    if (x.offer->priority != y.offer->priority) return x.offer->priority > y.offer->priority;
    return x.offer->id < y.offer->id;
  });
  int64_t left = b.amount_fen;
  for (const Candidate& c : stacked) {
    const int64_t d = NaiveDiscount(*c.offer, left);
    if (d <= 0) continue;
    answer.applied.emplace_back(c.offer->id, d, 0);
    answer.discount_fen += d;
    left -= d;
  }
  return answer;
}

// ---- Funding splits ------------------------------------------------------------------------

rc::Gen<int64_t> GenDiscount() {
  return rc::gen::weightedOneOf<int64_t>({
      {2, Between<int64_t>(0, 100)},
      {2, Between<int64_t>(0, 1'000'000)},
      {2, Between<int64_t>(0, 1'000'000'000'000)},
      {1, rc::gen::element<int64_t>(0, 1, 9999, 10000, 10001, 1'000'000'000'000)},
  });
}

RC_GTEST_PROP(FundingPropertyTest, EverySplitSumsExactlyToTheDiscount, ()) {
  const std::vector<Share> funding = *GenFunding();
  const int64_t discount = *GenDiscount();
  const Shares shares = ToShares(funding);
  RC_ASSERT(ValidateFunding(shares).ok());
  const std::vector<perks::v1::FundedShare> split = SplitDiscount(discount, shares);
  RC_ASSERT(split.size() == static_cast<size_t>(shares.size()));
  int64_t sum = 0;
  for (int i = 0; i < shares.size(); ++i) {
    RC_ASSERT(split[i].funder() == shares[i].funder());  // in the order written
    RC_ASSERT(split[i].amount_fen() >= 0);
    if (shares[i].share_bp() == 0) RC_ASSERT(split[i].amount_fen() <= shares[i].fixed_fen());
    sum += split[i].amount_fen();
  }
  RC_ASSERT(sum == discount);
}

RC_GTEST_PROP(FundingPropertyTest, FixedSharesComeFirstAndTheRoundingFenGoToTheLastBpShare, ()) {
  const std::vector<Share> funding = *GenFunding();
  const int64_t discount = *GenDiscount();
  const std::vector<perks::v1::FundedShare> split = SplitDiscount(discount, ToShares(funding));
  RC_ASSERT(split.size() == funding.size());
  int64_t rest = discount;
  for (size_t i = 0; i < funding.size(); ++i) {
    if (funding[i].bp > 0) continue;
    RC_ASSERT(split[i].amount_fen() == std::min(funding[i].fixed_fen, rest));
    rest -= split[i].amount_fen();
  }
  size_t last = funding.size();
  int64_t floors = 0, bp_shares = 0;
  for (size_t i = 0; i < funding.size(); ++i) {
    if (funding[i].bp == 0) continue;
    floors += rest * funding[i].bp / 10000;
    ++bp_shares;
    last = i;
  }
  RC_ASSERT(last < funding.size());
  for (size_t i = 0; i < funding.size(); ++i) {
    if (funding[i].bp == 0 || i == last) continue;
    RC_ASSERT(split[i].amount_fen() == rest * funding[i].bp / 10000);
  }
  // Rounding down loses less than a fen a share: the last one written gets what is left.
  const int64_t leftover = rest - floors;
  RC_ASSERT(leftover >= 0);
  RC_ASSERT(leftover < bp_shares);
  RC_ASSERT(split[last].amount_fen() == rest * funding[last].bp / 10000 + leftover);
}

// ---- Evaluation ----------------------------------------------------------------------------

RC_GTEST_PROP(EnginePropertyTest, EveryFenOfTheBasketIsAccountedFor, ()) {
  const std::vector<Offer> offers = *GenOffers(Mix{});
  const std::vector<Cart> carts = *GenCartsFor(offers);
  const auto set = CompileOffers(offers);
  EvalResult r;
  for (size_t i = 0; i < carts.size(); ++i) {
    RC_LOG() << "basket " << i << "\n";
    set->Evaluate(ToBasket(carts[i]), nullptr, /*explain=*/false, r);
    RC_ASSERT(r.amount_fen == carts[i].amount_fen);
    RC_ASSERT(r.discount_fen + r.from_balances_fen + r.to_pay_fen == r.amount_fen);
    RC_ASSERT(r.discount_fen >= 0);
    RC_ASSERT(r.from_balances_fen >= 0);
    RC_ASSERT(r.to_pay_fen >= 0);
    RC_ASSERT(r.discount_fen <= r.amount_fen);
    int64_t discounts = 0, from_balances = 0;
    std::set<uint32_t> campaigns;
    std::set<int32_t> exclusive_groups;
    std::map<std::string, int64_t> drawn;
    for (const AppliedDiscount& a : r.applied) {
      const CompiledCampaign& c = set->campaign(a.campaign);
      RC_LOG() << "applied " << c.id() << " " << a.amount_fen << " " << a.from_balance_fen << "\n";
      RC_ASSERT(a.amount_fen >= 0);
      RC_ASSERT(a.from_balance_fen >= 0);
      RC_ASSERT(a.amount_fen + a.from_balance_fen > 0);  // nothing is applied for nothing
      RC_ASSERT(campaigns.insert(a.campaign).second);    // once
      if (c.kind == RuleKind::kBalancePayment) {
        drawn[c.spec().balance_payment().balance_name()] += a.from_balance_fen;
      } else {
        RC_ASSERT(a.from_balance_fen == 0);
        // An exclusive group gives one discount at most.
        if (!c.stackable) RC_ASSERT(exclusive_groups.insert(c.group).second);
      }
      discounts += a.amount_fen;
      from_balances += a.from_balance_fen;
    }
    RC_ASSERT(discounts == r.discount_fen);
    RC_ASSERT(from_balances == r.from_balances_fen);
    for (const auto& [name, fen] : drawn) {  // no balance pays more than it holds
      auto it = carts[i].balances.find(name);
      RC_ASSERT(it != carts[i].balances.end());
      RC_ASSERT(fen <= it->second);
    }
  }
}

RC_GTEST_PROP(EnginePropertyTest, EveryAppliedDiscountsFundingSumsToItsAmount, ()) {
  const std::vector<Offer> offers = *GenOffers(Mix{});
  const std::vector<Cart> carts = *GenCartsFor(offers);
  const auto set = CompileOffers(offers);
  EvalResult r;
  perks::v1::Evaluation e;
  for (size_t i = 0; i < carts.size(); ++i) {
    RC_LOG() << "basket " << i << "\n";
    const Basket basket = ToBasket(carts[i]);
    set->Evaluate(basket, nullptr, /*explain=*/true, r);
    set->ToProto(basket, r, &e);
    RC_ASSERT(e.amount_fen() == e.discount_fen() + e.from_balances_fen() + e.to_pay_fen());
    RC_ASSERT(e.discount_fen() == r.discount_fen);
    RC_ASSERT(static_cast<size_t>(e.discounts_size()) == r.applied.size());
    for (int k = 0; k < e.discounts_size(); ++k) {
      const perks::v1::Discount& d = e.discounts(k);
      const Shares& funding = set->campaign(r.applied[k].campaign).spec().funding();
      RC_LOG() << d.campaign_id() << " " << d.amount_fen() << "\n";
      RC_ASSERT(d.funding_size() == funding.size());
      int64_t sum = 0;
      for (int j = 0; j < d.funding_size(); ++j) {
        RC_ASSERT(d.funding(j).funder() == funding[j].funder());
        RC_ASSERT(d.funding(j).amount_fen() >= 0);
        if (funding[j].share_bp() == 0) {
          RC_ASSERT(d.funding(j).amount_fen() <= funding[j].fixed_fen());
        }
        sum += d.funding(j).amount_fen();
      }
      RC_ASSERT(sum == d.amount_fen());
      const auto split = SplitDiscount(d.amount_fen(), funding);
      for (int j = 0; j < d.funding_size(); ++j) {
        RC_ASSERT(d.funding(j).amount_fen() == split[j].amount_fen());
      }
    }
  }
}

RC_GTEST_PROP(EnginePropertyTest, CompilingTheCampaignsInAnyOrderGivesTheSameAnswers, ()) {
  const std::vector<Offer> offers = *GenOffers(Mix{});
  const std::vector<Cart> carts = *GenCartsFor(offers);
  std::vector<Offer> shuffled = offers;
  std::mt19937 rng(*rc::gen::arbitrary<uint32_t>());
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  RC_LOG() << "shuffled:";
  for (const Offer& o : shuffled) RC_LOG() << " " << o.id;
  RC_LOG() << "\n";
  const auto a = CompileOffers(offers);
  const auto b = CompileOffers(shuffled);
  EvalResult ra, rb;
  for (size_t i = 0; i < carts.size(); ++i) {
    RC_LOG() << "basket " << i << "\n";
    const Basket basket = ToBasket(carts[i]);
    a->Evaluate(basket, nullptr, /*explain=*/false, ra);
    b->Evaluate(basket, nullptr, /*explain=*/false, rb);
    RC_ASSERT(AppliedOf(*a, ra) == AppliedOf(*b, rb));
    RC_ASSERT(ra.applicable == rb.applicable);
    RC_ASSERT(ra.to_pay_fen == rb.to_pay_fen);
  }
}

RC_GTEST_PROP(EnginePropertyTest, EvaluatingAgainOrExplainingGivesTheSameAnswer, ()) {
  const std::vector<Offer> offers = *GenOffers(Mix{});
  const std::vector<Cart> carts = *GenCartsFor(offers);
  const auto set = CompileOffers(offers);
  // One result reused across all the baskets, as the service does, against a fresh one each.
  EvalResult reused;
  std::vector<Applied> first;
  for (size_t i = 0; i < carts.size(); ++i) {
    RC_LOG() << "basket " << i << "\n";
    const Basket basket = ToBasket(carts[i]);
    EvalResult fresh, explained;
    set->Evaluate(basket, nullptr, /*explain=*/false, fresh);
    set->Evaluate(basket, nullptr, /*explain=*/false, reused);
    set->Evaluate(basket, nullptr, /*explain=*/true, explained);
    const Applied applied = AppliedOf(*set, fresh);
    RC_ASSERT(AppliedOf(*set, reused) == applied);
    RC_ASSERT(reused.applicable == fresh.applicable);
    RC_ASSERT(reused.to_pay_fen == fresh.to_pay_fen);
    // Explaining takes the long way through the scan: the same answer, and reasons besides.
    RC_ASSERT(AppliedOf(*set, explained) == applied);
    RC_ASSERT(explained.applicable == fresh.applicable);
    RC_ASSERT(explained.to_pay_fen == fresh.to_pay_fen);
    std::set<uint32_t> said;
    for (const AppliedDiscount& a : explained.applied) said.insert(a.campaign);
    for (const Rejection& j : explained.rejected) {
      RC_LOG() << "rejected " << set->campaign(j.campaign).id() << " "
               << perks::v1::NotAppliedReason_Name(j.reason) << "\n";
      RC_ASSERT(j.reason != perks::v1::NOT_APPLIED_REASON_UNSPECIFIED);
      RC_ASSERT(said.insert(j.campaign).second);  // applied or not, said once
    }
    first.push_back(applied);
  }
  for (size_t i = carts.size(); i-- > 0;) {
    RC_LOG() << "again, basket " << i << "\n";
    set->Evaluate(ToBasket(carts[i]), nullptr, /*explain=*/false, reused);
    RC_ASSERT(AppliedOf(*set, reused) == first[i]);
  }
}

RC_GTEST_PROP(EnginePropertyTest, AnExclusiveGroupGivesTheMemberItsBestOffer, ()) {
  Mix mix;
  mix.stacking = false;
  mix.group = *rc::gen::element<std::string>("", "g-a");
  mix.balance_payments = false;
  mix.slow_conditions = false;
  const std::vector<Offer> offers = *GenOffers(mix);
  const std::vector<Cart> carts = *GenCartsFor(offers);
  const auto set = CompileOffers(offers);
  EvalResult r;
  for (size_t i = 0; i < carts.size(); ++i) {
    RC_LOG() << "basket " << i << "\n";
    // The naive best of those that apply; nothing if it takes nothing off.
    int32_t applicable = 0;
    const Offer* best = nullptr;
    int64_t best_fen = 0;
    for (const Offer& o : offers) {
      if (!NaiveMeets(o, carts[i])) continue;
      ++applicable;
      const int64_t d = NaiveDiscount(o, carts[i].amount_fen);
      if (best == nullptr || NaiveBetter(o, d, *best, best_fen)) {
        best = &o;
        best_fen = d;
      }
    }
    Applied expected;
    if (best != nullptr && best_fen > 0) expected.emplace_back(best->id, best_fen, 0);
    for (bool explain : {false, true}) {
      set->Evaluate(ToBasket(carts[i]), nullptr, explain, r);
      RC_ASSERT(r.applicable == applicable);
      RC_ASSERT(AppliedOf(*set, r) == expected);
    }
  }
}

RC_GTEST_PROP(EnginePropertyTest, StackingFollowsTheDocumentedOrder, ()) {
  Mix mix;
  mix.balance_payments = false;
  const std::vector<Offer> offers = *GenOffers(mix);
  const std::vector<Cart> carts = *GenCartsFor(offers);
  const auto set = CompileOffers(offers);
  EvalResult r;
  for (size_t i = 0; i < carts.size(); ++i) {
    RC_LOG() << "basket " << i << "\n";
    const NaiveAnswer naive = NaiveEvaluate(offers, carts[i]);
    set->Evaluate(ToBasket(carts[i]), nullptr, /*explain=*/false, r);
    RC_ASSERT(AppliedOf(*set, r) == naive.applied);
    RC_ASSERT(r.applicable == naive.applicable);
    RC_ASSERT(r.to_pay_fen == carts[i].amount_fen - naive.discount_fen);
  }
}

}  // namespace
}  // namespace perks::promotion
