#include "storage/writer.h"

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "storage/test_dir.h"

namespace perks::storage {
namespace {

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DbOptions o;
    o.path = dir_.path();
    o.column_families = {"kv"};
    auto db = Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    kv_ = db_->Family("kv");
  }
  std::optional<std::string> Read(std::string_view key) {
    auto v = db_->Get(kv_, key);
    EXPECT_TRUE(v.ok());
    return v.ok() ? *v : std::nullopt;
  }
  TestDir dir_;
  std::unique_ptr<Db> db_;
  Cf kv_;
};

TEST_F(WriterTest, FailedCommandLeavesNothingAndOthersInGroupCommit) {
  GroupCommitWriter w(db_.get(), {});
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  // Hold the writer so the next three commands land in one group.
  ASSERT_TRUE(w.Submit(
                   [opened](Txn&) {
                     opened.wait();
                     return absl::OkStatus();
                   },
                   [](absl::Status) {})
                  .ok());
  std::promise<absl::Status> a, b, c;
  ASSERT_TRUE(w.Submit(
                   [&](Txn& t) {
                     t.Put(kv_, "a", "1");
                     return absl::OkStatus();
                   },
                   [&](absl::Status s) { a.set_value(s); })
                  .ok());
  ASSERT_TRUE(w.Submit(
                   [&](Txn& t) {
                     t.Put(kv_, "b", "half-done");
                     return absl::InvalidArgumentError("refused");
                   },
                   [&](absl::Status s) { b.set_value(s); })
                  .ok());
  ASSERT_TRUE(w.Submit(
                   [&](Txn& t) {
                     t.Put(kv_, "c", "3");
                     return absl::OkStatus();
                   },
                   [&](absl::Status s) { c.set_value(s); })
                  .ok());
  gate.set_value();
  EXPECT_TRUE(a.get_future().get().ok());
  EXPECT_EQ(b.get_future().get().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(c.get_future().get().ok());
  EXPECT_EQ(Read("a"), "1");
  EXPECT_EQ(Read("b"), std::nullopt);
  EXPECT_EQ(Read("c"), "3");
}

TEST_F(WriterTest, CommandSeesEarlierUncommittedWritesOfItsGroup) {
  GroupCommitWriter w(db_.get(), {});
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  ASSERT_TRUE(w.Submit(
                   [opened](Txn&) {
                     opened.wait();
                     return absl::OkStatus();
                   },
                   [](absl::Status) {})
                  .ok());
  std::promise<std::string> seen;
  ASSERT_TRUE(w.Submit(
                   [&](Txn& t) {
                     t.Put(kv_, "x", "first");
                     return absl::OkStatus();
                   },
                   [](absl::Status) {})
                  .ok());
  ASSERT_TRUE(w.Submit(
                   [&](Txn& t) {
                     auto v = t.Get(kv_, "x");
                     seen.set_value(v.ok() && v->has_value() ? **v : "<none>");
                     return absl::OkStatus();
                   },
                   [](absl::Status) {})
                  .ok());
  gate.set_value();
  EXPECT_EQ(seen.get_future().get(), "first");
}

TEST_F(WriterTest, ManyConcurrentWritersShareSyncs) {
  GroupCommitWriter w(db_.get(), {});
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = std::to_string(t) + "/" + std::to_string(i);
        absl::Status s = w.Run([&](Txn& txn) {
          txn.Put(kv_, key, "v");
          return absl::OkStatus();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  WriterStats st = w.stats();
  EXPECT_EQ(st.commands, uint64_t{kThreads * kPerThread});
  EXPECT_LE(st.groups, st.commands);
  EXPECT_EQ(Read("7/199"), "v");
}

TEST_F(WriterTest, OnlyAGroupWithASyncedCommandIsSynced) {
  GroupCommitWriter w(db_.get(), {});
  auto put = [&](std::string key) {
    return [this, key](Txn& txn) {
      txn.Put(kv_, key, "v");
      return absl::OkStatus();
    };
  };
  ASSERT_TRUE(w.Run(put("a"), Durability::kUnsynced).ok());
  EXPECT_EQ(Read("a"), "v");  // written, visible, not yet on the disk
  EXPECT_EQ(w.stats().synced_groups, 0u);
  ASSERT_TRUE(w.Run(put("b")).ok());  // synced by default
  EXPECT_EQ(w.stats().synced_groups, 1u);
  EXPECT_EQ(w.stats().groups, 2u);
}

TEST_F(WriterTest, ReadModifyWriteIsSerialized) {
  GroupCommitWriter w(db_.get(), {});
  constexpr int kThreads = 4, kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        ASSERT_TRUE(w.Run([&](Txn& txn) {
                       auto v = txn.Get(kv_, "counter");
                       if (!v.ok()) return v.status();
                       int n = v->has_value() ? std::stoi(**v) : 0;
                       txn.Put(kv_, "counter", std::to_string(n + 1));
                       return absl::OkStatus();
                     }).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Read("counter"), std::to_string(kThreads * kPerThread));
}

TEST_F(WriterTest, FullQueueRefusesWithResourceExhausted) {
  WriterOptions o;
  o.queue_commands_max = 2;
  GroupCommitWriter w(db_.get(), o);
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(w.Submit(
                   [&, opened](Txn&) {
                     started.set_value();
                     opened.wait();
                     return absl::OkStatus();
                   },
                   [](absl::Status) {})
                  .ok());
  started.get_future().wait();  // the writer holds the first; the queue is empty again
  auto noop = [](Txn&) { return absl::OkStatus(); };
  EXPECT_TRUE(w.Submit(noop, [](absl::Status) {}).ok());
  EXPECT_TRUE(w.Submit(noop, [](absl::Status) {}).ok());
  EXPECT_EQ(w.Submit(noop, [](absl::Status) {}).code(), absl::StatusCode::kResourceExhausted);
  gate.set_value();
}

TEST_F(WriterTest, SubmitAfterStopIsUnavailable) {
  GroupCommitWriter w(db_.get(), {});
  w.Stop();
  EXPECT_EQ(w.Run([](Txn&) { return absl::OkStatus(); }).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace perks::storage
