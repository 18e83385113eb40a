// Every key the card service writes, in one place. Grammar: storage/keys.h.
//
//   family      key                                   value
//   programs    program/<program_id>                  ProgramRecord
//   members     member/<member_id>                    MemberRecord
//   cards       card/<card_id>                        CardRecord; card_id = keyed hash of the
//   number index       live/<member_id>/<program_id>         card_id of the member's live card
//   history     hist/<card_id>/<seq:u64>              HistoryRecord
//   batches     batch/<batch_id>                      BatchRecord
//   batches     batchcard/<batch_id>/<card_id>        (empty)
//   idempotency idem/<method>/<request_id>            IdempotencyRecord (services/common)
#ifndef PERKS_SERVICES_CARD_STORE_CARD_KEYS_H_
#define PERKS_SERVICES_CARD_STORE_CARD_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/keys.h"

namespace perks::card::keys {

using storage::Key;

inline Key Program(std::string_view id) { return std::move(Key().Str("program").Str(id)); }
inline Key ProgramPrefix() { return std::move(Key().Str("program")); }
inline Key Member(std::string_view id) { return std::move(Key().Str("member").Str(id)); }
inline Key Card(std::string_view id) { return std::move(Key().Str("card").Str(id)); }
inline Key Live(std::string_view member_id, std::string_view program_id) {
  return std::move(Key().Str("live").Str(member_id).Str(program_id));
}
inline Key HistoryPrefix(std::string_view card_id) {
  return std::move(Key().Str("hist").Str(card_id));
}
inline Key History(std::string_view card_id, uint64_t seq) {
  return std::move(HistoryPrefix(card_id).U64(seq));
}
inline Key Batch(std::string_view id) { return std::move(Key().Str("batch").Str(id)); }
inline Key BatchCardPrefix(std::string_view batch_id) {
  return std::move(Key().Str("batchcard").Str(batch_id));
}
inline Key BatchCard(std::string_view batch_id, std::string_view card_id) {
  return std::move(BatchCardPrefix(batch_id).Str(card_id));
}

}  // namespace perks::card::keys

#endif  // PERKS_SERVICES_CARD_STORE_CARD_KEYS_H_
