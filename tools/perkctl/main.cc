// perkctl: the operator's command line over gRPC. A table for people, --json for scripts.
// Exit codes: 0 done, 1 refused or failed (the message says why), 2 bad command line.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "perks/v1/admin.grpc.pb.h"
#include "perks/v1/card.grpc.pb.h"
#include "services/card/domain/card_rules.h"
#include "services/common/money.h"
#include "tools/common/client.h"
#include "tools/common/importer.h"
#include "tools/perkctl/ctl.h"

namespace perks::tools {
namespace {

std::string StateOf(v1::CardState s) { return std::string(card::StateName(s)); }
std::string KindOf(v1::BalanceKind k) { return Lower(v1::BalanceKind_Name(k).substr(13)); }

void PrintCard(const v1::Card& c) {
  std::vector<std::vector<std::string>> rows = {
      {"card", c.card_id()},
      {"number", c.card_number_masked()},
      {"program", c.program_id()},
      {"state", StateOf(c.state())},
      {"member", c.member_id()},
      {"tags", c.member_tags().empty() ? "-" : absl::StrJoin(c.member_tags(), ", ")},
      {"issued", Time(c.issued_at_unix_ms())},
  };
  if (!c.replaces_card_id().empty()) rows.push_back({"replaces", c.replaces_card_id()});
  if (!c.replaced_by_card_id().empty()) rows.push_back({"replaced by", c.replaced_by_card_id()});
  PrintTable(rows);
  if (c.balances().empty()) {
    std::cout << "balances    none\n";
    return;
  }
  std::cout << "\n";
  std::vector<std::vector<std::string>> b = {{"BALANCE", "KIND", "YUAN", "SPEND AT", "LAST DAY"}};
  for (const auto& bal : c.balances()) {
    b.push_back({bal.name(), KindOf(bal.kind()), FormatYuan(bal.amount_fen()),
                 bal.allowed_categories().empty() ? "anywhere"
                                                  : absl::StrJoin(bal.allowed_categories(), ","),
                 ExpiryDate(bal.expires_at_unix_ms())});
  }
  PrintTable(b);
}

void AddHealth(CLI::App& app, Ctl& ctl) {
  auto* cmd = app.add_subcommand("health", "is every process of the server up and serving?");
  cmd->callback([&ctl] {
    bool all_serving = true;
    std::vector<std::string> json;
    for (const auto& address : ctl.endpoints().Addresses()) {
      auto status = CheckHealth(ctl.ChannelTo(address), "", absl::Seconds(ctl.g_->timeout_s));
      if (!status.ok()) {
        std::cerr << "perkctl: " << address << " does not answer: " << status.status().message()
                  << "\n"
                  << (ctl.g_->tls_ca_file.empty() ? "  if it serves TLS, give --tls-ca CA.crt\n"
                                                  : "");
        throw CLI::RuntimeError(1);
      }
      all_serving = all_serving && *status == "SERVING";
      if (ctl.g_->json) {
        json.push_back(absl::StrCat(R"({"server":")", address, R"(","status":")", *status, "\"}"));
      } else {
        std::cout << address << " " << *status << "\n";
      }
    }
    if (ctl.g_->json) {
      std::cout << (json.size() == 1 ? json[0] : absl::StrCat("[", absl::StrJoin(json, ","), "]"))
                << "\n";
    }
    if (!all_serving) throw CLI::RuntimeError(1);
  });
}

void AddBackup(CLI::App& app, Ctl& ctl) {
  auto* cmd = app.add_subcommand(
      "backup",
      "online backup of every service's database, each under its process's <data-dir>/backups/");
  auto label = std::make_shared<std::string>();
  cmd->add_option("--label", *label, "appended to the backup folder's name");
  cmd->callback([&ctl, label] {
    // Each process checkpoints the databases of the services it runs, callers first (so the
    // copies restore to a state each caller's recovery finishes).
    for (const auto& address : ctl.endpoints().AddressesCallersFirst()) {
      auto stub = v1::AdminService::NewStub(ctl.ChannelTo(address));
      v1::BackupRequest req;
      req.set_label(*label);
      v1::BackupResponse resp;
      auto ctx = MakeContext(absl::Minutes(30), ctl.token());
      Check(ctl.Done<v1::BackupResponse>(
          stub->Backup(ctx.get(), req, &resp), resp, [&address](const v1::BackupResponse& r) {
            std::cout << address << ": backed up " << absl::StrJoin(r.services(), ", ") << " to "
                      << r.path() << " (" << r.bytes() / (1 << 20) << " MiB, " << r.took_ms()
                      << " ms)\n"
                      << "  to restore: stop that process and start it with --data-dir " << r.path()
                      << "\n";
          }));
    }
  });
}

void AddPrograms(CLI::App& app, Ctl& ctl) {
  auto* programs = app.add_subcommand("programs", "card programs (each with its BIN prefix)");
  programs->require_subcommand(1);
  auto* create = programs->add_subcommand("create", "create a card program");
  auto p = std::make_shared<v1::Program>();
  auto id = std::make_shared<std::string>(), name = std::make_shared<std::string>(),
       bin = std::make_shared<std::string>();
  auto length = std::make_shared<int>(19);
  auto city = std::make_shared<std::string>();
  create->add_option("--id", *id, "program id, e.g. bozhou-member")->required();
  create->add_option("--city", *city, kCityHelp);
  create->add_option("--name", *name, "display name, e.g. 亳州工会会员卡")->required();
  create->add_option("--bin", *bin, "BIN prefix of its card numbers (6-10 digits)")->required();
  create->add_option("--length", *length, "card number length, check digit included (16-19)")
      ->capture_default_str();
  create->callback([&ctl, id, name, bin, length, city] {
    v1::CreateProgramRequest req;
    req.set_request_id(ctl.RequestId("program"));
    req.mutable_program()->set_tenant_id(*city);
    req.mutable_program()->set_program_id(*id);
    req.mutable_program()->set_name(*name);
    req.mutable_program()->set_bin_prefix(*bin);
    req.mutable_program()->set_card_number_length(*length);
    v1::Program resp;
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::Program>(ctl.stub().CreateProgram(ctx.get(), req, &resp), resp,
                                [](const v1::Program& p) {
                                  std::cout << "created program " << p.program_id() << " ("
                                            << p.name() << "), card numbers " << p.bin_prefix()
                                            << "…, " << p.card_number_length() << " digits\n";
                                }));
  });
  auto* list = programs->add_subcommand("list", "list card programs");
  auto list_city = std::make_shared<std::string>();
  list->add_option("--city", *list_city, "only this city's programs (default: your token's city)");
  list->callback([&ctl, list_city] {
    v1::ListProgramsRequest req;
    req.set_tenant_id(*list_city);
    v1::ListProgramsResponse resp;
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::ListProgramsResponse>(
        ctl.stub().ListPrograms(ctx.get(), req, &resp), resp,
        [](const v1::ListProgramsResponse& r) {
          std::vector<std::vector<std::string>> rows = {{"PROGRAM", "NAME", "BIN", "LENGTH"}};
          for (const auto& p : r.programs()) {
            rows.push_back(
                {p.program_id(), p.name(), p.bin_prefix(), std::to_string(p.card_number_length())});
          }
          PrintTable(rows);
        }));
  });
}

