#include "storage/db.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_buffer_manager.h"
#include "storage/db_impl.h"

namespace perks::storage {
namespace {

constexpr char kSchemaVersionKey[] = "storage/schema_version";

std::string EncodeVersion(uint32_t v) { return std::to_string(v); }

bool DecodeVersion(std::string_view s, uint32_t* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

rocksdb::ColumnFamilyOptions FamilyOptions(const DbOptions& o,
                                           const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.write_buffer_bytes;
  // Point reads dominate (a POS lookup is three of them): LZ4 decompresses cheaply, and a bloom
  // filter over each memtable lets a read skip memtables that cannot hold its key.
  cf.compression = rocksdb::kLZ4Compression;
  cf.bottommost_compression = rocksdb::kLZ4Compression;
  cf.memtable_prefix_bloom_size_ratio = 0.05;
  cf.memtable_whole_key_filtering = true;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  // Index and filter blocks stay out of the block cache: charged to it they were evicted by data
  // blocks during large imports, and every lookup of a new key paid a disk read for its filter.
  // They grow with the data (about 1.3 bytes a key), not with any one request or file.
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

}  // namespace

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what_view) {
  std::string what(what_view);
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsCorruption()) {
    return absl::DataLossError(
        absl::StrCat(msg, " (the database is damaged; restore it from a checkpoint backup)"));
  }
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(
        msg, " (another process has this data directory open; stop it or use another --data-dir)"));
  }
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return absl::UnavailableError(msg);
  if (s.IsNoSpace()) {
    return absl::ResourceExhaustedError(absl::StrCat(msg, " (the disk is full; free space)"));
  }
  return absl::UnavailableError(absl::StrCat(msg, " (a storage error; retry, and check the disk)"));
}

Db::Db(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Db::~Db() {
  absl::Status s = Close();
  if (!s.ok()) std::cerr << "closing " << impl_->path << ": " << s << "\n";
}

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const DbOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("database path is empty");
  for (const auto& name : options.column_families) {
    if (name == rocksdb::kDefaultColumnFamilyName) {
      return absl::InvalidArgumentError("column family 'default' is reserved for storage/");
    }
  }
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  db_options.keep_log_file_num = 5;
  // A write with sync=false still survives a process kill; sync=true survives power loss too.
  db_options.manual_wal_flush = false;
  // Memory stays bounded however large an import is: memtables of every family share one budget.
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.memtables_bytes_max);

  // Every family already on disk must be opened, or RocksDB refuses; the unknown ones (written by
  // a newer build) are opened too so the version check below can give the clear message.
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName};
  for (const auto& n : options.column_families) names.push_back(n);
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing).ok()) {
    for (const auto& n : existing) {
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, FamilyOptions(options, cache));

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status rs = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (!rs.ok()) return FromRocks(rs, absl::StrCat("opening database ", options.path));

  auto impl = std::make_unique<Impl>();
  impl->path = options.path;
  impl->db.reset(raw);
  impl->default_handle = handles[0];
  for (size_t i = 1; i < handles.size(); ++i) {
    impl->names.push_back(names[i]);
    impl->handles.push_back(handles[i]);
  }
  std::unique_ptr<Db> db(new Db(std::move(impl)));

  std::string stored;
  rs = raw->Get(rocksdb::ReadOptions(), db->impl_->default_handle, kSchemaVersionKey, &stored);
  if (rs.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rs = raw->Put(wo, db->impl_->default_handle, kSchemaVersionKey,
                  EncodeVersion(options.schema_version));
    if (!rs.ok()) return FromRocks(rs, "writing the schema version");
    db->impl_->schema_version = options.schema_version;
    return db;
  }
  if (!rs.ok()) return FromRocks(rs, "reading the schema version");
  uint32_t on_disk = 0;
  if (!DecodeVersion(stored, &on_disk)) {
    return absl::DataLossError(absl::StrCat("database ", options.path,
                                            " has an unreadable schema version '", stored, "'"));
  }
  if (on_disk > options.schema_version) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", options.path, " was written by schema version ", on_disk,
                     " but this build understands versions up to ", options.schema_version,
                     "; run a newer build, or restore a backup made by this one"));
  }
  if (on_disk < options.schema_version) {
    // No migration exists yet between schema versions: refusing beats misreading old records.
    return absl::FailedPreconditionError(absl::StrCat(
        "database ", options.path, " has schema version ", on_disk, " and this build writes ",
        options.schema_version, "; no migration between them exists"));
  }
  db->impl_->schema_version = on_disk;
  return db;
}

