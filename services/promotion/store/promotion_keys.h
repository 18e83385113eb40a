// Every key the promotion service writes, in one place. Grammar: storage/keys.h.
//
//   family        key                                    value
//   campaigns     campaign/<campaign_id>                 CampaignRecord
//   campaigns     bytenant/<tenant>/<campaign_id>        (empty)
//   versions      version/<campaign_id>/<version:u64>    CampaignVersionRecord (never changed)
//   reservations  res/<reservation_id>                   ReservationRecord
//   reservations  open/<reservation_id>                  (empty): held, not yet settled
//   usage         used/<UsageBook counter key>           UsedRecord: what commits have used
//   idempotency   idem/<method>/<request_id>             IdempotencyRecord
//   audit         (services/common/audit.h)
#ifndef PERKS_SERVICES_PROMOTION_STORE_PROMOTION_KEYS_H_
#define PERKS_SERVICES_PROMOTION_STORE_PROMOTION_KEYS_H_

#include <cstdint>
#include <string_view>

#include "storage/keys.h"

namespace perks::promotion::keys {

using storage::Key;

inline Key Campaign(std::string_view id) { return std::move(Key().Str("campaign").Str(id)); }
inline Key CampaignPrefix() { return std::move(Key().Str("campaign")); }
inline Key ByTenantPrefix(std::string_view tenant) {
  return std::move(Key().Str("bytenant").Str(tenant));
}
inline Key ByTenant(std::string_view tenant, std::string_view id) {
  return std::move(ByTenantPrefix(tenant).Str(id));
}
inline Key Version(std::string_view id, uint64_t version) {
  return std::move(Key().Str("version").Str(id).U64(version));
}

inline Key Reservation(std::string_view id) { return std::move(Key().Str("res").Str(id)); }
inline Key OpenPrefix() { return std::move(Key().Str("open")); }
inline Key Open(std::string_view id) { return std::move(OpenPrefix().Str(id)); }
inline Key UsedPrefix() { return std::move(Key().Str("used")); }
inline Key Used(std::string_view counter) { return std::move(UsedPrefix().Str(counter)); }

}  // namespace perks::promotion::keys

#endif  // PERKS_SERVICES_PROMOTION_STORE_PROMOTION_KEYS_H_
