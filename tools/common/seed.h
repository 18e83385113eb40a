// Setting up an installation over gRPC as one API token: programs and member cards, merchants
// and their tills, campaigns. What the API tests' fixture and perks-loadgen both need.
#ifndef PERKS_TOOLS_COMMON_SEED_H_
#define PERKS_TOOLS_COMMON_SEED_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/merchant.grpc.pb.h"
#include "perks/v1/promotion.grpc.pb.h"
#include "tools/common/client.h"

namespace perks::tools {

class Seeder {
 public:
  // Calls as `token`; request ids are "<request_prefix>-<n>-<what>".
  Seeder(std::shared_ptr<grpc::Channel> channel, std::string token, std::string request_prefix);
  // The same with each service at its own address (one process per service).
  Seeder(std::shared_ptr<grpc::Channel> cards, std::shared_ptr<grpc::Channel> merchants,
         std::shared_ptr<grpc::Channel> promotions, std::string token, std::string request_prefix);

  // Synthetic merchant n of `tenant` (SyntheticMerchant), applied for and approved; with its
  // first store.
  absl::StatusOr<perks::v1::Merchant> Onboard(int n, const std::string& tenant);
  // The merchant of `profile`, applied for and approved.
  absl::StatusOr<perks::v1::Merchant> Onboard(const perks::v1::MerchantProfile& profile);
  absl::StatusOr<TerminalCredentials> AddTerminal(const std::string& store_id);
  // A card program and `count` synthetic members (generator seed `seed`) with a card each and
  // `tags`. Returns the full card numbers.
  struct Program {
    std::string tenant_id;
    std::string program_id;
    std::string bin_prefix;  // 6 digits
    int card_number_length = 19;
  };
  absl::StatusOr<std::vector<std::string>> IssueMemberCards(const Program& program, int count,
                                                            uint64_t seed,
                                                            const std::vector<std::string>& tags);
  absl::Status ChangeCardState(const std::string& number, perks::v1::CardAction action);
  absl::Status Publish(const perks::v1::CampaignSpec& spec);

 private:
  std::unique_ptr<grpc::ClientContext> Ctx() const {
    return MakeContext(absl::Seconds(60), token_);
  }
  std::string NextId(const std::string& what);

  std::string token_, prefix_;
  int next_ = 0;
  std::unique_ptr<perks::v1::CardService::Stub> cards_;
  std::unique_ptr<perks::v1::MerchantService::Stub> merchants_;
  std::unique_ptr<perks::v1::PromotionService::Stub> promotions_;
};

}  // namespace perks::tools

#endif  // PERKS_TOOLS_COMMON_SEED_H_
