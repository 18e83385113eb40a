// perkctl's merchant onboarding commands: apply, the review queue, review, import, stores and
// terminals. A union admin's path, step by step, is in the README.
#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "services/merchant/domain/merchant_rules.h"
#include "tools/common/merchant_csv.h"
#include "tools/perkctl/ctl.h"

namespace perks::tools {
namespace {

std::string AppState(v1::ApplicationState s) {
  return std::string(merchant::ApplicationStateName(s));
}

void PrintApplication(const v1::Application& a) {
  const auto& p = a.profile();
  PrintTable({{"application", a.application_id()},
              {"state", AppState(a.state())},
              {"city", p.tenant_id()},
              {"name", p.name()},
              {"credit code", p.credit_code()},
              {"category", p.category()},
              {"region", p.region()},
              {"address", p.address()},
              {"contact", p.contact_name() + " " + p.contact_phone()},
              {"settlement", p.settlement().bank_name() + " " + p.settlement().account_number()},
              {"offer", p.offer()},
              {"merchant", a.merchant_id().empty() ? "-" : a.merchant_id()}});
  std::cout << "\n";
  std::vector<std::vector<std::string>> rows = {{"WHEN (UTC+8)", "WHO", "STEP", "REASON"}};
  for (const auto& s : a.steps()) {
    rows.push_back({Time(s.at_unix_ms()), s.actor(), AppState(s.to()), s.reason()});
  }
  PrintTable(rows);
}

void PrintMerchant(const v1::Merchant& m) {
  const auto& p = m.profile();
  PrintTable({{"merchant", m.merchant_id()},
              {"state", std::string(merchant::MerchantStateName(m.state()))},
              {"city", p.tenant_id()},
              {"name", p.name()},
              {"credit code", p.credit_code()},
              {"category", p.category()},
              {"settlement", p.settlement().bank_name() + " " + p.settlement().account_number()},
              {"offer", p.offer()}});
  std::cout << "\n";
  std::vector<std::vector<std::string>> rows = {{"STORE", "NAME", "ADDRESS"}};
  for (const auto& s : m.stores()) rows.push_back({s.store_id(), s.name(), s.address()});
  PrintTable(rows);
}

constexpr char kSaveHelp[] =
    "write the terminal id and secret to this file (mode 0600) instead of showing the secret";
constexpr char kSavedPrefix[] = "(saved in ";

// With --save FILE: writes the credentials there and answers with the secret left out.
v1::TerminalCredential Saved(const grpc::Status& s, const std::string& path,
                             v1::TerminalCredential c) {
  if (!s.ok() || path.empty()) return c;
  if (auto saved = SaveTerminalCredentials(path, {c.terminal().terminal_id(), c.secret()});
      !saved.ok()) {
    std::cerr << "perkctl: " << saved.message()
              << "\n  the terminal's new secret is lost: rotate it again with --save\n";
    throw CLI::RuntimeError(1);
  }
  c.set_secret(absl::StrCat(kSavedPrefix, path, ")"));
  return c;
}

void PrintCredential(const v1::TerminalCredential& c) {
  PrintTable({{"terminal", c.terminal().terminal_id()},
              {"store", c.terminal().store_id()},
              {"merchant", c.terminal().merchant_id()},
              {"secret", c.secret()}});
  if (c.secret().rfind(kSavedPrefix, 0) == 0) {
    std::cout << "\nOnly you can read that file: put its two lines in the till's configuration, "
                 "then delete it.\n";
  } else {
    std::cout << "\nThe secret is shown this once: enter it in the till's configuration now.\n";
  }
  if (c.terminal().previous_secret_valid_until_unix_ms() != 0) {
    std::cout << "The old secret keeps working until "
              << Time(c.terminal().previous_secret_valid_until_unix_ms()) << " (UTC+8).\n";
  }
}

void AddApply(CLI::App& merchants, Ctl& ctl) {
  auto* apply = merchants.add_subcommand(
      "apply", "submit a merchant's application (or, with --application, submit it again)");
  struct Args {
    std::string application_id;
    v1::MerchantProfile p;
  };
  auto a = std::make_shared<Args>();
  auto* p = &a->p;
  apply->add_option("--application", a->application_id,
                    "an application sent back for changes or rejected, to submit again");
  apply
      ->add_option_function<std::string>(
          "--city", [p](const std::string& v) { p->set_tenant_id(v); },
          "the city federation, e.g. jieshou")
      ->required();
  apply
      ->add_option_function<std::string>(
          "--name", [p](const std::string& v) { p->set_name(v); }, "the merchant's registered name")
      ->required();
  apply
      ->add_option_function<std::string>(
          "--credit-code", [p](const std::string& v) { p->set_credit_code(v); },
          "unified social credit code (统一社会信用代码), 18 characters")
      ->required();
  apply
      ->add_option_function<std::string>(
          "--category", [p](const std::string& v) { p->set_category(v); },
          "supermarket, fuel, dining, pharmacy, farm_produce …")
      ->required();
  apply
      ->add_option_function<std::string>(
          "--region", [p](const std::string& v) { p->set_region(v); }, "county or district")
      ->required();
  apply
      ->add_option_function<std::string>(
          "--address", [p](const std::string& v) { p->set_address(v); }, "the shop's address")
      ->required();
  apply
      ->add_option_function<std::string>(
          "--contact", [p](const std::string& v) { p->set_contact_name(v); }, "contact person")
      ->required();
  apply
      ->add_option_function<std::string>(
          "--phone", [p](const std::string& v) { p->set_contact_phone(v); }, "contact phone")
      ->required();
  apply
      ->add_option_function<std::string>(
          "--bank", [p](const std::string& v) { p->mutable_settlement()->set_bank_name(v); },
          "settlement bank and branch")
      ->required();
  apply
      ->add_option_function<std::string>(
          "--account-name",
          [p](const std::string& v) { p->mutable_settlement()->set_account_name(v); },
          "settlement account holder")
      ->required();
  apply
      ->add_option_function<std::string>(
          "--account",
          [p](const std::string& v) { p->mutable_settlement()->set_account_number(v); },
          "settlement account number")
      ->required();
  apply
      ->add_option_function<std::string>(
          "--offer", [p](const std::string& v) { p->set_offer(v); },
          "the standing offer to members, e.g. 每日九折")
      ->required();
  apply->callback([&ctl, a] {
    v1::SubmitApplicationRequest req;
    req.set_request_id(ctl.RequestId("apply"));
    req.set_application_id(a->application_id);
    *req.mutable_profile() = a->p;
    v1::Application resp;
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::Application>(ctl.merchants().SubmitApplication(ctx.get(), req, &resp), resp,
                                    [](const v1::Application& r) {
                                      std::cout << "application " << r.application_id()
                                                << " submitted for review\n\n";
                                      PrintApplication(r);
                                    }));
  });
}

void AddReview(CLI::App& merchants, Ctl& ctl) {
  auto* queue = merchants.add_subcommand("queue", "applications waiting for review in a city");
  auto city = std::make_shared<std::string>();
  auto state = std::make_shared<std::string>("submitted");
  queue->add_option("--city", *city, kCityHelp);
  queue->add_option("--state", *state, "submitted, changes_requested, rejected, approved or all")
      ->capture_default_str();
  queue->callback([&ctl, city, state] {
    v1::ListApplicationsRequest req;
    req.set_tenant_id(*city);
    if (*state != "all") {
      v1::ApplicationState s;
      if (!v1::ApplicationState_Parse("APPLICATION_STATE_" + absl::AsciiStrToUpper(*state), &s)) {
        std::cerr << "perkctl: --state must be submitted, changes_requested, rejected, approved "
                     "or all\n";
        throw CLI::RuntimeError(2);
      }
      req.set_state(s);
    }
    v1::ListApplicationsResponse all;
    for (;;) {
      v1::ListApplicationsResponse page;
      auto ctx = ctl.Context();
      grpc::Status st = ctl.merchants().ListApplications(ctx.get(), req, &page);
      if (!st.ok()) Check(ctl.Done<v1::ListApplicationsResponse>(st, page, {}));
      for (auto& a : *page.mutable_applications()) *all.add_applications() = std::move(a);
      if (page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
    Check(ctl.Done<v1::ListApplicationsResponse>(
        grpc::Status::OK, all, [](const v1::ListApplicationsResponse& r) {
          std::vector<std::vector<std::string>> rows = {
              {"APPLICATION", "SUBMITTED (UTC+8)", "STATE", "NAME", "CATEGORY", "OFFER"}};
          for (const auto& a : r.applications()) {
            rows.push_back({a.application_id(), Time(a.submitted_at_unix_ms()), AppState(a.state()),
                            a.profile().name(), a.profile().category(), a.profile().offer()});
          }
          PrintTable(rows);
          std::cout << r.applications_size() << " applications\n";
        }));
  });

  auto* show = merchants.add_subcommand("application", "show an application and its history");
  auto app_id = std::make_shared<std::string>();
  show->add_option("id", *app_id, "application id")->required();
  show->callback([&ctl, app_id] {
    v1::GetApplicationRequest req;
    req.set_application_id(*app_id);
    v1::Application resp;
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::Application>(ctl.merchants().GetApplication(ctx.get(), req, &resp), resp,
                                    PrintApplication));
  });

  struct Decision {
    const char* name;
    const char* help;
    v1::ReviewDecision decision;
  };
  static constexpr Decision kDecisions[] = {
      {"approve", "approve an application: the merchant and its first store are created",
       v1::REVIEW_DECISION_APPROVE},
      {"reject", "reject an application (--reason is required)", v1::REVIEW_DECISION_REJECT},
      {"request-changes", "send an application back for changes (--reason is required)",
       v1::REVIEW_DECISION_REQUEST_CHANGES},
  };
  for (const Decision& d : kDecisions) {
    auto* cmd = merchants.add_subcommand(d.name, d.help);
    auto id = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    cmd->add_option("id", *id, "application id")->required();
    cmd->add_option("--reason", *reason, "what the merchant should know or fix");
    v1::ReviewDecision decision = d.decision;
    cmd->callback([&ctl, id, reason, decision] {
      v1::ReviewApplicationRequest req;
      req.set_request_id(ctl.RequestId("review"));
      req.set_application_id(*id);
      req.set_decision(decision);
      req.set_reason(*reason);
      v1::Application resp;
      auto ctx = ctl.Context();
      Check(ctl.Done<v1::Application>(ctl.merchants().ReviewApplication(ctx.get(), req, &resp),
                                      resp, PrintApplication));
    });
  }
}

void AddMerchantAdmin(CLI::App& merchants, Ctl& ctl) {
  auto* import = merchants.add_subcommand("import", "import approved merchants from CSV");
  auto path = std::make_shared<std::string>();
  import
      ->add_option("file", *path,
                   "CSV: tenant_id,name,credit_code,category,region,address,contact_name,"
                   "contact_phone,bank_name,account_name,account_number,offer")
      ->required();
  import->callback([&ctl, path] {
    auto rows = ReadMerchantCsv(*path);
  if (!rows.ok()) {
    std::cerr << "perkctl: " << rows.status().message() << "\n";
    throw CLI::RuntimeError(1);
  }
  v1::ImportMerchantsResponse total;
  std::string run = ctl.RequestId("merchants");
  for (size_t i = 0; i < rows->size(); i += merchant::kImportRowsMax) {
    v1::ImportMerchantsRequest req;
    req.set_request_id(absl::StrCat(run, "-", i / merchant::kImportRowsMax));
    for (size_t j = i; j < std::min(rows->size(), i + merchant::kImportRowsMax); ++j) {
      *req.add_rows() = (*rows)[j];
    }
    v1::ImportMerchantsResponse resp;
    auto ctx = ctl.Context();
    grpc::Status st = ctl.merchants().ImportMerchants(ctx.get(), req, &resp);
    if (!st.ok()) Check(ctl.Done<v1::ImportMerchantsResponse>(st, resp, {}));
    total.set_created(total.created() + resp.created());
    total.set_unchanged(total.unchanged() + resp.unchanged());
    for (const auto& r : resp.rejected()) *total.add_rejected() = r;
  }
  Check(ctl.Done<v1::ImportMerchantsResponse>(
      grpc::Status::OK, total, [&rows](const v1::ImportMerchantsResponse& r) {
        std::cout << rows->size() << " rows: " << r.created() << " new merchants, " << r.unchanged()
                  << " already partners, " << r.rejected_size() << " rejected\n";
        if (r.rejected_size() > 0) {
          std::vector<std::vector<std::string>> t = {{"LINE", "REASON"}};
          for (const auto& rej : r.rejected())
            t.push_back({std::to_string(rej.line()), rej.reason()});
          PrintTable(t);
        }
      }));
});

auto* list = merchants.add_subcommand("list", "a city's partner merchants");
auto city = std::make_shared<std::string>();
list->add_option("--city", *city, kCityHelp);
list->callback([&ctl, city] {
  v1::ListMerchantsRequest req;
  req.set_tenant_id(*city);
  v1::ListMerchantsResponse all;
  for (;;) {
    v1::ListMerchantsResponse page;
    auto ctx = ctl.Context();
    grpc::Status st = ctl.merchants().ListMerchants(ctx.get(), req, &page);
    if (!st.ok()) Check(ctl.Done<v1::ListMerchantsResponse>(st, page, {}));
    for (auto& m : *page.mutable_merchants()) *all.add_merchants() = std::move(m);
    if (page.next_page_token().empty()) break;
    req.set_page_token(page.next_page_token());
  }
  Check(ctl.Done<v1::ListMerchantsResponse>(
      grpc::Status::OK, all, [](const v1::ListMerchantsResponse& r) {
        std::vector<std::vector<std::string>> rows = {
            {"MERCHANT", "STATE", "NAME", "CATEGORY", "STORES", "OFFER"}};
        for (const auto& m : r.merchants()) {
          rows.push_back({m.merchant_id(), std::string(merchant::MerchantStateName(m.state())),
                          m.profile().name(), m.profile().category(),
                          std::to_string(m.stores_size()), m.profile().offer()});
        }
        PrintTable(rows);
        std::cout << r.merchants_size() << " merchants\n";
      }));
});

auto* show = merchants.add_subcommand("show", "a merchant and its stores");
auto mid = std::make_shared<std::string>();
show->add_option("id", *mid, "merchant id")->required();
show->callback([&ctl, mid] {
  v1::GetMerchantRequest req;
  req.set_merchant_id(*mid);
  v1::Merchant resp;
  auto ctx = ctl.Context();
  Check(ctl.Done<v1::Merchant>(ctl.merchants().GetMerchant(ctx.get(), req, &resp), resp,
                               PrintMerchant));
});

struct Action {
  const char* name;
  const char* help;
  v1::MerchantAction action;
};
static constexpr Action kActions[] = {
    {"suspend", "suspend a merchant (its terminals stop working)", v1::MERCHANT_ACTION_SUSPEND},
    {"reinstate", "reinstate a suspended merchant", v1::MERCHANT_ACTION_REINSTATE},
    {"terminate", "end a merchant's partnership for good", v1::MERCHANT_ACTION_TERMINATE},
};
for (const Action& a : kActions) {
  auto* cmd = merchants.add_subcommand(a.name, a.help);
  auto id = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  cmd->add_option("id", *id, "merchant id")->required();
  cmd->add_option("--reason", *reason, "why, for the record");
  v1::MerchantAction action = a.action;
  cmd->callback([&ctl, id, reason, action] {
    v1::ChangeMerchantStateRequest req;
    req.set_request_id(ctl.RequestId("merchant-state"));
    req.set_merchant_id(*id);
    req.set_action(action);
    req.set_reason(*reason);
    v1::Merchant resp;
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::Merchant>(ctl.merchants().ChangeMerchantState(ctx.get(), req, &resp), resp,
                                 PrintMerchant));
  });
}
}  // namespace

void AddStoresAndTerminals(CLI::App& app, Ctl& ctl) {
  auto* stores = app.add_subcommand("stores", "a merchant's stores");
  stores->require_subcommand(1);
  auto* add = stores->add_subcommand("add", "add a store to a merchant");
  auto req = std::make_shared<v1::AddStoreRequest>();
  add->add_option_function<std::string>(
         "--merchant", [req](const std::string& v) { req->set_merchant_id(v); }, "merchant id")
      ->required();
  add->add_option_function<std::string>(
         "--name", [req](const std::string& v) { req->set_name(v); }, "store name")
      ->required();
  add->add_option_function<std::string>(
         "--address", [req](const std::string& v) { req->set_address(v); }, "store address")
      ->required();
  add->add_option_function<std::string>(
      "--region", [req](const std::string& v) { req->set_region(v); },
      "county or district (default: the merchant's)");
  add->callback([&ctl, req] {
    req->set_request_id(ctl.RequestId("store"));
    v1::Store resp;
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::Store>(ctl.merchants().AddStore(ctx.get(), *req, &resp), resp,
                              [](const v1::Store& s) {
                                std::cout << "store " << s.store_id() << " (" << s.name()
                                          << ") added to " << s.merchant_id() << "\n";
                              }));
  });

