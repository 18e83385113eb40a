#include "tests/support/server_test.h"

#include "tools/common/member_gen.h"
#include "tools/common/merchant_csv.h"

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
  SubmitApplicationRequest submit;
  submit.set_request_id(NextRequestId("submit"));
  *submit.mutable_profile() = Profile(n, tenant);
  Application app;
  grpc::Status s = merchant_->SubmitApplication(As(admin_token).get(), submit, &app);
  EXPECT_TRUE(s.ok()) << s.error_message();
  ReviewApplicationRequest review;
  review.set_request_id(NextRequestId("review"));
  review.set_application_id(app.application_id());
  review.set_decision(REVIEW_DECISION_APPROVE);
  s = merchant_->ReviewApplication(As(admin_token).get(), review, &app);
  EXPECT_TRUE(s.ok()) << s.error_message();
  GetMerchantRequest get;
  get.set_merchant_id(app.merchant_id());
  Merchant merchant;
  s = merchant_->GetMerchant(As(admin_token).get(), get, &merchant);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return merchant;
}

tools::TerminalCredentials ServerTest::AddTerminal(const std::string& store_id,
                                                   const std::string& token) {
  RegisterTerminalRequest reg;
  reg.set_request_id(NextRequestId("till"));
  reg.set_store_id(store_id);
  reg.set_label("till");
  TerminalCredential cred;
  grpc::Status s = merchant_->RegisterTerminal(As(token).get(), reg, &cred);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return {cred.terminal().terminal_id(), cred.secret()};
}

std::vector<std::string> ServerTest::IssueMemberCards(const std::string& tenant, int count,
                                                      const std::string& token,
                                                      const std::string& program_id,
                                                      const std::vector<std::string>& tags) {
  int n = ++programs_;
  CreateProgramRequest create;
  create.set_request_id(NextRequestId("program"));
  Program* p = create.mutable_program();
  p->set_program_id(program_id.empty() ? tenant + "-member-" + std::to_string(n) : program_id);
  p->set_tenant_id(tenant);
  p->set_name("工会会员卡");
  p->set_bin_prefix("62366" + std::to_string(n % 10));
  p->set_card_number_length(19);
  Program program;
  grpc::Status s = card_->CreateProgram(As(token).get(), create, &program);
  EXPECT_TRUE(s.ok()) << s.error_message();

  ImportMembersRequest import;
  import.set_request_id(NextRequestId("import"));
  import.set_tenant_id(tenant);
  import.set_issue_program_id(p->program_id());
  import.set_issue_batch_id("batch-" + p->program_id());
  tools::MemberGenerator gen(static_cast<uint64_t>(n));
  for (int i = 0; i < count; ++i) {
    tools::SyntheticMember m = gen.Row(static_cast<uint64_t>(i));
    MemberRow* row = import.add_rows();
    row->set_line(i + 2);
    row->set_name(m.name);
    row->set_id_number(m.id_number);
    row->set_phone(m.phone);
    row->set_org_code(m.org_code);
    for (const std::string& tag : tags) row->add_tags(tag);
  }
  ImportMembersResponse imported;
  s = card_->ImportMembers(As(token).get(), import, &imported);
  EXPECT_TRUE(s.ok()) << s.error_message();

  ExportCardsRequest ex;
  ex.set_batch_id(import.issue_batch_id());
  ExportCardsResponse cards;
  s = card_->ExportCards(As(token).get(), ex, &cards);
  EXPECT_TRUE(s.ok()) << s.error_message();
  std::vector<std::string> numbers;
  for (const auto& c : cards.cards()) numbers.push_back(c.card_number());
  return numbers;
}

}  // namespace perks::testing
