#include "storage/db.h"

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "storage/keys.h"
#include "storage/test_dir.h"
#include "storage/writer.h"

namespace perks::storage {
namespace {

DbOptions Options(const std::string& path, uint32_t version = 1) {
  DbOptions o;
  o.path = path;
  o.column_families = {"things", "index"};
  o.schema_version = version;
  o.block_cache_bytes = 1 << 20;
  o.write_buffer_bytes = 1 << 20;
  return o;
}

TEST(DbTest, WritesSurviveCloseAndReopen) {
  TestDir dir;
  {
    auto db = Db::Open(Options(dir.path()));
    ASSERT_TRUE(db.ok()) << db.status();
    GroupCommitWriter w(db->get(), {});
    Cf things = (*db)->Family("things");
    ASSERT_TRUE(w.Run([&](Txn& t) {
                   t.Put(things, "k1", "v1");
                   return absl::OkStatus();
                 }).ok());
  }
  auto db = Db::Open(Options(dir.path()));
  ASSERT_TRUE(db.ok()) << db.status();
  auto v = (*db)->Get((*db)->Family("things"), "k1");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, "v1");
  auto missing = (*db)->Get((*db)->Family("index"), "k1");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST(DbTest, RefusesDatabaseFromNewerSchema) {
  TestDir dir;
  ASSERT_TRUE(Db::Open(Options(dir.path(), 3)).ok());
  auto older = Db::Open(Options(dir.path(), 2));
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(older.status().message().find("schema version 3"), std::string::npos) << older.status();
}

TEST(DbTest, SecondOpenOfSameDirectoryIsRefusedClearly) {
  TestDir dir;
  auto first = Db::Open(Options(dir.path()));
  ASSERT_TRUE(first.ok());
  auto second = Db::Open(Options(dir.path()));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
}

TEST(DbTest, ScanIsBoundedAndOrdered) {
  TestDir dir;
  auto db = Db::Open(Options(dir.path()));
  ASSERT_TRUE(db.ok());
  Cf things = (*db)->Family("things");
  {
    GroupCommitWriter w(db->get(), {});
    ASSERT_TRUE(w.Run([&](Txn& t) {
                   for (uint64_t i = 0; i < 50; ++i) {
                     t.Put(things, Key().Str("a").U64(i).bytes(), std::to_string(i));
                   }
                   t.Put(things, Key().Str("b").U64(0).bytes(), "other");
                   return absl::OkStatus();
                 }).ok());
  }
  Key prefix;
  prefix.Str("a");
  std::vector<std::string> seen;
  auto n = (*db)->Scan(things, prefix.bytes(), prefix.PrefixEnd(), 10,
                       [&](std::string_view, std::string_view v) {
                         seen.emplace_back(v);
                         return true;
                       });
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 10u);
  ASSERT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.front(), "0");
  EXPECT_EQ(seen.back(), "9");
  auto all = (*db)->Scan(things, prefix.bytes(), prefix.PrefixEnd(), 1000,
                         [](std::string_view, std::string_view) { return true; });
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, 50u);
  auto too_many = (*db)->Scan(things, "", "", kScanLimitMax + 1,
                              [](std::string_view, std::string_view) { return true; });
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DbTest, CheckpointIsAnOpenableCopy) {
  TestDir dir;
  std::string backup = dir.path() + "-backup";
  {
    auto db = Db::Open(Options(dir.path()));
    ASSERT_TRUE(db.ok());
    GroupCommitWriter w(db->get(), {});
    Cf things = (*db)->Family("things");
    ASSERT_TRUE(w.Run([&](Txn& t) {
                   t.Put(things, "k", "before");
                   return absl::OkStatus();
                 }).ok());
    ASSERT_TRUE((*db)->Checkpoint(backup).ok());
    ASSERT_TRUE(w.Run([&](Txn& t) {
                   t.Put(things, "k", "after");
                   return absl::OkStatus();
                 }).ok());
  }
  auto copy = Db::Open(Options(backup));
  ASSERT_TRUE(copy.ok()) << copy.status();
  auto v = (*copy)->Get((*copy)->Family("things"), "k");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ(**v, "before");
  copy->reset();
  std::filesystem::remove_all(backup);
}

}  // namespace
}  // namespace perks::storage
