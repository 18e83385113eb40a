// Every key the settlement service writes, in one place. Grammar: storage/keys.h. Days are
// numbers of days since 1970-01-01 (Asia/Shanghai business days).
//
//   family       key                                   value
//   entries      entry/<tenant>/<day:u64>/<entry_id>   LedgerEntry: the ledger, by day
//   events       event/<event_id>                      PostedEvent: where an event posted
//   balances     balance/<tenant>/<account>            AccountBalance: kept with every entry
//   days         closed/<tenant>                       ClosedThrough: no postings up to this day
//   days         closing/<tenant>                      CloseJob: a close under way
//   days         day/<tenant>/<day:u64>                BusinessDay (closed days only)
//   recon        recon/<tenant>/<day:u64>/<funder:u64> StoredReconciliation
//   payouts      payout/<tenant>/<payout_id>           Payout
//   idempotency  idem/<method>/<request_id>            IdempotencyRecord
#ifndef PERKS_SERVICES_SETTLEMENT_STORE_SETTLEMENT_KEYS_H_
#define PERKS_SERVICES_SETTLEMENT_STORE_SETTLEMENT_KEYS_H_

#include <cstdint>
#include <string_view>

#include "storage/keys.h"

namespace perks::settlement::keys {

using storage::Key;

inline Key EntriesOf(std::string_view tenant) { return std::move(Key().Str("entry").Str(tenant)); }
inline Key EntriesOfDay(std::string_view tenant, uint64_t day) {
  return std::move(EntriesOf(tenant).U64(day));
}
inline Key Entry(std::string_view tenant, uint64_t day, std::string_view entry_id) {
  return std::move(EntriesOfDay(tenant, day).Str(entry_id));
}
inline Key Event(std::string_view event_id) { return std::move(Key().Str("event").Str(event_id)); }
inline Key BalancesOf(std::string_view tenant) {
  return std::move(Key().Str("balance").Str(tenant));
}
inline Key Balance(std::string_view tenant, std::string_view account) {
  return std::move(BalancesOf(tenant).Str(account));
}
inline Key Closed(std::string_view tenant) { return std::move(Key().Str("closed").Str(tenant)); }
inline Key ClosingPrefix() { return std::move(Key().Str("closing")); }
inline Key Closing(std::string_view tenant) { return std::move(ClosingPrefix().Str(tenant)); }
inline Key DaysOf(std::string_view tenant) { return std::move(Key().Str("day").Str(tenant)); }
inline Key Day(std::string_view tenant, uint64_t day) { return std::move(DaysOf(tenant).U64(day)); }
inline Key Recon(std::string_view tenant, uint64_t day, uint64_t funder) {
  return std::move(Key().Str("recon").Str(tenant).U64(day).U64(funder));
}
inline Key PayoutsOf(std::string_view tenant) { return std::move(Key().Str("payout").Str(tenant)); }
inline Key Payout(std::string_view tenant, std::string_view payout_id) {
  return std::move(PayoutsOf(tenant).Str(payout_id));
}

}  // namespace perks::settlement::keys

#endif  // PERKS_SERVICES_SETTLEMENT_STORE_SETTLEMENT_KEYS_H_
