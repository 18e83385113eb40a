// The group-commit writer: the one way a service changes its database.
//
// A request's change is a Command that reads through a Txn and writes into it. Commands run one at
// a time on the writer's own thread, so a command sees every earlier command's writes, committed or
// not, and read-check-write sequences (a balance that must not go below zero, a request id seen
// once) need no other lock. The writer gathers the commands waiting in its queue into one group and
// makes the group durable with a single RocksDB Write (sync=true): many requests share one fsync.
// A command may ask not to wait for the sync (Durability::kUnsynced); a group of only those is
// written without one.
// Each command's Done runs after its group is durable (or failed), on the writer thread; gRPC
// callback threads only enqueue and never wait on the disk.
//
// A command that returns an error has its own writes rolled back; the others in its group go on.
#ifndef PERKS_STORAGE_WRITER_H_
#define PERKS_STORAGE_WRITER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/db.h"

namespace perks::storage {

// The view one command has of the database while it runs. Valid only inside the command.
class Txn {
 public:
  // Sees this group's earlier writes, then the database.
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, std::string_view key);
  // This group's own last put of `key`, without reading the database: nullopt when the group has
  // not written it (or has deleted it). For a service that knows what the database holds.
  absl::StatusOr<std::optional<std::string>> GetWritten(Cf cf, std::string_view key);
  void Put(Cf cf, std::string_view key, std::string_view value);
  void Delete(Cf cf, std::string_view key);

  struct Impl;
  explicit Txn(Impl* impl) : impl_(impl) {}

 private:
  Impl* impl_;
};

struct WriterOptions {
  size_t queue_commands_max = 8192;  // Submit refuses beyond this: the caller sheds load
  size_t group_commands_max = 512;
  size_t group_bytes_max = 32 << 20;
  bool sync = true;  // false only for tests and benchmarks that say so
  // Told after each group's write (metrics): how many commands it held, whether it was synced,
  // and how long the RocksDB write took. Runs on the writer's thread: it must be quick.
  std::function<void(size_t commands, bool synced, std::chrono::nanoseconds took)> on_group;
};

struct WriterStats {
  uint64_t commands = 0;
  uint64_t groups = 0;         // each one RocksDB write
  uint64_t synced_groups = 0;  // of those, the ones written with sync=true: one fsync each
};

// How durable a command's writes are when its Done runs.
enum class Durability {
  // On the disk (sync=true): survives a power cut. Every answer a caller relies on.
  kSynced,
  // In the operating system (sync=false): survives the process being killed, not a power cut,
  // and reaches the disk with the next synced group (the log is one sequence). Only for a step
  // that is written down so a restart can finish it, and whose loss in a power cut is the same
  // as the step never having begun: nobody has been answered on its strength.
  kUnsynced,
};

class GroupCommitWriter {
 public:
  using Command = absl::AnyInvocable<absl::Status(Txn&)>;
  using Done = absl::AnyInvocable<void(absl::Status)>;

  // REQUIRES: db outlives the writer.
  GroupCommitWriter(Db* db, WriterOptions options);
  ~GroupCommitWriter();  // Stop()

  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  // Queues `command`; `done` gets its result once it is as durable as asked or has failed. A
  // group is synced when any of its commands asks for it.
  // Returns RESOURCE_EXHAUSTED when the queue is full and UNAVAILABLE after Stop(); in both cases
  // neither callback runs.
  absl::Status Submit(Command command, Done done, Durability durability = Durability::kSynced);

  // Submits and waits: for tools, tests and start-up, never for gRPC callback threads.
  absl::Status Run(Command command, Durability durability = Durability::kSynced);

  // Finishes every queued command, then stops the thread. Idempotent.
  void Stop();

  WriterStats stats() const;

 private:
  struct Pending {
    Command command;
    Done done;
    Durability durability;
  };
  void Loop();
  void CommitGroup(std::deque<Pending>& group);

  Db* db_;
  const WriterOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  WriterStats stats_;
  std::thread thread_;
};

}  // namespace perks::storage

#endif  // PERKS_STORAGE_WRITER_H_