void AddMembers(CLI::App& app, Ctl& ctl) {
  auto* members = app.add_subcommand("members", "union members");
  members->require_subcommand(1);
  auto* import = members->add_subcommand(
      "import", "import members from CSV (name,id_number,phone,org_code,tags)");
  auto opts = std::make_shared<ImportOptions>();
  import->add_option("file", opts->path, "the CSV file")->required();
  import->add_option("--city", opts->tenant_id, kCityHelp);
  import->add_option("--issue-program", opts->issue_program_id,
                     "also issue a card in this program to each member without one");
  import->add_option("--batch", opts->batch_id, "batch id for the issued cards");
  import->add_option("--parallel", opts->calls_in_flight, "calls in flight")->capture_default_str();
  import->callback([&ctl, opts] {
  opts->token = ctl.token();
  ProgressBar bar;
  auto summary = ImportMemberFile(&ctl.stub(), *opts,
                                  [&bar](int64_t done, int64_t total) { bar.Update(done, total); });
  if (!summary.ok()) {
    std::cerr << "perkctl: " << summary.status().message() << "\n";
    throw CLI::RuntimeError(1);
  }
  if (ctl.g_->json) {
    v1::ImportMembersResponse r;
    r.set_created(summary->created);
    r.set_updated(summary->updated);
    r.set_unchanged(summary->unchanged);
    r.set_cards_issued(summary->cards_issued);
    for (const auto& rej : summary->rejected) *r.add_rejected() = rej;
    std::cout << ToJson(r) << "\n";
    return;
  }
  std::cout << summary->rows << " rows: " << summary->created << " new, " << summary->updated
            << " updated, " << summary->unchanged << " unchanged, " << summary->rejected.size()
            << " rejected";
  if (!opts->issue_program_id.empty()) {
    std::cout << "; " << summary->cards_issued << " cards issued in batch " << summary->batch_id;
  }
  std::cout << "\n";
  if (!summary->rejected.empty()) {
    std::cout << "\nrejected rows (fix them and import the file again; the rest are in):\n";
    std::vector<std::vector<std::string>> rows = {{"LINE", "REASON"}};
    size_t shown = 0;
    for (const auto& r : summary->rejected) {
      if (++shown > 50) break;
      rows.push_back({std::to_string(r.line()), r.reason()});
    }
    PrintTable(rows);
    if (summary->rejected.size() > 50) {
      std::cout << "… and " << summary->rejected.size() - 50 << " more (use --json for all)\n";
    }
  }
});
auto* get = members->add_subcommand("get", "show a member");
auto member_id = std::make_shared<std::string>();
auto id_number = std::make_shared<std::string>();
auto get_city = std::make_shared<std::string>();
auto* g1 = get->add_option("--member", *member_id, "member id");
get->add_option("--city", *get_city,
                "the member's city, with --id-number (default: your token's city)");
get->add_option("--id-number", *id_number, "national ID number (looked up by its hash)")
    ->excludes(g1);
get->callback([&ctl, member_id, id_number, get_city] {
  v1::GetMemberRequest req;
  req.set_tenant_id(*get_city);
  if (!id_number->empty()) {
    req.set_id_number(*id_number);
  } else {
    req.set_member_id(*member_id);
  }
  v1::Member resp;
  auto ctx = ctl.Context();
  Check(ctl.Done<v1::Member>(ctl.stub().GetMember(ctx.get(), req, &resp), resp,
                             [](const v1::Member& m) {
                               PrintTable({{"member", m.member_id()},
                                           {"name", m.name()},
                                           {"ID number", "…" + m.id_number_last4()},
                                           {"phone", m.phone_masked()},
                                           {"organization", m.org_code()},
                                           {"tags", absl::StrJoin(m.tags(), ", ")}});
                             }));
});
}  // namespace

