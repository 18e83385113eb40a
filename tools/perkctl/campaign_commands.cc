// perkctl campaign: a city's promotions, from files to what a checkout gets.
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "perks/v1/promotion.grpc.pb.h"
#include "services/common/money.h"
#include "services/promotion/domain/spec.h"
#include "tools/common/campaign_file.h"
#include "tools/perkctl/ctl.h"

namespace perks::tools {
namespace {

std::string StateName(v1::CampaignState s) {
  std::string name = v1::CampaignState_Name(s);
  return Lower(name.substr(std::string("CAMPAIGN_STATE_").size()));
}

std::string FunderName(v1::Funder f) {
  std::string name = v1::Funder_Name(f);
  return Lower(name.substr(std::string("FUNDER_").size()));
}

std::string Yuan(int64_t fen) { return FormatYuan(fen); }

void PrintCampaigns(const std::vector<v1::Campaign>& campaigns) {
  std::vector<std::vector<std::string>> rows = {
      {"CAMPAIGN", "STATE", "VERSION", "DRAFT", "RULE", "TITLE"}};
  for (const auto& c : campaigns) {
    rows.push_back({c.campaign_id(), StateName(c.state()),
                    c.published_version() == 0 ? "-" : std::to_string(c.published_version()),
                    c.draft_differs() ? "changed" : "published", promotion::DescribeRule(c.draft()),
                    c.draft().title()});
  }
  PrintTable(rows);
}

void PrintEvaluation(const v1::Evaluation& e) {
  std::cout << "amount " << Yuan(e.amount_fen()) << " yuan, discount " << Yuan(e.discount_fen())
            << ", from card balances " << Yuan(e.from_balances_fen()) << ", to pay "
            << Yuan(e.to_pay_fen()) << "\n";
  for (const auto& d : e.discounts()) {
    std::vector<std::string> funders;
    for (const auto& f : d.funding()) {
      funders.push_back(absl::StrCat(FunderName(f.funder()), " ", Yuan(f.amount_fen())));
    }
    std::cout << "  - " << d.campaign_id() << " v" << d.version() << ": " << Yuan(d.amount_fen())
              << " off";
    if (!d.balance_name().empty()) {
      std::vector<std::string> owed;
      for (const auto& f : d.balance_funding()) {
        owed.push_back(absl::StrCat(FunderName(f.funder()), " ", Yuan(f.amount_fen())));
      }
      std::cout << " (top-up), " << Yuan(d.from_balance_fen()) << " from " << d.balance_name()
                << " (owed by " << absl::StrJoin(owed, ", ") << ")";
    }
    std::cout << "  [" << absl::StrJoin(funders, ", ") << "]  " << d.title() << "\n";
  }
  for (const auto& n : e.not_applied()) {
    std::cout << "  x " << n.campaign_id() << ": " << n.explanation() << "\n";
  }
}

// The basket options preview and evaluate share.
struct BasketFlags {
  std::string amount_yuan, category, merchant, store, region, program, tags, at, city;
  std::vector<std::string> balances;  // name=yuan

  void Add(CLI::App* cmd) {
    cmd->add_option("--amount", amount_yuan, "the purchase, in yuan (e.g. 100 or 99.50)")
        ->required();
    cmd->add_option("--category", category, "merchant category, e.g. supermarket, fuel, bus");
    cmd->add_option("--merchant", merchant, "merchant id");
    cmd->add_option("--store", store, "store id");
    cmd->add_option("--region", region, "county or district, e.g. qiaocheng");
    cmd->add_option("--program", program, "the card's program, e.g. bozhou-member");
    cmd->add_option("--tags", tags, "the member's tags, comma-separated, e.g. model_worker");
    cmd->add_option("--balance", balances, "a card balance, name=yuan (e.g. warm-heart-2026=500)");
    cmd->add_option("--at", at, "when, \"YYYY-MM-DD HH:MM\" in Asia/Shanghai (default: now)");
    cmd->add_option("--city", city, kCityHelp);
  }

