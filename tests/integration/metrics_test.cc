// A Prometheus scrape of a running server, fetched over HTTP from its metrics port: calls by
// method and status code with their latency, reservations pending, each campaign's budget used
// and left, group-commit batch sizes and write latency, RocksDB's figures.
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/bozhou_till_test.h"
#include "tests/support/scrape.h"

namespace perks::testing {
namespace {

class MetricsTest : public BozhouTillTest {
 protected:
  MetricsTest() { options_.metrics_listen = "127.0.0.1:0"; }

  std::string Scrape() { return testing::Scrape(server_->metrics_port()); }
  static std::optional<double> Value(const std::string& scrape, const std::string& series) {
    return SeriesValue(scrape, series);
  }
};

TEST_F(MetricsTest, AScrapeCountsCallsReservationsBudgetsCommitsAndTheDatabases) {
  ASSERT_GT(server_->metrics_port(), 0);
  Checkout a;
  ASSERT_TRUE(Authorize(1, cards_[0], 10000, &a).ok());  // 30 yuan off, half the bank's
  // A refused call (a card number whose check digit is wrong) is counted under its code.
  Checkout refused;
  EXPECT_EQ(Authorize(2, "6236680000000000000", 10000, &refused).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  std::string held = Scrape();
  EXPECT_EQ(Value(held, "perks_reservations_pending"), 1.0) << held;
  EXPECT_EQ(Value(held, R"(perks_budget_held{budget="bank",campaign="bozhou-supermarket-100-30"})"),
            1500.0);

  Checkout c;
  ASSERT_TRUE(Confirm(1, &c, "RRN000000001").ok());
  const std::string s = Scrape();
  const std::string authorize = R"(method="Authorize",service="perks.v1.CheckoutService")";
  EXPECT_EQ(Value(s, absl::StrCat(R"(perks_grpc_requests_total{code="OK",)", authorize, "}")), 1.0)
      << s;
  EXPECT_EQ(Value(s, absl::StrCat(R"(perks_grpc_requests_total{code="INVALID_ARGUMENT",)",
                                  authorize, "}")),
            1.0);
  EXPECT_EQ(
      Value(s, absl::StrCat(R"(perks_grpc_request_seconds_count{code="OK",)", authorize, "}")),
      1.0);
  // The checkout's own calls to the promotion service are counted too (in-process gRPC).
  EXPECT_GE(
      Value(
          s,
          R"(perks_grpc_requests_total{code="OK",method="Reserve",service="perks.v1.PromotionService"})")
          .value_or(0),
      1.0);
  EXPECT_EQ(Value(s, "perks_reservations_pending"), 0.0);
  const std::string bank = R"({budget="bank",campaign="bozhou-supermarket-100-30"})";
  EXPECT_EQ(Value(s, "perks_budget_used" + bank), 1500.0);
  EXPECT_EQ(Value(s, "perks_budget_held" + bank), 0.0);
  auto limit = Value(s, "perks_budget_limit" + bank);
  ASSERT_TRUE(limit.has_value()) << s;
  EXPECT_EQ(Value(s, "perks_budget_left" + bank), *limit - 1500.0);

  EXPECT_GE(Value(s, R"(perks_group_commit_commands_count{db="checkout"})").value_or(0), 3.0);
  EXPECT_GE(Value(s, R"(perks_group_commit_commands_sum{db="checkout"})").value_or(0), 3.0);
  EXPECT_GE(Value(s, R"(perks_group_commit_write_seconds_count{db="checkout",synced="true"})")
                .value_or(0),
            1.0);
  EXPECT_GT(Value(s, R"(perks_rocksdb_estimate_num_keys{db="card"})").value_or(0), 0.0);
  EXPECT_TRUE(Value(s, R"(perks_rocksdb_block_cache_usage{db="promotion"})").has_value());
  EXPECT_NE(s.find("# HELP perks_budget_left"), std::string::npos);
}

}  // namespace
}  // namespace perks::testing