void AddCards(CLI::App& app, Ctl& ctl) {
  auto* cards = app.add_subcommand("cards", "cards: issue, export, lifecycle, lookup");
  cards->require_subcommand(1);

  auto* issue = cards->add_subcommand("issue", "issue cards in a program to members");
  auto program = std::make_shared<std::string>();
  auto members = std::make_shared<std::vector<std::string>>();
  auto batch = std::make_shared<std::string>();
  issue->add_option("--program", *program, "program id")->required();
  issue->add_option("--member", *members, "member id (repeat, up to 1000)")->required();
  issue->add_option("--batch", *batch, "batch id (default: made from the request id)");
  issue->callback([&ctl, program, members, batch] {
    v1::IssueCardsRequest req;
    req.set_request_id(ctl.RequestId("issue"));
    req.set_program_id(*program);
    req.set_batch_id(*batch);
    for (const auto& m : *members) req.add_member_ids(m);
    v1::IssueCardsResponse resp;
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::IssueCardsResponse>(
        ctl.stub().IssueCards(ctx.get(), req, &resp), resp, [](const v1::IssueCardsResponse& r) {
          std::cout << r.issued() << " cards issued in batch " << r.batch_id() << "\n";
          std::vector<std::vector<std::string>> rows = {{"CARD", "NUMBER", "MEMBER", "STATE"}};
          for (const auto& c : r.cards()) {
            rows.push_back(
                {c.card_id(), c.card_number_masked(), c.member_id(), StateOf(c.state())});
          }
          if (r.cards_size() > 0) PrintTable(rows);
          if (r.already_held_size() > 0) {
            std::cout << r.already_held_size() << " members already hold a card in this program: "
                      << absl::StrJoin(r.already_held(), ", ") << "\n";
          }
        }));
  });

  auto* exp = cards->add_subcommand("export",
                                    "write a batch's full card numbers to a file for the printer");
  auto export_batch = std::make_shared<std::string>();
  auto out_path = std::make_shared<std::string>();
  exp->add_option("--batch", *export_batch, "batch id")->required();
  exp->add_option("--out", *out_path, "CSV file to write (created with owner-only access)")
      ->required();
  exp->callback([&ctl, export_batch, out_path] {
    std::ofstream out;
    umask(077);
    out.open(*out_path, std::ios::trunc);
    if (!out) {
      std::cerr << "perkctl: cannot write " << *out_path << "\n";
      throw CLI::RuntimeError(1);
    }
    out << "card_id,card_number,member_id,member_name\n";
    v1::ExportCardsRequest req;
    req.set_batch_id(*export_batch);
    int64_t n = 0;
    for (;;) {
      v1::ExportCardsResponse resp;
      auto ctx = ctl.Context();
      grpc::Status s = ctl.stub().ExportCards(ctx.get(), req, &resp);
      if (!s.ok()) Check(ctl.Done<v1::ExportCardsResponse>(s, resp, {}));
      for (const auto& c : resp.cards()) {
        out << c.card_id() << "," << c.card_number() << "," << c.member_id() << ","
            << c.member_name() << "\n";
        ++n;
      }
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    out.flush();
    if (!out) {
      std::cerr << "perkctl: writing " << *out_path << " failed\n";
      throw CLI::RuntimeError(1);
    }
    std::cout << n << " cards written to " << *out_path << "\n";
  });

  struct Action {
    const char* name;
    const char* help;
    v1::CardAction action;
  };
  static constexpr Action kActions[] = {
      {"activate", "activate an issued card", v1::CARD_ACTION_ACTIVATE},
      {"freeze", "freeze an active card", v1::CARD_ACTION_FREEZE},
      {"unfreeze", "unfreeze a frozen card", v1::CARD_ACTION_UNFREEZE},
      {"report-lost", "report a card lost", v1::CARD_ACTION_REPORT_LOST},
      {"close", "close a card for good", v1::CARD_ACTION_CLOSE},
  };
  for (const Action& a : kActions) {
    auto* cmd = cards->add_subcommand(a.name, a.help);
    auto card = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    cmd->add_option("card", *card, "card number or card id")->required();
    cmd->add_option("--reason", *reason, "why, for the record");
    v1::CardAction action = a.action;
    cmd->callback([&ctl, card, reason, action] {
      v1::ChangeCardStateRequest req;
      req.set_request_id(ctl.RequestId("state"));
      *req.mutable_card() = RefOf(*card);
      req.set_action(action);
      req.set_reason(*reason);
      v1::Card resp;
      auto ctx = ctl.Context();
      Check(ctl.Done<v1::Card>(ctl.stub().ChangeCardState(ctx.get(), req, &resp), resp, PrintCard));
    });
  }

  auto* replace = cards->add_subcommand("replace", "replace a card by a new number");
  auto rcard = std::make_shared<std::string>();
  auto rreason = std::make_shared<std::string>();
  replace->add_option("card", *rcard, "card number or card id")->required();
  replace->add_option("--reason", *rreason, "why, for the record");
  replace->callback([&ctl, rcard, rreason] {
    v1::ReplaceCardRequest req;
    req.set_request_id(ctl.RequestId("replace"));
    *req.mutable_card() = RefOf(*rcard);
    req.set_reason(*rreason);
    v1::ReplaceCardResponse resp;
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::ReplaceCardResponse>(
        ctl.stub().ReplaceCard(ctx.get(), req, &resp), resp, [](const v1::ReplaceCardResponse& r) {
          std::cout << "card " << r.old_card().card_id() << " replaced; the new card:\n\n";
          PrintCard(r.new_card());
        }));
  });

  auto* lookup = cards->add_subcommand("lookup", "status, program, tags and balances of a card");
  auto lcard = std::make_shared<std::string>();
  lookup->add_option("card", *lcard, "card number or card id")->required();
  auto as_terminal = std::make_shared<std::string>();
  auto store = std::make_shared<std::string>();
  lookup->add_option("--as-terminal", *as_terminal,
                     "sign the call as the till whose file this is (see terminals register "
                     "--save): checks a till's set-up end to end");
  lookup->add_option("--store", *store, "the store asking (a till may name only its own)");
  lookup->callback([&ctl, lcard, as_terminal, store] {
    v1::LookupCardRequest req;
    *req.mutable_card() = RefOf(*lcard);
    req.set_store_id(*store);
    v1::Card resp;
    auto ctx = ctl.Context();
    if (!as_terminal->empty()) {
      auto till = LoadTerminalCredentials(*as_terminal);
      if (!till.ok()) {
        std::cerr << "perkctl: " << till.status().message() << "\n";
        throw CLI::RuntimeError(2);
      }
      ctx = MakeContext(absl::Seconds(ctl.g_->timeout_s));
      SignAsTerminal(*ctx, *till, "/perks.v1.CardService/LookupCard", req, absl::Now());
    }
    Check(ctl.Done<v1::Card>(ctl.stub().LookupCard(ctx.get(), req, &resp), resp, PrintCard));
  });
}