  v1::Basket Make() const {
    v1::Basket b;
    auto fail = [](const std::string& what) {
      std::cerr << "perkctl: " << what << "\n";
      throw CLI::RuntimeError(2);
    };
    auto amount = ParseYuan(amount_yuan);
    if (!amount || *amount <= 0)
      fail("--amount '" + amount_yuan + "' is not an amount like 100.00");
    b.set_amount_fen(*amount);
    b.set_tenant_id(city);
    b.set_category(category);
    b.set_merchant_id(merchant.empty() ? "any-merchant" : merchant);
    b.set_store_id(store);
    b.set_region(region);
    b.set_program_id(program);
    b.set_member_id("perkctl-check");
    for (auto tag : absl::StrSplit(tags, ',', absl::SkipEmpty()))
      b.add_member_tags(std::string(tag));
    for (const auto& kv : balances) {
      std::pair<std::string, std::string> parts = absl::StrSplit(kv, absl::MaxSplits('=', 1));
      auto fen = ParseYuan(parts.second);
      if (parts.first.empty() || !fen) fail("--balance '" + kv + "' is not name=yuan");
      (*b.mutable_balances_fen())[parts.first] = *fen;
    }
    if (!at.empty()) {
      absl::Time t;
      std::string err;
      if (!absl::ParseTime("%Y-%m-%d %H:%M", at, absl::FixedTimeZone(8 * 3600), &t, &err)) {
        fail("--at '" + at + "' is not a time like \"2026-12-05 18:30\"");
      }
      b.set_at_unix_ms(absl::ToUnixMillis(t));
    }
    return b;
  }
};

v1::CampaignFile ReadFileOrExit(const std::string& path) {
  auto file = ReadCampaignFile(path);
  if (!file.ok()) {
    std::cerr << "perkctl: " << file.status().message() << "\n";
    throw CLI::RuntimeError(2);
  }
  return *std::move(file);
}

}  // namespace

void AddCampaignCommands(CLI::App& app, Ctl& ctl) {
  auto* campaign = app.add_subcommand(
      "campaign", "promotions: apply campaign files, preview, publish, pause, check a basket");
  campaign->require_subcommand(1);
  auto promo = [&ctl] { return v1::PromotionService::NewStub(ctl.channel("promotion")); };

  auto* apply = campaign->add_subcommand(
      "apply", "create or update campaigns from a file (YAML or JSON; see examples/programs)");
  auto file = std::make_shared<std::string>();
  auto publish_too = std::make_shared<bool>(false);
  apply->add_option("FILE", *file, "the campaign file")->required();
  apply->add_flag("--publish", *publish_too,
                  "also publish each campaign whose draft changed (checkouts use it at once)");
  apply->callback([&ctl, promo, file, publish_too] {
    v1::CampaignFile f = ReadFileOrExit(*file);
    auto stub = promo();
    std::vector<v1::Campaign> done;
    for (const auto& spec : f.campaigns()) {
      v1::ApplyCampaignRequest req;
      req.set_request_id(ctl.RequestId("apply") + "/" + spec.campaign_id());
      *req.mutable_spec() = spec;
      v1::Campaign c;
      grpc::Status s = stub->ApplyCampaign(ctl.Context().get(), req, &c);
      if (s.ok() && *publish_too && c.draft_differs()) {
        v1::PublishCampaignRequest pub;
        pub.set_request_id(ctl.RequestId("publish") + "/" + spec.campaign_id());
        pub.set_campaign_id(spec.campaign_id());
        pub.set_expect_sha256(promotion::SpecSha256(spec));
        s = stub->PublishCampaign(ctl.Context().get(), pub, &c);
      }
      if (!s.ok()) {
        std::cerr << "campaign " << spec.campaign_id() << ":\n";
        Check(ctl.Done<v1::Campaign>(s, c, {}));
      }
      done.push_back(c);
    }
    v1::ListCampaignsResponse all;
    for (auto& c : done) *all.add_campaigns() = c;
    Check(ctl.Done<v1::ListCampaignsResponse>(
        grpc::Status::OK, all, [](const v1::ListCampaignsResponse& r) {
          PrintCampaigns({r.campaigns().begin(), r.campaigns().end()});
        }));
  });

  auto* list = campaign->add_subcommand("list", "a city's campaigns, their state and version");
  auto city = std::make_shared<std::string>();
  list->add_option("--city", *city, kCityHelp);
  list->callback([&ctl, promo, city] {
    v1::ListCampaignsRequest req;
    req.set_tenant_id(*city);
    v1::ListCampaignsResponse resp;
    grpc::Status s = promo()->ListCampaigns(ctl.Context().get(), req, &resp);
    Check(ctl.Done<v1::ListCampaignsResponse>(s, resp, [](const v1::ListCampaignsResponse& r) {
      PrintCampaigns({r.campaigns().begin(), r.campaigns().end()});
    }));
  });

  auto* show = campaign->add_subcommand(
      "show", "one published version exactly as published (JSON), with its hash");
  auto id = std::make_shared<std::string>();
  auto version = std::make_shared<int>(0);
  show->add_option("CAMPAIGN", *id, "campaign id")->required();
  show->add_option("--version", *version, "which version (default: the published one)");
  show->callback([&ctl, promo, id, version] {
    v1::GetCampaignVersionRequest req;
    req.set_campaign_id(*id);
    req.set_version(*version);
    v1::CampaignVersion resp;
    grpc::Status s = promo()->GetCampaignVersion(ctl.Context().get(), req, &resp);
    Check(ctl.Done<v1::CampaignVersion>(s, resp, [](const v1::CampaignVersion& v) {
      std::cout << v.campaign_id() << " version " << v.version() << ", published "
                << Time(v.published_at_unix_ms()) << " by " << v.published_by() << "\nsha256 "
                << v.content_sha256() << "\n"
                << ToJson(v.spec()) << "\n";
    }));
  });

  auto* publish = campaign->add_subcommand(
      "publish", "freeze the draft as the next version; checkouts use it from its start");
  auto expect = std::make_shared<std::string>();
  publish->add_option("CAMPAIGN", *id, "campaign id")->required();
  publish->add_option("--expect-sha256", *expect,
                      "refuse unless the draft still has this hash (from campaign preview)");
  publish->callback([&ctl, promo, id, expect] {
    v1::PublishCampaignRequest req;
    req.set_request_id(ctl.RequestId("publish"));
    req.set_campaign_id(*id);
    req.set_expect_sha256(*expect);
    v1::Campaign resp;
    grpc::Status s = promo()->PublishCampaign(ctl.Context().get(), req, &resp);
    Check(ctl.Done<v1::Campaign>(s, resp, [](const v1::Campaign& c) { PrintCampaigns({c}); }));
  });

  for (auto [name, action, help] :
       {std::tuple{"pause", v1::CAMPAIGN_ACTION_PAUSE, "stop a campaign applying for now"},
        std::tuple{"resume", v1::CAMPAIGN_ACTION_RESUME, "let a paused campaign apply again"},
        std::tuple{"end", v1::CAMPAIGN_ACTION_END, "end a campaign for good"}}) {
    auto* cmd = campaign->add_subcommand(name, help);
    auto reason = std::make_shared<std::string>();
    cmd->add_option("CAMPAIGN", *id, "campaign id")->required();
    cmd->add_option("--reason", *reason, "why, for the record")->required();
    cmd->callback([&ctl, promo, id, reason, action = action] {
      v1::SetCampaignStateRequest req;
      req.set_request_id(ctl.RequestId("state"));
      req.set_campaign_id(*id);
      req.set_action(action);
      req.set_reason(*reason);
      v1::Campaign resp;
      grpc::Status s = promo()->SetCampaignState(ctl.Context().get(), req, &resp);
      Check(ctl.Done<v1::Campaign>(s, resp, [](const v1::Campaign& c) { PrintCampaigns({c}); }));
    });
  }

  auto* budgets = campaign->add_subcommand(
      "budgets", "each budget of a campaign: its value, used, held by open checkouts, left");
  budgets->add_option("CAMPAIGN", *id, "campaign id")->required();
  budgets->callback([&ctl, promo, id] {
    v1::GetBudgetsRequest req;
    req.set_campaign_id(*id);
    v1::CampaignBudgets resp;
    grpc::Status s = promo()->GetBudgets(ctl.Context().get(), req, &resp);
    Check(ctl.Done<v1::CampaignBudgets>(s, resp, [](const v1::CampaignBudgets& r) {
      std::vector<std::vector<std::string>> rows = {{"BUDGET", "LIMIT", "USED", "HELD", "LEFT"}};
      for (const auto& b : r.budgets()) {
        // Counts are counts; every other budget is money, shown in yuan.
        bool count = absl::EndsWith(b.name(), "count");
        auto show = [count](int64_t v) { return count ? std::to_string(v) : Yuan(v); };
        rows.push_back({b.name(), b.unlimited() ? "no limit" : show(b.limit()), show(b.used()),
                        show(b.held()), b.unlimited() ? "-" : show(b.left())});
      }
      PrintTable(rows);
    }));
  });

  auto* preview = campaign->add_subcommand(
      "preview", "what each campaign in a file would give a basket, before publishing");
  auto basket = std::make_shared<BasketFlags>();
  preview->add_option("FILE", *file, "the campaign file")->required();
  basket->Add(preview);
  preview->callback([&ctl, promo, file, basket] {
    v1::CampaignFile f = ReadFileOrExit(*file);
    auto stub = promo();
    for (const auto& spec : f.campaigns()) {
      v1::PreviewCampaignRequest req;
      *req.mutable_spec() = spec;
      *req.add_baskets() = basket->Make();
      v1::PreviewCampaignResponse resp;
      grpc::Status s = stub->PreviewCampaign(ctl.Context().get(), req, &resp);
      Check(ctl.Done<v1::PreviewCampaignResponse>(
          s, resp, [&spec](const v1::PreviewCampaignResponse& r) {
            std::cout << spec.campaign_id() << " (sha256 " << r.content_sha256() << ")\n";
            for (const auto& e : r.evaluations()) PrintEvaluation(e);
          }));
    }
  });

  auto* evaluate = campaign->add_subcommand(
      "evaluate", "what a basket gets from the published campaigns now, and why others not");
  auto check = std::make_shared<BasketFlags>();
  check->Add(evaluate);
  evaluate->callback([&ctl, promo, check] {
    v1::EvaluateRequest req;
    *req.mutable_basket() = check->Make();
    req.set_explain(true);
    v1::Evaluation resp;
    grpc::Status s = promo()->Evaluate(ctl.Context().get(), req, &resp);
    Check(ctl.Done<v1::Evaluation>(s, resp, PrintEvaluation));
  });
}

}  // namespace perks::tools
