#include "tools/common/seed.h"

#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "tools/common/member_gen.h"
#include "tools/common/merchant_csv.h"

namespace perks::tools {
namespace {

absl::Status Failed(const std::string& what, const grpc::Status& s) {
  absl::Status why = FromGrpcStatus(s);
  return absl::Status(why.code(), absl::StrCat(what, ": ", why.message()));
}

}  // namespace

Seeder::Seeder(std::shared_ptr<grpc::Channel> channel, std::string token, std::string prefix)
    : Seeder(channel, channel, channel, std::move(token), std::move(prefix)) {}

Seeder::Seeder(std::shared_ptr<grpc::Channel> cards, std::shared_ptr<grpc::Channel> merchants,
               std::shared_ptr<grpc::Channel> promotions, std::string token, std::string prefix)
    : token_(std::move(token)),
      prefix_(std::move(prefix)),
      cards_(perks::v1::CardService::NewStub(cards)),
      merchants_(perks::v1::MerchantService::NewStub(merchants)),
      promotions_(perks::v1::PromotionService::NewStub(promotions)) {}

std::string Seeder::NextId(const std::string& what) {
  return absl::StrCat(prefix_, "-", ++next_, "-", what);
}

absl::StatusOr<perks::v1::Merchant> Seeder::Onboard(int n, const std::string& tenant) {
  return Onboard(SyntheticMerchant(n, tenant));
}

absl::StatusOr<perks::v1::Merchant> Seeder::Onboard(const perks::v1::MerchantProfile& profile) {
  perks::v1::SubmitApplicationRequest submit;
  submit.set_request_id(NextId("submit"));
  *submit.mutable_profile() = profile;
  perks::v1::Application app;
  grpc::Status s = merchants_->SubmitApplication(Ctx().get(), submit, &app);
  if (!s.ok()) return Failed("the merchant's application", s);
  perks::v1::ReviewApplicationRequest review;
  review.set_request_id(NextId("review"));
  review.set_application_id(app.application_id());
  review.set_decision(perks::v1::REVIEW_DECISION_APPROVE);
  s = merchants_->ReviewApplication(Ctx().get(), review, &app);
  if (!s.ok()) return Failed("approving the merchant", s);
  perks::v1::GetMerchantRequest get;
  get.set_merchant_id(app.merchant_id());
  perks::v1::Merchant merchant;
  s = merchants_->GetMerchant(Ctx().get(), get, &merchant);
  if (!s.ok()) return Failed("reading the merchant", s);
  return merchant;
}

absl::StatusOr<TerminalCredentials> Seeder::AddTerminal(const std::string& store_id) {
  perks::v1::RegisterTerminalRequest reg;
  reg.set_request_id(NextId("till"));
  reg.set_store_id(store_id);
  reg.set_label("till");
  perks::v1::TerminalCredential cred;
  grpc::Status s = merchants_->RegisterTerminal(Ctx().get(), reg, &cred);
  if (!s.ok()) return Failed("registering a till", s);
  return TerminalCredentials{cred.terminal().terminal_id(), cred.secret()};
}

absl::StatusOr<std::vector<std::string>> Seeder::IssueMemberCards(
    const Program& program, int count, uint64_t seed, const std::vector<std::string>& tags) {
  perks::v1::CreateProgramRequest create;
  create.set_request_id(NextId("program"));
  perks::v1::Program* p = create.mutable_program();
  p->set_program_id(program.program_id);
  p->set_tenant_id(program.tenant_id);
  p->set_name("工会会员卡");
  p->set_bin_prefix(program.bin_prefix);
  p->set_card_number_length(program.card_number_length);
  perks::v1::Program created;
  grpc::Status s = cards_->CreateProgram(Ctx().get(), create, &created);
  if (!s.ok()) return Failed("the card program", s);

  perks::v1::ImportMembersRequest import;
  import.set_request_id(NextId("import"));
  import.set_tenant_id(program.tenant_id);
  import.set_issue_program_id(program.program_id);
  import.set_issue_batch_id("batch-" + program.program_id);
  MemberGenerator gen(seed);
  for (int i = 0; i < count; ++i) {
    SyntheticMember m = gen.Row(static_cast<uint64_t>(i));
    perks::v1::MemberRow* row = import.add_rows();
    row->set_line(i + 2);
    row->set_name(m.name);
    row->set_id_number(m.id_number);
    row->set_phone(m.phone);
    row->set_org_code(m.org_code);
    for (const std::string& tag : tags) row->add_tags(tag);
  }
  perks::v1::ImportMembersResponse imported;
  s = cards_->ImportMembers(Ctx().get(), import, &imported);
  if (!s.ok()) return Failed("importing the members", s);

  perks::v1::ExportCardsRequest ex;
  ex.set_batch_id(import.issue_batch_id());
  perks::v1::ExportCardsResponse exported;
  s = cards_->ExportCards(Ctx().get(), ex, &exported);
  if (!s.ok()) return Failed("exporting the cards", s);
  std::vector<std::string> numbers;
  for (const auto& c : exported.cards()) numbers.push_back(c.card_number());
  return numbers;
}

absl::Status Seeder::ChangeCardState(const std::string& number, perks::v1::CardAction action) {
  perks::v1::ChangeCardStateRequest req;
  req.set_request_id(NextId("state"));
  req.mutable_card()->set_card_number(number);
  req.set_action(action);
  perks::v1::Card card;
  grpc::Status s = cards_->ChangeCardState(Ctx().get(), req, &card);
  return s.ok() ? absl::OkStatus() : Failed("changing a card's state", s);
}

absl::Status Seeder::Publish(const perks::v1::CampaignSpec& spec) {
  perks::v1::ApplyCampaignRequest apply;
  apply.set_request_id(NextId("apply"));
  *apply.mutable_spec() = spec;
  perks::v1::Campaign c;
  grpc::Status s = promotions_->ApplyCampaign(Ctx().get(), apply, &c);
  if (!s.ok()) return Failed(absl::StrCat("campaign ", spec.campaign_id()), s);
  perks::v1::PublishCampaignRequest publish;
  publish.set_request_id(NextId("publish"));
  publish.set_campaign_id(spec.campaign_id());
  s = promotions_->PublishCampaign(Ctx().get(), publish, &c);
  return s.ok() ? absl::OkStatus() : Failed(absl::StrCat("publishing ", spec.campaign_id()), s);
}

}  // namespace perks::tools