void PrintBalanceChange(const v1::BalanceChange& b) {
  std::cout << "balance " << b.balance().name() << " on card " << b.card_id() << " is now "
            << FormatYuan(b.balance().amount_fen()) << " yuan\n";
}

int64_t AmountFen(const std::string& yuan) {
  auto fen = ParseYuan(yuan);
  if (!fen || *fen == 0) {
    std::cerr << "perkctl: --amount '" << yuan
              << "' is not an amount in yuan like 30 or 12.50 (above 0, at most "
              << FormatYuan(kAmountFenMax) << ")\n";
    throw CLI::RuntimeError(2);
  }
  return *fen;
}

void AddBalances(CLI::App& app, Ctl& ctl) {
  auto* balance = app.add_subcommand("balance", "benefit balances on a card");
  balance->require_subcommand(1);

  auto* credit = balance->add_subcommand("credit", "credit a balance");
  struct CreditArgs {
    std::string card, name, kind = "transit_credit", amount, memo, expires;
    std::vector<std::string> categories;
  };
  auto c = std::make_shared<CreditArgs>();
  credit->add_option("card", c->card, "card number or card id")->required();
  credit->add_option("--name", c->name, "balance name, e.g. transit")->required();
  credit->add_option("--kind", c->kind, "transit_credit, voucher or medical_payout")
      ->capture_default_str();
  credit->add_option("--amount", c->amount, "yuan, e.g. 30 or 12.50")->required();
  credit->add_option("--category", c->categories, "vouchers: merchant category it may be spent at");
  credit->add_option("--expires", c->expires, "vouchers: expiry, YYYY-MM-DD (Asia/Shanghai)");
  credit->add_option("--memo", c->memo, "note for the history");
  credit->callback([&ctl, c] {
    v1::CreditBalanceRequest req;
    req.set_request_id(ctl.RequestId("credit"));
    *req.mutable_card() = RefOf(c->card);
    req.set_balance_name(c->name);
    v1::BalanceKind kind;
    if (!v1::BalanceKind_Parse("BALANCE_KIND_" + absl::AsciiStrToUpper(c->kind), &kind)) {
      std::cerr << "perkctl: --kind must be transit_credit, voucher or medical_payout\n";
      throw CLI::RuntimeError(2);
    }
    req.set_kind(kind);
    req.set_amount_fen(AmountFen(c->amount));
    for (const auto& cat : c->categories) req.add_allowed_categories(cat);
    if (!c->expires.empty()) {
      absl::Time t;
      std::string err;
      if (!absl::ParseTime("%Y-%m-%d", c->expires, absl::FixedTimeZone(8 * 3600), &t, &err)) {
        std::cerr << "perkctl: --expires '" << c->expires << "' is not a date like 2026-12-31\n";
        throw CLI::RuntimeError(2);
      }
      req.set_expires_at_unix_ms(absl::ToUnixMillis(t + absl::Hours(24)));  // end of that day
    }
    req.set_memo(c->memo);
    v1::BalanceChange resp;
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::BalanceChange>(ctl.stub().CreditBalance(ctx.get(), req, &resp), resp,
                                      PrintBalanceChange));
  });

  auto* debit = balance->add_subcommand("debit", "debit a balance");
  struct DebitArgs {
    std::string card, name, amount, category, memo;
  };
  auto d = std::make_shared<DebitArgs>();
  debit->add_option("card", d->card, "card number or card id")->required();
  debit->add_option("--name", d->name, "balance name")->required();
  debit->add_option("--amount", d->amount, "yuan")->required();
  debit->add_option("--category", d->category, "the merchant's category (for vouchers)");
  debit->add_option("--memo", d->memo, "note for the history");
  debit->callback([&ctl, d] {
    v1::DebitBalanceRequest req;
    req.set_request_id(ctl.RequestId("debit"));
    *req.mutable_card() = RefOf(d->card);
    req.set_balance_name(d->name);
    req.set_amount_fen(AmountFen(d->amount));
    req.set_merchant_category(d->category);
    req.set_memo(d->memo);
    v1::BalanceChange resp;
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::BalanceChange>(ctl.stub().DebitBalance(ctx.get(), req, &resp), resp,
                                      PrintBalanceChange));
  });

  auto* history = balance->add_subcommand("history", "a card's history: states and movements");
  auto hcard = std::make_shared<std::string>();
  history->add_option("card", *hcard, "card number or card id")->required();
  history->callback([&ctl, hcard] {
    v1::ListCardHistoryRequest req;
    *req.mutable_card() = RefOf(*hcard);
    v1::ListCardHistoryResponse all;
    for (;;) {
      v1::ListCardHistoryResponse page;
      auto ctx = ctl.Context();
      grpc::Status s = ctl.stub().ListCardHistory(ctx.get(), req, &page);
      if (!s.ok()) Check(ctl.Done<v1::ListCardHistoryResponse>(s, page, {}));
      for (auto& e : *page.mutable_entries()) *all.add_entries() = std::move(e);
      if (page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
    Check(ctl.Done<v1::ListCardHistoryResponse>(
        grpc::Status::OK, all, [](const v1::ListCardHistoryResponse& r) {
          std::vector<std::vector<std::string>> rows = {{"#", "WHEN (UTC+8)", "WHO", "WHAT"}};
          for (const auto& e : r.entries()) {
            std::string what;
            if (e.has_transition()) {
              what = e.transition().from() == v1::CARD_STATE_UNSPECIFIED
                         ? StateOf(e.transition().to())
                         : absl::StrCat(StateOf(e.transition().from()), " -> ",
                                        StateOf(e.transition().to()));
              if (!e.transition().reason().empty())
                absl::StrAppend(&what, " (", e.transition().reason(), ")");
            } else {
              const auto& m = e.movement();
              what =
                  absl::StrCat(m.balance_name(), " ", m.delta_fen() >= 0 ? "+" : "",
                               FormatYuan(m.delta_fen()), " = ", FormatYuan(m.balance_after_fen()),
                               m.memo().empty() ? "" : "  " + m.memo());
            }
            rows.push_back({std::to_string(e.seq()), Time(e.at_unix_ms()), e.actor(), what});
          }
          PrintTable(rows);
        }));
  });
}

}  // namespace perks::tools
}  // namespace perks::tools