  auto* terminals = app.add_subcommand("terminals", "POS terminals of a store");
  terminals->require_subcommand(1);
  auto* reg = terminals->add_subcommand("register", "register a terminal; prints its secret once");
  auto store_id = std::make_shared<std::string>();
  auto label = std::make_shared<std::string>();
  reg->add_option("--store", *store_id, "store id")->required();
  reg->add_option("--label", *label, "which till, e.g. \"till 2\"");
  auto save = std::make_shared<std::string>();
  reg->add_option("--save", *save, kSaveHelp);
  reg->callback([&ctl, store_id, label, save] {
    v1::RegisterTerminalRequest r;
    r.set_request_id(ctl.RequestId("terminal"));
    r.set_store_id(*store_id);
    r.set_label(*label);
    v1::TerminalCredential resp;
    auto ctx = ctl.Context();
    grpc::Status s = ctl.merchants().RegisterTerminal(ctx.get(), r, &resp);
    Check(ctl.Done<v1::TerminalCredential>(s, Saved(s, *save, resp), PrintCredential));
  });
  auto* rotate = terminals->add_subcommand("rotate", "give a terminal a new secret");
  auto tid = std::make_shared<std::string>();
  auto grace = std::make_shared<int64_t>(merchant::kRotationGraceSecondsDefault);
  rotate->add_option("id", *tid, "terminal id")->required();
  rotate->add_option("--grace-seconds", *grace, "how long the old secret still works")
      ->capture_default_str();
  auto rotate_save = std::make_shared<std::string>();
  rotate->add_option("--save", *rotate_save, kSaveHelp);
  rotate->callback([&ctl, tid, grace, rotate_save] {
    v1::RotateTerminalSecretRequest r;
    r.set_request_id(ctl.RequestId("rotate"));
    r.set_terminal_id(*tid);
    r.set_grace_seconds(*grace);
    v1::TerminalCredential resp;
    auto ctx = ctl.Context();
    grpc::Status s = ctl.merchants().RotateTerminalSecret(ctx.get(), r, &resp);
    Check(ctl.Done<v1::TerminalCredential>(s, Saved(s, *rotate_save, resp), PrintCredential));
  });
  auto* revoke = terminals->add_subcommand("revoke", "revoke a terminal for good");
  auto rid = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  revoke->add_option("id", *rid, "terminal id")->required();
  revoke->add_option("--reason", *reason, "why, for the record");
  revoke->callback([&ctl, rid, reason] {
    v1::RevokeTerminalRequest r;
    r.set_request_id(ctl.RequestId("revoke"));
    r.set_terminal_id(*rid);
    r.set_reason(*reason);
    v1::Terminal resp;
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::Terminal>(ctl.merchants().RevokeTerminal(ctx.get(), r, &resp), resp,
                                 [](const v1::Terminal& t) {
                                   std::cout << "terminal " << t.terminal_id() << " revoked\n";
                                 }));
  });
  auto* list = terminals->add_subcommand("list", "a store's terminals");
  auto lstore = std::make_shared<std::string>();
  list->add_option("--store", *lstore, "store id")->required();
  list->callback([&ctl, lstore] {
    v1::ListTerminalsRequest r;
    r.set_store_id(*lstore);
    v1::ListTerminalsResponse resp;
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::ListTerminalsResponse>(
        ctl.merchants().ListTerminals(ctx.get(), r, &resp), resp,
        [](const v1::ListTerminalsResponse& l) {
          std::vector<std::vector<std::string>> rows = {
              {"TERMINAL", "LABEL", "STATE", "SECRET SET"}};
          for (const auto& t : l.terminals()) {
            rows.push_back({t.terminal_id(), t.label(),
                            t.state() == v1::TERMINAL_STATE_ACTIVE ? "active" : "revoked",
                            Time(t.secret_rotated_at_unix_ms())});
          }
          PrintTable(rows);
        }));
  });
}

}  // namespace perks::tools

void AddMerchantCommands(CLI::App& app, Ctl& ctl) {
  auto* merchants = app.add_subcommand("merchants", "partner merchants: apply, review, import");
  merchants->require_subcommand(1);
  AddApply(*merchants, ctl);
  AddReview(*merchants, ctl);
  AddMerchantAdmin(*merchants, ctl);
  AddStoresAndTerminals(app, ctl);
}

}  // namespace perks::tools
