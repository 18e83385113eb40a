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

// Visits every key in [start, end) in order, in pages of at most storage::kScanLimitMax, so a
// range of any size can be read. `visit(key, value)` returns an error to stop with it.
template <typename Visit>
absl::Status ScanEach(const storage::Db& db, storage::Cf cf, std::string start,
                      const std::string& end, Visit visit) {
  while (true) {
    std::string last;
    absl::Status stopped = absl::OkStatus();
    auto n = db.Scan(cf, start, end, storage::kScanLimitMax,
                     [&](std::string_view key, std::string_view value) {
                       last = std::string(key);
                       stopped = visit(key, value);
                       return stopped.ok();
                     });
    if (!n.ok()) return n.status();
    if (!stopped.ok()) return stopped;
    if (*n < storage::kScanLimitMax) return absl::OkStatus();
    start = last + '\0';  // the next key after the last one seen
  }
}

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_RECORDS_H_
