// Every key the merchant service writes, in one place. Grammar: storage/keys.h.
//
//   family        key                                                value
//   applications  app/<application_id>                               ApplicationRecord
//   applications  queue/<tenant>/<state:u64>/<submitted_ms:u64>/<id>  (empty): the review queue
//   merchants     merchant/<merchant_id>                             MerchantRecord
//   merchants     bytenant/<tenant>/<merchant_id>                    (empty)
//   merchants     code/<tenant>/<credit_code>                        merchant_id
//   stores        store/<store_id>                                   StoreRecord
//   stores        mstore/<merchant_id>/<store_id>                    (empty)
//   terminals     terminal/<terminal_id>                             TerminalRecord
//   terminals     sterm/<store_id>/<terminal_id>                     (empty)
//   idempotency   idem/<method>/<request_id>                         IdempotencyRecord
#ifndef PERKS_SERVICES_MERCHANT_STORE_MERCHANT_KEYS_H_
#define PERKS_SERVICES_MERCHANT_STORE_MERCHANT_KEYS_H_

#include <cstdint>
#include <string_view>

#include "storage/keys.h"

namespace perks::merchant::keys {

using storage::Key;

inline Key Application(std::string_view id) { return std::move(Key().Str("app").Str(id)); }
inline Key QueuePrefix(std::string_view tenant) {
  return std::move(Key().Str("queue").Str(tenant));
}
inline Key QueueStatePrefix(std::string_view tenant, uint64_t state) {
  return std::move(QueuePrefix(tenant).U64(state));
}
inline Key Queue(std::string_view tenant, uint64_t state, uint64_t submitted_ms,
                 std::string_view id) {
  return std::move(QueueStatePrefix(tenant, state).U64(submitted_ms).Str(id));
}
inline Key Merchant(std::string_view id) { return std::move(Key().Str("merchant").Str(id)); }
inline Key ByTenantPrefix(std::string_view tenant) {
  return std::move(Key().Str("bytenant").Str(tenant));
}
inline Key ByTenant(std::string_view tenant, std::string_view id) {
  return std::move(ByTenantPrefix(tenant).Str(id));
}
inline Key CreditCode(std::string_view tenant, std::string_view code) {
  return std::move(Key().Str("code").Str(tenant).Str(code));
}
inline Key Store(std::string_view id) { return std::move(Key().Str("store").Str(id)); }
inline Key MerchantStorePrefix(std::string_view merchant_id) {
  return std::move(Key().Str("mstore").Str(merchant_id));
}
inline Key MerchantStore(std::string_view merchant_id, std::string_view store_id) {
  return std::move(MerchantStorePrefix(merchant_id).Str(store_id));
}
inline Key Terminal(std::string_view id) { return std::move(Key().Str("terminal").Str(id)); }
inline Key StoreTerminalPrefix(std::string_view store_id) {
  return std::move(Key().Str("sterm").Str(store_id));
}
inline Key StoreTerminal(std::string_view store_id, std::string_view terminal_id) {
  return std::move(StoreTerminalPrefix(store_id).Str(terminal_id));
}

}  // namespace perks::merchant::keys

#endif  // PERKS_SERVICES_MERCHANT_STORE_MERCHANT_KEYS_H_
