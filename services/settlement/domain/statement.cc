#include "services/settlement/domain/statement.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/calendar.h"

namespace perks::settlement {
namespace {

using perks::v1::Funder;

// One line per funder per discount: a funder named twice in one discount's funding is one line.
void AddLines(const perks::v1::SettlementEvent& e, int n, const std::string& campaign_id,
              int32_t version,
              const google::protobuf::RepeatedPtrField<perks::v1::FundedShare>& funding,
              int64_t sign, std::vector<StatementLine>& out) {
  std::map<int, int64_t> by_funder;  // in the enum's order: BANK, UNION, MERCHANT
  for (const auto& share : funding) by_funder[share.funder()] += share.amount_fen();
  const std::string reference = absl::StrCat(e.event_id(), "#", n);
  const std::string at = absl::FormatTime(
      "%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(e.occurred_at_unix_ms()), ShanghaiZone());
  const char* kind = e.kind() == perks::v1::SETTLEMENT_EVENT_REFUNDED ? "REFUNDED" : "CONFIRMED";
  for (const auto& [funder, amount_fen] : by_funder) {
    if (amount_fen == 0) continue;
    StatementLine line;
    line.reference = reference;
    line.funder = static_cast<Funder>(funder);
    line.merchant_id = e.merchant_id();
    line.share_fen = sign * amount_fen;
    line.csv = absl::StrCat("D,", reference, ",", kind, ",", e.checkout_id(), ",", at, ",",
                            e.merchant_id(), ",", e.store_id(), ",", e.terminal_id(), ",",
                            e.card_number_masked(), ",", campaign_id, ",",
                            version > 0 ? absl::StrCat(version) : "", ",", FunderName(line.funder),
                            ",", sign * e.amount_fen(), ",", line.share_fen, "\n");
    out.push_back(std::move(line));
  }
}

}  // namespace

std::string FunderName(Funder funder) {
  const std::string& name = perks::v1::Funder_Name(funder);
  return name.size() > 7 ? name.substr(7) : name;  // "FUNDER_BANK" -> "BANK"
}

std::vector<StatementLine> LinesOf(const perks::storage::v1::LedgerEntry& entry) {
  std::vector<StatementLine> out;
  if (!entry.has_event()) return out;
  const perks::v1::SettlementEvent& e = entry.event();
  if (e.kind() == perks::v1::SETTLEMENT_EVENT_CONFIRMED) {
    for (int i = 0; i < e.discounts_size(); ++i) {
      const perks::v1::Discount& d = e.discounts(i);
      AddLines(e, i + 1, d.campaign_id(), d.version(), d.funding(), 1, out);
    }
  } else if (e.kind() == perks::v1::SETTLEMENT_EVENT_REFUNDED) {
    AddLines(e, 1, "", 0, e.funding(), -1, out);
  }
  return out;
}

std::string StatementHead(const std::string& tenant_id, const std::string& date,
                          const std::string& whose) {
  return absl::StrCat("H,PERKS-STATEMENT,1,", tenant_id, ",", date, ",", whose, "\n",
                      "C,reference,kind,checkout_id,occurred_at,merchant_id,store_id,terminal_id,"
                      "card,campaign_id,campaign_version,funder,purchase_fen,share_fen\n");
}

std::string StatementTrailer(const perks::v1::StatementSummary& s) {
  return absl::StrCat("T,", s.lines(), ",", s.total_fen(), ",", s.sha256(), "\n");
}

std::string StatementFileName(const std::string& tenant_id, const std::string& date,
                              const perks::v1::StatementSummary& whose) {
  if (!whose.merchant_id().empty()) {
    return absl::StrCat(tenant_id, "-", date, "-merchant-", whose.merchant_id(), ".csv");
  }
  return absl::StrCat(tenant_id, "-", date, "-", FunderName(whose.funder()), ".csv");
}

void StatementTally::Add(const StatementLine& line) {
  ++lines_;
  total_fen_ += line.share_fen;
  sha_.Update(line.csv);
}

perks::v1::StatementSummary StatementTally::Summary() const {
  perks::v1::StatementSummary s;
  s.set_lines(lines_);
  s.set_total_fen(total_fen_);
  s.set_sha256(sha_.HexDigest());
  return s;
}

}  // namespace perks::settlement
