// The one typed layer over RocksDB. Nothing outside storage/ includes a RocksDB header or sees a
// rocksdb::Status: every failure comes back as an absl::Status whose message says what to do.
#ifndef PERKS_STORAGE_DB_H_
#define PERKS_STORAGE_DB_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace perks::storage {

// A column family of an open Db, by position in DbOptions::column_families.
struct Cf {
  uint32_t index = 0;
};

struct DbOptions {
  std::string path;
  // The service's column families. "default" is the storage layer's own (it holds the schema
  // version) and is not listed here.
  std::vector<std::string> column_families;
  // The schema this build writes. A database written by a newer schema is refused.
  uint32_t schema_version = 1;
  size_t block_cache_bytes = 64 << 20;
  // One memtable of one family. Small enough that inserting into its skip list mostly hits the
  // CPU's cache: at the till, 8 MiB took a tenth less CPU per checkout than 32 MiB.
  size_t write_buffer_bytes = 8 << 20;
  size_t memtables_bytes_max = 96 << 20;  // all memtables of all families together
};

// The largest scan a caller may ask for in one call.
inline constexpr size_t kScanLimitMax = 10'000;

class Db {
 public:
  // REQUIRES: options.path names a directory that no other process has open.
  // Creates the database and its column families when missing. Refuses (FAILED_PRECONDITION) a
  // database whose schema version is newer than options.schema_version.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const DbOptions& options);
  ~Db();  // Close()s if the owner did not.

  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // The column family named `name` in DbOptions::column_families. Dies on an unknown name: that is
  // a programming error, not an input error.
  Cf Family(std::string_view name) const;

  absl::StatusOr<std::optional<std::string>> Get(Cf cf, std::string_view key) const;

  // Visits keys in [start, end) in order (end empty = no bound), at most `limit` of them
  // (REQUIRES: limit <= kScanLimitMax). `visit` returns false to stop early.
  // Returns the number of keys visited.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  absl::StatusOr<size_t> Scan(Cf cf, std::string_view start, std::string_view end, size_t limit,
                              const Visitor& visit) const;

  // An online backup: a consistent, openable copy of the database in `dir` (which must not exist),
  // made of hard links where the file system allows.
  absl::Status Checkpoint(const std::string& dir) const;

  // The sequence number of the latest write: unchanged between two moments means nothing was
  // written in between (what the refusal tests check).
  uint64_t LatestSequence() const;

  // RocksDB's own figures, over all column families, named as RocksDB names them without the
  // "rocksdb." prefix: estimate-num-keys, total-sst-files-size, cur-size-all-mem-tables,
  // block-cache-usage, estimate-pending-compaction-bytes, num-running-compactions, ...
  std::vector<std::pair<std::string, uint64_t>> Figures() const;

  // Syncs the write-ahead log and closes. Idempotent.
  absl::Status Close();

  uint32_t schema_version() const;
  const std::string& path() const;

  struct Impl;
  Impl* impl() const { return impl_.get(); }

 private:
  explicit Db(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace perks::storage

#endif  // PERKS_STORAGE_DB_H_
