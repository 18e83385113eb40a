// Statements: the lines a closed day's ledger entries make, as CSV, and their trailer.
//
//   H,PERKS-STATEMENT,1,<tenant>,<YYYYMMDD>,<FUNDER or MERCHANT:<merchant id>>
//   C,reference,kind,checkout_id,occurred_at,merchant_id,store_id,terminal_id,card,campaign_id,
//     campaign_version,funder,purchase_fen,share_fen                       (the column names)
//   D,<one line per funder's share of each discount; refunds negative>
//   T,<lines>,<total_fen>,<sha256 of the D lines, each with its "\n">
//
// A line's reference is "<event id>#<n>": the n-th discount of a confirmed purchase, or 1 for a
// refund. Within one funder's statement a reference is unique, and the bank's answer file is
// matched on it. No field ever holds a comma or a quote (ids, masked card numbers, digits), so
// no field is quoted; the parser of the bank's file refuses quotes rather than guess.
#ifndef PERKS_SERVICES_SETTLEMENT_DOMAIN_STATEMENT_H_
#define PERKS_SERVICES_SETTLEMENT_DOMAIN_STATEMENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "perks/storage/v1/settlement_records.pb.h"
#include "perks/v1/settlement.pb.h"
#include "services/common/personal.h"

namespace perks::settlement {

struct StatementLine {
  std::string reference;
  perks::v1::Funder funder = perks::v1::FUNDER_UNSPECIFIED;
  std::string merchant_id;
  int64_t share_fen = 0;  // negative for a refund
  std::string csv;        // the whole "D,..." line with its "\n"
};

// Which of an entry's lines to make: all of them, or one funder's, or one merchant's; and
// whether to format each one's CSV (reconciliation needs only references and amounts).
struct LineFilter {
  perks::v1::Funder funder = perks::v1::FUNDER_UNSPECIFIED;  // unspecified: every funder
  std::string merchant_id;                                   // empty: every merchant
  bool csv = true;
};

// The statement lines of one ledger entry, for every funder, in a fixed order. A payout makes none.
std::vector<StatementLine> LinesOf(const perks::storage::v1::LedgerEntry& entry);
// The same, only the lines `which` asks for, each made in `scratch` and passed to `visit`: a scan
// over a million entries reuses one line's strings rather than allocating each line's.
void ForEachLine(const perks::storage::v1::LedgerEntry& entry, const LineFilter& which,
                 StatementLine& scratch, absl::FunctionRef<void(const StatementLine&)> visit);

// The first two lines of a statement: "H,..." and "C,...", each with its "\n". `whose` is a
// funder's name (BANK) or "MERCHANT:<id>".
std::string StatementHead(const std::string& tenant_id, const std::string& date,
                          const std::string& whose);
std::string StatementTrailer(const perks::v1::StatementSummary& summary);
// "bozhou-20261205-BANK.csv", "bozhou-20261205-merchant-m0005.csv".
std::string StatementFileName(const std::string& tenant_id, const std::string& date,
                              const perks::v1::StatementSummary& whose);
std::string FunderName(perks::v1::Funder funder);  // "BANK"

// Adds up a statement as its lines go by.
class StatementTally {
 public:
  void Add(const StatementLine& line);
  // The summary so far (funder or merchant_id left for the caller to set).
  perks::v1::StatementSummary Summary() const;

 private:
  int64_t lines_ = 0;
  int64_t total_fen_ = 0;
  Sha256Stream sha_;
};

}  // namespace perks::settlement

#endif  // PERKS_SERVICES_SETTLEMENT_DOMAIN_STATEMENT_H_