Cf Db::Family(std::string_view name) const {
  for (size_t i = 0; i < impl_->names.size(); ++i) {
    if (impl_->names[i] == name) return Cf{static_cast<uint32_t>(i)};
  }
  std::cerr << "storage: unknown column family '" << name << "'\n";
  std::abort();
}

absl::StatusOr<std::optional<std::string>> Db::Get(Cf cf, std::string_view key) const {
  std::string value;
  rocksdb::Status rs = impl_->db->Get(rocksdb::ReadOptions(), impl_->handles.at(cf.index),
                                      rocksdb::Slice(key.data(), key.size()), &value);
  if (rs.IsNotFound()) return std::optional<std::string>();
  if (!rs.ok()) return FromRocks(rs, "reading");
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<size_t> Db::Scan(Cf cf, std::string_view start, std::string_view end, size_t limit,
                                const Visitor& visit) const {
  if (limit > kScanLimitMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("scan of ", limit, " keys asked; at most ", kScanLimitMax, " per call"));
  }
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper(end.data(), end.size());
  if (!end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->handles.at(cf.index)));
  size_t visited = 0;
  for (it->Seek(rocksdb::Slice(start.data(), start.size())); it->Valid() && visited < limit;
       it->Next()) {
    ++visited;
    if (!visit(std::string_view(it->key().data(), it->key().size()),
               std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scanning");
  return visited;
}

absl::Status Db::Checkpoint(const std::string& dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status rs = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  if (!rs.ok()) return FromRocks(rs, "preparing a checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  // log_size_for_flush = 0: flush memtables first so the copy needs no WAL replay.
  return FromRocks(cp->CreateCheckpoint(dir, 0), absl::StrCat("writing checkpoint to ", dir));
}

std::vector<std::pair<std::string, uint64_t>> Db::Figures() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  if (!impl_->db) return out;
  // Summed over the column families.
  for (const char* name :
       {"estimate-num-keys", "total-sst-files-size", "live-sst-files-size",
        "cur-size-all-mem-tables", "estimate-pending-compaction-bytes", "num-immutable-mem-table",
        "num-running-compactions", "num-running-flushes", "background-errors",
        "estimate-table-readers-mem"}) {
    uint64_t v = 0;
    if (impl_->db->GetAggregatedIntProperty(absl::StrCat("rocksdb.", name), &v)) {
      out.emplace_back(name, v);
    }
  }
  // The database's, once (the block cache is shared by its families).
  for (const char* name : {"block-cache-usage", "block-cache-capacity"}) {
    uint64_t v = 0;
    if (impl_->db->GetIntProperty(absl::StrCat("rocksdb.", name), &v)) out.emplace_back(name, v);
  }
  return out;
}

absl::Status Db::Close() {
  if (!impl_->db) return absl::OkStatus();
  absl::Status result = FromRocks(impl_->db->SyncWAL(), "syncing the write-ahead log");
  for (auto* h : impl_->handles) {
    absl::Status s = FromRocks(impl_->db->DestroyColumnFamilyHandle(h), "closing a family");
    if (result.ok()) result = s;
  }
  impl_->handles.clear();
  absl::Status s = FromRocks(impl_->db->DestroyColumnFamilyHandle(impl_->default_handle),
                             "closing the default family");
  if (result.ok()) result = s;
  s = FromRocks(impl_->db->Close(), absl::StrCat("closing database ", impl_->path));
  if (result.ok()) result = s;
  impl_->db.reset();
  return result;
}

uint64_t Db::LatestSequence() const { return impl_->db->GetLatestSequenceNumber(); }

uint32_t Db::schema_version() const { return impl_->schema_version; }
const std::string& Db::path() const { return impl_->path; }

}  // namespace perks::storage
