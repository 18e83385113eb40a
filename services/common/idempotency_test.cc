#include "services/common/idempotency.h"

#include <future>

#include "gtest/gtest.h"
#include "perks/v1/card.pb.h"
#include "storage/test_dir.h"

namespace perks {
namespace {

using perks::v1::CreateProgramRequest;
using perks::v1::Program;

class IdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DbOptions o;
    o.path = dir_.path();
    o.column_families = {"idem", "data"};
    auto db = storage::Db::Open(o);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    writer_ = std::make_unique<storage::GroupCommitWriter>(db_.get(), storage::WriterOptions{});
    store_ = {db_.get(), writer_.get(), db_->Family("idem"), &clock_};
  }

  // Runs one mutation that counts how often its body ran; returns the status and the answer.
  absl::Status Mutate(const CreateProgramRequest& req, Program* resp,
                      std::string_view scope = "bozhou") {
    std::promise<absl::Status> result;
    MutateOnce(
        store_, "CreateProgram", scope, req, resp,
        [this, &req, resp](storage::Txn& txn) {
          ++applied_;
          resp->set_program_id(req.program().program_id());
          resp->set_created_at_unix_ms(applied_);
          txn.Put(db_->Family("data"), req.program().program_id(), "x");
          return absl::OkStatus();
        },
        [&](absl::Status s) { result.set_value(s); });
    return result.get_future().get();
  }

  storage::TestDir dir_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  ManualClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  IdempotencyStore store_;
  int applied_ = 0;
};

TEST_F(IdempotencyTest, SameIdReturnsFirstAnswerWithoutApplyingAgain) {
  CreateProgramRequest req;
  req.set_request_id("r1");
  req.mutable_program()->set_program_id("bozhou");
  Program first, second;
  ASSERT_TRUE(Mutate(req, &first).ok());
  ASSERT_TRUE(Mutate(req, &second).ok());
  EXPECT_EQ(applied_, 1);
  EXPECT_EQ(first.SerializeAsString(), second.SerializeAsString());
}

TEST_F(IdempotencyTest, SameIdDifferentContentIsAlreadyExists) {
  CreateProgramRequest req;
  req.set_request_id("r1");
  req.mutable_program()->set_program_id("bozhou");
  Program resp;
  ASSERT_TRUE(Mutate(req, &resp).ok());
  req.mutable_program()->set_program_id("anqing");
  absl::Status s = Mutate(req, &resp);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("different request"), std::string::npos);
  EXPECT_EQ(applied_, 1);
  auto v = db_->Get(db_->Family("data"), "anqing");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
}

TEST_F(IdempotencyTest, MissingRequestIdIsInvalidArgument) {
  CreateProgramRequest req;
  Program resp;
  EXPECT_EQ(Mutate(req, &resp).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(applied_, 0);
}

TEST_F(IdempotencyTest, AnotherScopesRetryIsRefusedNotAnswered) {
  CreateProgramRequest req;
  req.set_request_id("r-1");
  req.mutable_program()->set_program_id("p-1");
  Program first, other;
  ASSERT_TRUE(Mutate(req, &first, "bozhou").ok());
  // The same id and request from another city: refused, and the answer is not shown.
  absl::Status s = Mutate(req, &other, "anqing");
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(other.program_id(), "");
  EXPECT_EQ(applied_, 1);
  // The owner's retry is still answered.
  Program again;
  ASSERT_TRUE(Mutate(req, &again, "bozhou").ok());
  EXPECT_EQ(again.program_id(), "p-1");
}

TEST_F(IdempotencyTest, FingerprintIgnoresRequestIdOnly) {
  CreateProgramRequest a, b;
  a.set_request_id("x");
  b.set_request_id("y");
  EXPECT_EQ(RequestFingerprint(a), RequestFingerprint(b));
  b.mutable_program()->set_name("n");
  EXPECT_NE(RequestFingerprint(a), RequestFingerprint(b));
}

}  // namespace
}  // namespace perks
