// Private to storage/: the RocksDB objects behind a Db.
#ifndef PERKS_STORAGE_DB_IMPL_H_
#define PERKS_STORAGE_DB_IMPL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "rocksdb/db.h"
#include "storage/db.h"

namespace perks::storage {

struct Db::Impl {
  std::string path;
  uint32_t schema_version = 0;
  std::vector<std::string> names;  // parallel to handles; names[i] is Cf{i}
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* default_handle = nullptr;
  std::unique_ptr<rocksdb::DB> db;
};

// The one place a rocksdb::Status becomes an absl::Status. `what` says what was being done.
absl::Status FromRocks(const rocksdb::Status& s, std::string_view what);

}  // namespace perks::storage

#endif  // PERKS_STORAGE_DB_IMPL_H_
