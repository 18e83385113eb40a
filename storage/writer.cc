#include "storage/writer.h"

#include <pthread.h>

#include <filesystem>
#include <future>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "storage/db_impl.h"

namespace perks::storage {

struct Txn::Impl {
  Db::Impl* db;
  rocksdb::WriteBatchWithIndex* batch;
};

absl::StatusOr<std::optional<std::string>> Txn::Get(Cf cf, std::string_view key) {
  std::string value;
  rocksdb::Status rs = impl_->batch->GetFromBatchAndDB(
      impl_->db->db.get(), rocksdb::ReadOptions(), impl_->db->handles.at(cf.index),
      rocksdb::Slice(key.data(), key.size()), &value);
  if (rs.IsNotFound()) return std::optional<std::string>();
  if (!rs.ok()) return FromRocks(rs, "reading");
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<std::optional<std::string>> Txn::GetWritten(Cf cf, std::string_view key) {
  std::string value;
  rocksdb::Status rs =
      impl_->batch->GetFromBatch(impl_->db->handles.at(cf.index), rocksdb::DBOptions(),
                                 rocksdb::Slice(key.data(), key.size()), &value);
  if (rs.IsNotFound()) return std::optional<std::string>();
  if (!rs.ok()) return FromRocks(rs, "reading");
  return std::optional<std::string>(std::move(value));
}

void Txn::Put(Cf cf, std::string_view key, std::string_view value) {
  impl_->batch->Put(impl_->db->handles.at(cf.index), rocksdb::Slice(key.data(), key.size()),
                    rocksdb::Slice(value.data(), value.size()));
}

void Txn::Delete(Cf cf, std::string_view key) {
  impl_->batch->Delete(impl_->db->handles.at(cf.index), rocksdb::Slice(key.data(), key.size()));
}

GroupCommitWriter::GroupCommitWriter(Db* db, WriterOptions options)
    : db_(db), options_(options), thread_([this] { Loop(); }) {}

GroupCommitWriter::~GroupCommitWriter() { Stop(); }

absl::Status GroupCommitWriter::Submit(Command command, Done done, Durability durability) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      return absl::UnavailableError("the server is shutting down; retry on another instance");
    }
    if (queue_.size() >= options_.queue_commands_max) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the write queue is full (", options_.queue_commands_max, " waiting); retry shortly"));
    }
    queue_.push_back(Pending{std::move(command), std::move(done), durability});
  }
  wake_.notify_one();
  return absl::OkStatus();
}

absl::Status GroupCommitWriter::Run(Command command, Durability durability) {
  std::promise<absl::Status> promise;
  auto result = promise.get_future();
  absl::Status s = Submit(
      std::move(command), [&promise](absl::Status st) { promise.set_value(std::move(st)); },
      durability);
  if (!s.ok()) return s;
  return result.get();
}

void GroupCommitWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

WriterStats GroupCommitWriter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void GroupCommitWriter::Loop() {
  // "w:<database>" in top, perf and gdb (a thread name holds 15 bytes).
  std::string name = "w:" + std::filesystem::path(db_->path()).filename().string();
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  for (;;) {
    std::deque<Pending> group;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && group.size() < options_.group_commands_max) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitGroup(group);
  }
}

void GroupCommitWriter::CommitGroup(std::deque<Pending>& group) {
  Db::Impl* db = db_->impl();
  rocksdb::WriteBatchWithIndex batch(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true);
  Txn::Impl txn_impl{db, &batch};
  Txn txn(&txn_impl);
  std::vector<absl::Status> results;
  results.reserve(group.size());
  size_t ran = 0;
  bool sync = false;
  for (auto& p : group) {
    if (batch.GetWriteBatch()->GetDataSize() >= options_.group_bytes_max) break;
    sync = sync || p.durability == Durability::kSynced;
    batch.SetSavePoint();
    absl::Status s = p.command(txn);
    if (s.ok()) {
      batch.PopSavePoint();
    } else {
      batch.RollbackToSavePoint();
    }
    results.push_back(std::move(s));
    ++ran;
  }
  absl::Status write_status;
  sync = sync && options_.sync;
  const bool wrote = batch.GetWriteBatch()->Count() > 0;
  if (wrote) {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    const auto began = std::chrono::steady_clock::now();
    write_status = FromRocks(db->db->Write(wo, batch.GetWriteBatch()), "committing");
    if (options_.on_group) options_.on_group(ran, sync, std::chrono::steady_clock::now() - began);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.commands += ran;
    stats_.groups += 1;
    if (wrote && sync) stats_.synced_groups += 1;
    // Commands past the byte limit go back to the head of the queue, in order, for the next group.
    for (size_t i = group.size(); i > ran; --i) queue_.push_front(std::move(group[i - 1]));
  }
  for (size_t i = 0; i < ran; ++i) {
    absl::Status s = results[i].ok() ? write_status : results[i];
    group[i].done(std::move(s));
  }
}

}  // namespace perks::storage
