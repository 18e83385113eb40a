#include "services/settlement/domain/statement.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/calendar.h"

namespace perks::settlement {
namespace {

using perks::v1::Funder;

absl::string_view ShortFunderName(Funder funder) {
  absl::string_view name = perks::v1::Funder_Name(funder);
  return name.size() > 7 ? name.substr(7) : name;  // "FUNDER_BANK" -> "BANK"
}

// "2026-12-05 10:00:00" in Asia/Shanghai: the civil time from the zone, the digits by hand, as
// absl::FormatTime's general formatter is most of the cost of a statement line.
void AppendShanghaiTime(int64_t unix_ms, std::string& out) {
  const absl::CivilSecond cs = absl::ToCivilSecond(absl::FromUnixMillis(unix_ms), ShanghaiZone());
  char buf[20];
  auto two = [&](int at, int v) {
    buf[at] = static_cast<char>('0' + v / 10);
    buf[at + 1] = static_cast<char>('0' + v % 10);
  };
  const int64_t year = cs.year();
  if (year < 0 || year > 9999) {
    absl::StrAppend(&out, absl::FormatCivilTime(cs));
    return;
  }
  two(0, static_cast<int>(year / 100));
  two(2, static_cast<int>(year % 100));
  buf[4] = '-';
  two(5, cs.month());
  buf[7] = '-';
  two(8, cs.day());
  buf[10] = ' ';
  two(11, cs.hour());
  buf[13] = ':';
  two(14, cs.minute());
  buf[16] = ':';
  two(17, cs.second());
  out.append(buf, 19);
}

using Shares = google::protobuf::RepeatedPtrField<perks::v1::FundedShare>;

// One line per funder per discount: a funder named twice in one discount's funding is one line,
// and so is a funder's share of the discount with what it owes for a balance paid from
// (`balance_funding`: a balance payment's).
void AddLines(const perks::v1::SettlementEvent& e, int n, const std::string& campaign_id,
              int32_t version, const Shares& funding, const Shares& balance_funding, int64_t sign,
              const LineFilter& which, StatementLine& line,
              absl::FunctionRef<void(const StatementLine&)> visit) {
  // In the enum's order: BANK, UNION, MERCHANT (a handful of funders; no map needed).
  std::pair<int, int64_t> by_funder[8];
  int funders = 0;
  for (const Shares* shares : {&funding, &balance_funding}) {
    for (const auto& share : *shares) {
      int i = 0;
      while (i < funders && by_funder[i].first != share.funder()) ++i;
      if (i == funders) {
        if (funders == 8) continue;  // funding validated upstream: never more than the enum holds
        by_funder[funders++] = {share.funder(), 0};
      }
      by_funder[i].second += share.amount_fen();
    }
  }
  for (int i = 1; i < funders; ++i) {  // insertion sort of at most a few funders
    for (int j = i; j > 0 && by_funder[j - 1].first > by_funder[j].first; --j) {
      std::swap(by_funder[j - 1], by_funder[j]);
    }
  }
  const char* kind = e.kind() == perks::v1::SETTLEMENT_EVENT_REFUNDED ? "REFUNDED" : "CONFIRMED";
  for (int i = 0; i < funders; ++i) {
    const auto [funder, amount_fen] = by_funder[i];
    if (amount_fen == 0) continue;
    if (which.funder != perks::v1::FUNDER_UNSPECIFIED && which.funder != funder) continue;
    line.reference.clear();  // the strings keep their capacity from line to line
    absl::StrAppend(&line.reference, e.event_id(), "#", n);
    line.funder = static_cast<Funder>(funder);
    line.merchant_id.assign(e.merchant_id());
    line.share_fen = sign * amount_fen;
    std::string& csv = line.csv;
    csv.clear();
    if (!which.csv) {
      visit(line);
      continue;
    }
    absl::StrAppend(&csv, "D,", line.reference, ",", kind, ",", e.checkout_id(), ",");
    AppendShanghaiTime(e.occurred_at_unix_ms(), csv);
    absl::StrAppend(&csv, ",", e.merchant_id(), ",", e.store_id(), ",", e.terminal_id(), ",",
                    e.card_number_masked(), ",", campaign_id, ",");
    if (version > 0) absl::StrAppend(&csv, version);
    absl::StrAppend(&csv, ",", ShortFunderName(line.funder), ",", sign * e.amount_fen(), ",",
                    line.share_fen, "\n");
    visit(line);
  }
}

}  // namespace

std::string FunderName(Funder funder) { return std::string(ShortFunderName(funder)); }

void ForEachLine(const perks::storage::v1::LedgerEntry& entry, const LineFilter& which,
                 StatementLine& scratch, absl::FunctionRef<void(const StatementLine&)> visit) {
  if (!entry.has_event()) return;
  const perks::v1::SettlementEvent& e = entry.event();
  if (!which.merchant_id.empty() && e.merchant_id() != which.merchant_id) return;
  if (e.kind() == perks::v1::SETTLEMENT_EVENT_CONFIRMED) {
    for (int i = 0; i < e.discounts_size(); ++i) {
      const perks::v1::Discount& d = e.discounts(i);
      AddLines(e, i + 1, d.campaign_id(), d.version(), d.funding(), d.balance_funding(), 1, which,
               scratch, visit);
    }
  } else if (e.kind() == perks::v1::SETTLEMENT_EVENT_REFUNDED) {
    AddLines(e, 1, "", 0, e.funding(), Shares(), -1, which, scratch, visit);
  }
}

std::vector<StatementLine> LinesOf(const perks::storage::v1::LedgerEntry& entry) {
  std::vector<StatementLine> out;
  StatementLine scratch;
  ForEachLine(entry, LineFilter(), scratch,
              [&](const StatementLine& line) { out.push_back(line); });
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
