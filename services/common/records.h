// Reading protobuf records through a storage::Txn (on the writer) or a storage::Db (anywhere).
#ifndef PERKS_SERVICES_COMMON_RECORDS_H_
#define PERKS_SERVICES_COMMON_RECORDS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "storage/db.h"
#include "storage/keys.h"

namespace perks {

// The record under `key`, or nullopt when there is none. DATA_LOSS when it does not parse.
template <typename Record, typename Reader>
absl::StatusOr<std::optional<Record>> GetRecord(Reader& r, storage::Cf cf,
                                                const storage::Key& key) {
  auto bytes = r.Get(cf, key.bytes());
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::optional<Record>();
  Record rec;
  if (!rec.ParseFromString(**bytes)) {
    return absl::DataLossError(absl::StrCat("a stored ", Record::descriptor()->name(),
                                            " is unreadable; restore from a backup"));
  }
  return std::optional<Record>(std::move(rec));
}

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_RECORDS_H_
