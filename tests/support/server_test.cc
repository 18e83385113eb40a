#include "tests/support/server_test.h"

#include "tools/common/merchant_csv.h"
#include "tools/common/seed.h"

namespace perks::testing {

using namespace perks::v1;

MerchantProfile Profile(int n, const std::string& tenant) {
  return tools::SyntheticMerchant(n, tenant);
}

void ServerTest::Start() {
  options_.listen = "127.0.0.1:0";
  options_.data_dir = dir_.path();
  options_.clock = &clock_;
  auto server = Server::Start(options_);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  if (admin_token_.empty()) admin_token_ = server_->bootstrap_token();  // the first start's
  channel_ = tools::MakeChannel("127.0.0.1:" + std::to_string(server_->port()));
  auth_ = AuthService::NewStub(channel_);
  card_ = CardService::NewStub(channel_);
  merchant_ = MerchantService::NewStub(channel_);
}

std::string ServerTest::TokenFor(Role role, const std::string& tenant, const std::string& merchant,
                                 const std::string& name) {
  CreateTokenRequest req;
  req.set_request_id(NextRequestId("token"));
  req.mutable_caller()->set_role(role);
  req.mutable_caller()->set_tenant_id(tenant);
  req.mutable_caller()->set_merchant_id(merchant);
  if (role == ROLE_BANK_OPERATOR) req.mutable_caller()->set_bank_id("hsbank");
  req.mutable_caller()->set_name(name);
  CreatedToken created;
  grpc::Status s = auth_->CreateToken(As(admin_token_).get(), req, &created);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return created.secret_token();
}

Merchant ServerTest::Onboard(int n, const std::string& tenant, const std::string& admin_token) {
  auto merchant = tools::Seeder(channel_, admin_token, NextRequestId("seed")).Onboard(n, tenant);
  EXPECT_TRUE(merchant.ok()) << merchant.status();
  return merchant.value_or(Merchant());
}

tools::TerminalCredentials ServerTest::AddTerminal(const std::string& store_id,
                                                   const std::string& token) {
  auto till = tools::Seeder(channel_, token, NextRequestId("seed")).AddTerminal(store_id);
  EXPECT_TRUE(till.ok()) << till.status();
  return till.value_or(tools::TerminalCredentials());
}

std::vector<std::string> ServerTest::IssueMemberCards(const std::string& tenant, int count,
                                                      const std::string& token,
                                                      const std::string& program_id,
                                                      const std::vector<std::string>& tags) {
  const int n = ++programs_;
  tools::Seeder::Program program;
  program.tenant_id = tenant;
  program.program_id = program_id.empty() ? tenant + "-member-" + std::to_string(n) : program_id;
  program.bin_prefix = "62366" + std::to_string(n % 10);
  auto cards = tools::Seeder(channel_, token, NextRequestId("seed"))
                   .IssueMemberCards(program, count, static_cast<uint64_t>(n), tags);
  EXPECT_TRUE(cards.ok()) << cards.status();
  return cards.value_or(std::vector<std::string>());
}

int64_t ServerTest::BalanceOf(const std::string& card_number, const std::string& name,
                              const std::string& token) {
  perks::v1::LookupCardRequest req;
  req.mutable_card()->set_card_number(card_number);
  perks::v1::Card card;
  grpc::Status s = card_->LookupCard(As(token.empty() ? admin_token_ : token).get(), req, &card);
  EXPECT_TRUE(s.ok()) << s.error_message();
  for (const auto& b : card.balances()) {
    if (b.name() == name) return b.amount_fen();
  }
  return 0;
}

}  // namespace perks::testing
