// perkctl grant: what campaigns grant members outside a checkout (vouchers issued to a list of
// cards, medical payouts on a claim), credited to their cards. Activation credit needs no
// command: activating a card grants it.
#include <fstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "perks/v1/promotion.grpc.pb.h"
#include "services/common/money.h"
#include "services/common/personal.h"
#include "tools/perkctl/ctl.h"

namespace perks::tools {
namespace {

// How a card is shown: a number masked, an id as it is.
std::string Shown(const v1::CardRef& ref) {
  return ref.has_card_number() ? MaskCardNumber(ref.card_number()) : ref.card_id();
}

// The cards of a list file: one per line (a number or an id), or the first column of a CSV;
// blank lines, lines starting with '#' and a header line are skipped.
std::vector<std::string> ReadCards(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "perkctl: cannot read " << path << "\n";
    throw CLI::RuntimeError(2);
  }
  std::vector<std::string> cards;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    absl::string_view v = absl::StripAsciiWhitespace(line);
    if (v.empty() || v[0] == '#') continue;
    std::string first(absl::StripAsciiWhitespace(*absl::StrSplit(v, ',').begin()));
    std::string lower = absl::AsciiStrToLower(first);
    if (cards.empty() && (lower == "card" || lower == "card_number" || lower == "card_id")) {
      continue;
    }
    if (first.empty()) {
      std::cerr << "perkctl: " << path << " line " << n << ": no card\n";
      throw CLI::RuntimeError(2);
    }
    cards.push_back(first);
  }
  return cards;
}

void PrintGrant(const std::string& card, const v1::GrantResult& r) {
  for (const auto& g : r.grants()) {
    std::cout << card << "  granted " << FormatYuan(g.amount_fen()) << " yuan to '"
              << g.balance_name() << "' (" << g.campaign_id() << " v" << g.version() << ")\n";
  }
  for (const auto& n : r.not_applied()) {
    std::cout << card << "  not granted by " << n.campaign_id() << ": " << n.explanation() << "\n";
  }
  if (r.grants_size() == 0 && r.not_applied_size() == 0) {
    std::cout << card << "  no campaign grants anything for this\n";
  }
}

}  // namespace

void AddGrantCommands(CLI::App& app, Ctl& ctl) {
  auto* grant = app.add_subcommand(
      "grant", "grants to members' cards: vouchers to a list of cards, medical payouts");
  grant->require_subcommand(1);
  auto promo = [&ctl] { return v1::PromotionService::NewStub(ctl.channel("promotion")); };

  auto* issue = grant->add_subcommand(
      "issue",
      "issue a campaign's grant (e.g. a voucher) to each card that qualifies; running the same "
      "command again grants nothing twice");
  auto campaign = std::make_shared<std::string>();
  auto cards = std::make_shared<std::vector<std::string>>();
  auto file = std::make_shared<std::string>();
  issue->add_option("CAMPAIGN", *campaign, "the campaign issuing, e.g. fuyang-warm-heart-2026")
      ->required();
  issue->add_option("CARD", *cards, "card numbers or ids");
  issue->add_option("--cards", *file, "a file of cards: one number or id per line, or a CSV");
  issue->callback([&ctl, promo, campaign, cards, file] {
    std::vector<std::string> all = *cards;
    if (!file->empty()) {
      std::vector<std::string> listed = ReadCards(*file);
      all.insert(all.end(), listed.begin(), listed.end());
    }
    if (all.empty()) {
      std::cerr << "perkctl: name the cards (CARD ... or --cards FILE)\n";
      throw CLI::RuntimeError(2);
    }
    auto stub = promo();
    int granted = 0, not_granted = 0, failed = 0, repeated = 0;
    int64_t total_fen = 0;
    absl::flat_hash_set<std::string> seen;
    for (size_t i = 0; i < all.size(); ++i) {
      // The card's id names it in the request id whichever way the list names it (and says
      // nothing of its number): the same campaign and card always make the same request, so a
      // rerun finishes what failed and never grants twice.
      v1::LookupCardRequest lookup;
      *lookup.mutable_card() = RefOf(all[i]);
      v1::Card card;
      grpc::Status s = ctl.stub().LookupCard(ctl.Context().get(), lookup, &card);
      std::string shown = Shown(lookup.card());
      v1::GrantRequest req;
      v1::GrantResult resp;
      if (s.ok() && !seen.insert(card.card_id()).second) {
        ++repeated;  // listed twice: answered once
        continue;
      }
      if (s.ok()) {
        shown = card.card_number_masked();
        req.mutable_card()->set_card_id(card.card_id());
        req.set_request_id(absl::StrCat("issue/", *campaign, "/", card.card_id()));
        req.set_event(v1::GRANT_EVENT_ISSUE_BATCH);
        req.set_campaign_id(*campaign);
        s = stub->Grant(ctl.Context().get(), req, &resp);
      }
      if (!s.ok()) {
        ++failed;
        std::cerr << shown << "  failed: " << Ctl::CodeName(s.error_code()) << ": "
                  << s.error_message() << "\n";
        continue;
      }
      if (ctl.g_->json) {
        std::cout << ToJson(resp) << "\n";
      } else {
        PrintGrant(shown, resp);
      }
      resp.grants_size() > 0 ? ++granted : ++not_granted;
      for (const auto& g : resp.grants()) total_fen += g.amount_fen();
      if (all.size() >= 20 && (i + 1) % 100 == 0) {
        std::cerr << "  " << (i + 1) << " of " << all.size() << " cards\n";
      }
    }
    std::cerr << all.size() << " cards: " << granted << " granted (" << FormatYuan(total_fen)
              << " yuan), " << not_granted << " not qualifying, " << failed << " failed"
              << (repeated > 0 ? absl::StrCat(", ", repeated, " listed again") : "")
              << (failed > 0 ? "; run the same command again to retry them" : "") << "\n";
    if (failed > 0) throw CLI::RuntimeError(1);
  });

  auto* claim = grant->add_subcommand(
      "claim",
      "a member's medical claim: the payout its out-of-pocket amount earns, if any (to retry one "
      "that got no answer, give the same --request-id)");
  auto card = std::make_shared<std::string>();
  auto out_of_pocket = std::make_shared<std::string>();
  auto claim_campaign = std::make_shared<std::string>();
  claim->add_option("CARD", *card, "card number or id")->required();
  claim
      ->add_option("--out-of-pocket", *out_of_pocket,
                   "what the member paid themselves, in yuan (e.g. 1200)")
      ->required();
  claim->add_option("--campaign", *claim_campaign, "only this campaign (default: any that pays)");
  claim->callback([&ctl, promo, card, out_of_pocket, claim_campaign] {
    auto fen = ParseYuan(*out_of_pocket);
    if (!fen || *fen <= 0) {
      std::cerr << "perkctl: --out-of-pocket '" << *out_of_pocket
                << "' is not an amount in yuan like 1200 or 1200.50\n";
      throw CLI::RuntimeError(2);
    }
    v1::GrantRequest req;
    req.set_request_id(ctl.RequestId("claim"));
    *req.mutable_card() = RefOf(*card);
    req.set_event(v1::GRANT_EVENT_MEDICAL_CLAIM);
    req.set_claim_fen(*fen);
    req.set_campaign_id(*claim_campaign);
    v1::GrantResult resp;
    grpc::Status s = promo()->Grant(ctl.Context().get(), req, &resp);
    std::string shown = Shown(req.card());
    Check(ctl.Done<v1::GrantResult>(s, resp,
                                    [&shown](const v1::GrantResult& r) { PrintGrant(shown, r); }));
  });
}

}  // namespace perks::tools
