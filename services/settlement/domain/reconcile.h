// Bank reconciliation: the bank's answer file for a day, read strictly, and matched against our
// statement line by line.
#ifndef PERKS_SERVICES_SETTLEMENT_DOMAIN_RECONCILE_H_
#define PERKS_SERVICES_SETTLEMENT_DOMAIN_RECONCILE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "perks/v1/settlement.pb.h"

namespace perks::settlement {

// The largest bank file read: 500,000 lines.
inline constexpr size_t kBankFileLinesMax = 500'000;

struct BankLine {
  int32_t line_number = 0;  // in the file, from 1
  std::string reference;
  int64_t share_fen = 0;
};

// Reads the bank's answer file for `tenant_id`'s day `date` and `funder`: the statement format
// (statement.h), header first, trailer last. INVALID_ARGUMENT with "line N: ..." for the first
// line that is wrong, including a trailer that does not match the lines (count, sum or SHA-256)
// and a header for another city, day or funder. Nothing is taken from a file that is wrong.
absl::StatusOr<std::vector<BankLine>> ParseBankFile(std::string_view csv,
                                                    const std::string& tenant_id,
                                                    const std::string& date,
                                                    const std::string& funder);

struct OurLine {
  std::string reference;
  int64_t share_fen = 0;
};

// Every difference between our lines and the bank's, by kind, in our statement's order and then
// the bank file's, numbered from 1. A reference on both sides with the same amount, once in the
// bank's file, is a match and no difference. Fills the counts and totals of `out`.
void Reconcile(const std::vector<OurLine>& ours, const std::vector<BankLine>& bank,
               perks::v1::Reconciliation* out);

}  // namespace perks::settlement

#endif  // PERKS_SERVICES_SETTLEMENT_DOMAIN_RECONCILE_H_
