// perks-rules-bench: the promotion engine on the shared rule-evaluation workload
// (schema discount-bench/v1), one request at a time on one thread.
//
// Setup (not timed): the workload's promotions become one campaign file (JSON, the schema of
// `perkctl campaign apply`), read by the same parser and compiled by the same RuleSet::Compile the
// promotion service uses when a campaign is published. Requests become perks.v1.Basket values with
// their strings as strings; the timed call is RuleSet::Evaluate, the entry point of the
// service's Evaluate and Reserve.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"
#include "services/promotion/domain/engine.h"
#include "tools/common/campaign_file.h"

namespace {

using perks::promotion::EvalResult;
using perks::promotion::RuleSet;
using Json = nlohmann::json;

constexpr char kTenant[] = "bench";

std::string Rfc3339(int64_t unix_ms) {
  return google::protobuf::util::TimeUtil::ToString(
      google::protobuf::util::TimeUtil::MillisecondsToTimestamp(unix_ms));
}

// One workload promotion as a campaign spec. Every promotion is exclusive in one group, so the
// member gets the single best one, ties to the smaller id: the workload's semantics.
Json ToCampaign(const Json& p) {
  std::string id = absl::AsciiStrToLower(p.at("id").get<std::string>());
  Json spec = {{"campaign_id", id},
               {"tenant_id", kTenant},
               {"title", p.at("id")},
               {"starts_at", Rfc3339(p.at("starts_at").get<int64_t>())},
               {"ends_at", Rfc3339(p.at("ends_at").get<int64_t>())},
               {"funding", Json::array({{{"funder", "FUNDER_MERCHANT"}, {"share_bp", 10000}}})}};
  Json eligibility = {{"categories", Json::array({p.at("category")})},
                      {"merchant_ids", p.at("merchant_ids")},
                      {"member_tags_any", p.at("member_tags_any")},
                      {"min_spend_fen", p.value("min_amount", int64_t{0})}};
  spec["eligibility"] = eligibility;
  const std::string kind = p.at("kind").get<std::string>();
  if (kind == "percent") {
    spec["percent"] = {{"off_bp", p.at("percent").get<int64_t>() * 100},
                       {"cap_fen", p.at("max_discount").get<int64_t>()}};
  } else if (kind == "threshold" && p.value("min_amount", int64_t{0}) >= p.at("off")) {
    // Spend min save off, once. (A threshold below its discount is a fixed amount off.)
    spec["threshold"] = {{"min_fen", p.at("min_amount")}, {"off_fen", p.at("off")}};
  } else {
    spec["fixed"] = {{"off_fen", p.at("off")}};
  }
  return spec;
}

perks::v1::Basket ToBasket(const Json& r) {
  perks::v1::Basket b;
  b.set_tenant_id(kTenant);
  for (const auto& tag : r.at("member_tags")) b.add_member_tags(tag.get<std::string>());
  b.set_merchant_id(r.at("merchant_id").get<std::string>());
  b.set_category(r.at("category").get<std::string>());
  b.set_amount_fen(r.at("amount").get<int64_t>());
  b.set_at_unix_ms(r.at("ts").get<int64_t>());
  return b;
}

double NearestRank(const std::vector<int64_t>& sorted_ns, double q) {
  if (sorted_ns.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted_ns.size())));
  return static_cast<double>(sorted_ns[std::clamp<size_t>(rank, 1, sorted_ns.size()) - 1]) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  std::string workload_path, out_path;
  int64_t check = -1, warmup = 10'000, min_iters = 100'000, max_iters = 20'000'000;
  double min_seconds = 3, max_seconds = 10;
  CLI::App app{"perks-rules-bench: the promotion engine on a discount-bench/v1 workload"};
  app.add_option("--workload", workload_path, "the workload JSON file")->required();
  app.add_option("--check", check, "requests to check against expected (default: all)");
  app.add_option("--warmup", warmup, "evaluations before measuring")->capture_default_str();
  app.add_option("--min-seconds", min_seconds, "measure at least this long")->capture_default_str();
  app.add_option("--max-seconds", max_seconds, "and at most this long")->capture_default_str();
  app.add_option("--min-iters", min_iters, "measure at least this many calls")
      ->capture_default_str();
  app.add_option("--max-iters", max_iters, "and at most this many")->capture_default_str();
  app.add_option("--out", out_path, "also write the JSON line here");
  CLI11_PARSE(app, argc, argv);

  std::ifstream in(workload_path);
  if (!in) {
    std::cerr << "perks-rules-bench: cannot read " << workload_path << "\n";
    return 1;
  }
  Json w = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (w.is_discarded() || w.value("schema", "") != "discount-bench/v1") {
    std::cerr << "perks-rules-bench: " << workload_path << " is not a discount-bench/v1 file\n";
    return 1;
  }

  // Setup: the configuration path.
  auto setup_start = std::chrono::steady_clock::now();
  Json file = {{"campaigns", Json::array()}};
  for (const Json& p : w.at("promotions")) file["campaigns"].push_back(ToCampaign(p));
  auto parsed = perks::tools::ParseCampaignText(file.dump(), workload_path);
  if (!parsed.ok()) {
    std::cerr << "perks-rules-bench: " << parsed.status().message() << "\n";
    return 1;
  }
  std::vector<RuleSet::Input> inputs;
  for (auto& spec : *parsed->mutable_campaigns()) {
    inputs.push_back(RuleSet::Input::Of(std::move(spec)));
  }
  auto rules = RuleSet::Compile(std::move(inputs));
  if (!rules.ok()) {
    std::cerr << "perks-rules-bench: " << rules.status().message() << "\n";
    return 1;
  }
  const RuleSet& engine = **rules;
  std::vector<perks::v1::Basket> baskets;
  for (const Json& r : w.at("requests")) baskets.push_back(ToBasket(r));
  double setup_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - setup_start)
          .count();
  if (baskets.empty()) {
    std::cerr << "perks-rules-bench: the workload has no requests\n";
    return 1;
  }

  // Check.
  EvalResult result;
  const Json& expected = w.at("expected");
  size_t to_check =
      check < 0 ? baskets.size() : std::min<size_t>(static_cast<size_t>(check), baskets.size());
  int64_t mismatches = 0;
  for (size_t i = 0; i < to_check; ++i) {
    engine.Evaluate(baskets[i], nullptr, /*explain=*/false, result);
    std::string best =
        result.applied.empty() ? "" : engine.campaign(result.applied[0].campaign).id();
    int64_t discount = result.applied.empty() ? 0 : result.applied[0].amount_fen;
    const Json& e = expected.at(i);
    std::string want_best =
        e.at("best").is_null() ? "" : absl::AsciiStrToLower(e.at("best").get<std::string>());
    if (best != want_best || discount != e.at("discount").get<int64_t>() ||
        result.applicable != e.at("applicable").get<int64_t>()) {
      if (++mismatches <= 5) {
        std::cerr << absl::StrFormat(
            "mismatch at request %d: best %s discount %d applicable %d; expected %s %d %d\n", i,
            best.empty() ? "none" : best, discount, result.applicable,
            want_best.empty() ? "none" : want_best, e.at("discount").get<int64_t>(),
            e.at("applicable").get<int64_t>());
      }
    }
  }

  // Warm up, then measure: file order, cycling, one call at a time, each timed.
  int64_t sink = 0;
  for (int64_t i = 0; i < warmup; ++i) {
    engine.Evaluate(baskets[i % baskets.size()], nullptr, false, result);
    sink += result.discount_fen;
  }
  std::vector<int64_t> ns;
  ns.reserve(static_cast<size_t>(std::min<int64_t>(max_iters, 50'000'000)));
  auto wall_start = std::chrono::steady_clock::now();
  auto deadline_min = wall_start + std::chrono::duration<double>(min_seconds);
  auto deadline_max = wall_start + std::chrono::duration<double>(max_seconds);
  size_t next = 0;
  while (true) {
    auto t0 = std::chrono::steady_clock::now();
    engine.Evaluate(baskets[next], nullptr, false, result);
    auto t1 = std::chrono::steady_clock::now();
    sink += result.discount_fen + result.applicable;
    ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    if (++next == baskets.size()) next = 0;
    int64_t n = static_cast<int64_t>(ns.size());
    if (n >= max_iters || t1 >= deadline_max) break;
    if (n >= min_iters && t1 >= deadline_min) break;
  }
  double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::sort(ns.begin(), ns.end());
  double total_ns = 0;
  for (int64_t v : ns) total_ns += static_cast<double>(v);

  Json line = {{"engine", "perks"},
               {"engine_version", "0.6.0"},
               {"P", w.at("promotions").size()},
               {"setup_ms", setup_ms},
               {"checked", to_check},
               {"mismatches", mismatches},
               {"iterations", ns.size()},
               {"wall_s", wall_s},
               {"evals_per_s", static_cast<double>(ns.size()) / wall_s},
               {"p50_us", NearestRank(ns, 0.50)},
               {"p99_us", NearestRank(ns, 0.99)},
               {"max_us", ns.empty() ? 0.0 : static_cast<double>(ns.back()) / 1e3},
               {"mean_us", ns.empty() ? 0.0 : total_ns / static_cast<double>(ns.size()) / 1e3}};
  std::cout << line.dump() << std::endl;
  if (!out_path.empty()) std::ofstream(out_path) << line.dump() << "\n";
  if (sink == 42) std::cerr << "";  // keeps every result observable
  return mismatches > 0 ? 2 : 0;
}
