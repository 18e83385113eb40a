// The ledger's rules, without storage: which postings an event makes, and which business day an
// instant belongs to.
//
// Accounts (balance = debits - credits):
//   funder/<tenant>/<FUNDER>                  what the funder owes (a debit balance)
//   merchant/<tenant>/<merchant>/<FUNDER>     what the merchant is owed by that funder (credit)
// A confirmed discount posts each funder's share: debit the funder, credit the merchant. A refund
// posts each funder's share back the other way, and a payout settles what was owed (debit the
// merchant, credit the funder). Every posting is one amount debited and credited, so the sum of
// all balances is zero after every entry. A merchant's own share (FUNDER_MERCHANT) is in the
// ledger and its statements, but it is never paid out.
#ifndef PERKS_SERVICES_SETTLEMENT_DOMAIN_LEDGER_H_
#define PERKS_SERVICES_SETTLEMENT_DOMAIN_LEDGER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "perks/v1/settlement.pb.h"

namespace perks::settlement {

std::string FunderAccount(const std::string& tenant_id, perks::v1::Funder funder);
std::string MerchantAccount(const std::string& tenant_id, const std::string& merchant_id,
                            perks::v1::Funder funder);

// The postings of a checkout's event. INVALID_ARGUMENT (naming the field) for an event that does
// not add up: an unknown kind or funder, a negative share, shares that do not sum to their
// discount. Shares of zero post nothing.
absl::StatusOr<std::vector<perks::v1::Posting>> PostingsOf(const perks::v1::SettlementEvent& e);
// A payout: debit the merchant's account with the funder, credit the funder.
std::vector<perks::v1::Posting> PostingsOf(const perks::v1::Payout& p);

// Business days. Day D of a city runs from the cut-off on the day before D to the cut-off on D,
// in Asia/Shanghai; `cutoff` is the time of day, in (0, 24h]: 24h (midnight) makes the business
// day the calendar day, 23h puts everything from 23:00 into the next day.
absl::Status ValidateCutoff(absl::Duration cutoff);
absl::CivilDay BusinessDayOf(absl::Time t, absl::Duration cutoff);
absl::Time DayStart(absl::CivilDay day, absl::Duration cutoff);
absl::Time DayEnd(absl::CivilDay day, absl::Duration cutoff);

// Days as keys: days since 1970-01-01.
uint64_t DayNumber(absl::CivilDay day);
absl::CivilDay DayOfNumber(uint64_t number);
}  // namespace perks::settlement

#endif  // PERKS_SERVICES_SETTLEMENT_DOMAIN_LEDGER_H_
