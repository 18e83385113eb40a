// A whole perkd in the test's process: every service on 127.0.0.1, port 0, a manual clock, and
// the callers a test needs (the installation admin from the bootstrap token, a city's union admin,
// a merchant's manager, a signed POS terminal).
#ifndef PERKS_TESTS_SUPPORT_SERVER_TEST_H_
#define PERKS_TESTS_SUPPORT_SERVER_TEST_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "perks/v1/auth.grpc.pb.h"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/merchant.grpc.pb.h"
#include "services/common/clock.h"
#include "services/perkd/server.h"
#include "storage/test_dir.h"
#include "tools/common/client.h"

namespace perks::testing {

// An application's profile for synthetic merchant n of `tenant` (tools::SyntheticMerchant).
perks::v1::MerchantProfile Profile(int n, const std::string& tenant);

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override { server_.reset(); }

  // Starts perkd on the test's data directory with options_ (tests may change them first).
  void Start();
  void Restart() {
    server_.reset();
    Start();
  }

  // A context for a call with `token` ("" for none).
  std::unique_ptr<grpc::ClientContext> As(const std::string& token) const {
    return tools::MakeContext(absl::Seconds(30), token);
  }
  // A context for a call of `full_method` with `request`, signed by `terminal` now.
  template <typename Request>
  std::unique_ptr<grpc::ClientContext> Signed(const tools::TerminalCredentials& terminal,
                                              const std::string& full_method,
                                              const Request& request) const {
    auto ctx = tools::MakeContext(absl::Seconds(30));
    tools::SignAsTerminal(*ctx, terminal, full_method, request, clock_.Now());
    return ctx;
  }

  // A new API token made by the installation admin.
  std::string TokenFor(perks::v1::Role role, const std::string& tenant,
                       const std::string& merchant = "", const std::string& name = "测试员");

  // Submits synthetic merchant n's application to `tenant` and has `admin_token` approve it.
  // Returns the merchant (with its first store).
  perks::v1::Merchant Onboard(int n, const std::string& tenant, const std::string& admin_token);
  // Registers a till at `store_id`, as `token`.
  tools::TerminalCredentials AddTerminal(const std::string& store_id, const std::string& token);

  // Makes a card program in `tenant` (named `program_id`, or a new name) and `count` members
  // there with a card each and `tags`, as `token`. Returns the full card numbers.
  std::vector<std::string> IssueMemberCards(const std::string& tenant, int count,
                                            const std::string& token,
                                            const std::string& program_id = "",
                                            const std::vector<std::string>& tags = {});
  // What the card's balance named `name` holds (0 if it has none), looked up as `token` (or the
  // installation admin).
  int64_t BalanceOf(const std::string& card_number, const std::string& name,
                    const std::string& token = "");

  // Each service's latest write; equal before and after a call means it wrote nothing. Waits
  // first for the checkout outbox to be delivered, whose clean-up writes come on their own.
  std::map<std::string, uint64_t> Writes() const {
    EXPECT_TRUE(server_->WaitSettled(absl::Seconds(30)));
    return server_->LatestWrites();
  }

  std::string NextRequestId(const std::string& prefix) {
    return prefix + "-" + std::to_string(++request_ids_);
  }

  storage::TestDir dir_;
  ManualClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  ServerOptions options_;
  std::unique_ptr<Server> server_;
  std::string admin_token_;  // the installation admin's (the bootstrap token)
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<perks::v1::AuthService::Stub> auth_;
  std::unique_ptr<perks::v1::CardService::Stub> card_;
  std::unique_ptr<perks::v1::MerchantService::Stub> merchant_;
  int request_ids_ = 0;
  int programs_ = 0;
};

}  // namespace perks::testing

#endif  // PERKS_TESTS_SUPPORT_SERVER_TEST_H_