int main(int argc, char** argv) {
  using namespace perks::tools;
  Globals g;
  if (const char* s = std::getenv("PERKS_SERVER")) g.server = s;
  if (const char* s = std::getenv("PERKS_TLS_CA")) g.tls_ca_file = s;
  CLI::App app{"perkctl: operate a Perks server"};
  app.require_subcommand(1);
  app.add_option("--server", g.server,
                 "where Perks answers: perkd's HOST:PORT, or one per service as "
                 "card=HOST:PORT,merchant=HOST:PORT,... as perks-launch prints (or PERKS_SERVER)")
      ->capture_default_str();
  app.add_flag("--json", g.json, "print answers as JSON");
  app.add_option("--timeout", g.timeout_s, "seconds to wait for an answer")->capture_default_str();
  app.add_option("--tls-ca", g.tls_ca_file,
                 "connect with TLS, trusting this CA certificate (PEM; or PERKS_TLS_CA)");
  app.add_option("--token-file", g.token_file,
                 "file holding your API token (default: the PERKS_TOKEN environment variable)");
  app.add_option("--request-id", g.request_id,
                 "request id for a change (to retry one safely); default: a fresh one");
  app.footer(
      R"(Your API token: the installation's first one is printed once when perkd starts on a new
data directory; a union admin's comes from `perkctl tokens create`. Keep it in a file only you can
read and pass --token-file FILE, or export PERKS_TOKEN. Never on the command line.

Onboarding a partner merchant, step by step (a union admin):
  1. perkctl merchants apply --city jieshou --name … --credit-code … (see merchants apply --help)
  2. perkctl merchants queue                         the review queue, oldest first
     perkctl merchants application A…                one application and its history
  3. perkctl merchants approve A…                    or: reject A… --reason …
                                                     or: request-changes A… --reason …
     (a sent-back application returns with: merchants apply --application A… …)
  4. perkctl merchants show M…                       the merchant and its first store
     perkctl stores add --merchant M… --name 二号店 --address …
  5. perkctl tokens create --role merchant_manager --city jieshou --merchant M… --name 店长
  6. perkctl terminals register --store S… --label "till 1" --save till-1.terminal
     perkctl cards lookup CARD --as-terminal till-1.terminal     checks the till end to end
     perkctl terminals rotate T… --save till-1.terminal   |   perkctl terminals revoke T…
  Programs already running: perkctl merchants import merchants.csv

Running a city's promotions (a union admin):
  1. Write the campaigns in a file (YAML; examples/programs has one per seed program).
  2. perkctl campaign preview FILE --amount 100 --category supermarket --program bozhou-member
                                                           what a basket would get, and the hash
  3. perkctl campaign apply FILE --publish                 checkouts use them from their start
  4. perkctl campaign list  |  perkctl campaign evaluate --amount 100 --category supermarket ...
  5. perkctl campaign budgets ID                          used, held and left of each budget
  6. perkctl campaign pause ID --reason "…"  |  resume  |  end    (each change is audited)
  7. perkctl grant issue ID --cards needy.csv             vouchers to each card that qualifies
     perkctl grant claim CARD --out-of-pocket 1200        a medical payout, if the claim earns it
     (activation credit needs no command: perkctl cards activate CARD grants it)

Settling a city's business days (a union admin; a bank operator for the bank's share):
  1. perkctl settlement close --date 20261205         once the day's cut-off has passed
  2. perkctl settlement statement --date 20261205 --funder BANK     its CSV for the bank, checked
  3. perkctl settlement import --date 20261205 --funder BANK answer.csv     the bank's answer
     perkctl settlement resolve --date 20261205 --funder BANK --difference 1 --resolution ours
         --reason "…"                               each difference, with what was agreed
  4. perkctl settlement payables --from 20261201 --to 20261231    then: settlement payout …
  5. perkctl settlement check                         the whole ledger still sums to zero)");
  Ctl ctl(&g);
  AddHealth(app, ctl);
  AddBackup(app, ctl);
  AddPrograms(app, ctl);
  AddMembers(app, ctl);
  AddCards(app, ctl);
  AddBalances(app, ctl);
  AddMerchantCommands(app, ctl);
  AddTokenCommands(app, ctl);
  AddAuditCommand(app, ctl);
  AddCampaignCommands(app, ctl);
  AddGrantCommands(app, ctl);
  AddSettlementCommands(app, ctl);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return 0;
}
