// Jieshou's onboarding, end to end against a running perkd process: 63 merchants apply, some are
// rejected or asked for changes and apply again, every one is approved in the end, and each one's
// stores get tills that look up members' cards with signed calls.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "perks/v1/auth.grpc.pb.h"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/merchant.grpc.pb.h"
#include "storage/test_dir.h"
#include "tests/support/child_server.h"
#include "tests/support/server_test.h"
#include "tools/common/client.h"
#include "tools/common/member_gen.h"

namespace perks {
namespace {

using namespace perks::v1;
using testing::Profile;

constexpr int kMerchants = 63;  // Jieshou's program

class Jieshou {
 public:
  explicit Jieshou(const std::string& address)
      : channel_(tools::MakeChannel(address)),
        auth_(AuthService::NewStub(channel_)),
        card_(CardService::NewStub(channel_)),
        merchant_(MerchantService::NewStub(channel_)) {}

  std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    return tools::MakeContext(absl::Seconds(30), token);
  }
  std::string Id(const std::string& prefix) { return prefix + "-" + std::to_string(++ids_); }

  std::string Token(const std::string& by, Role role, const std::string& merchant,
                    const std::string& name) {
    CreateTokenRequest req;
    req.set_request_id(Id("token"));
    req.mutable_caller()->set_role(role);
    req.mutable_caller()->set_tenant_id("jieshou");
    req.mutable_caller()->set_merchant_id(merchant);
    req.mutable_caller()->set_name(name);
    CreatedToken created;
    grpc::Status s = auth_->CreateToken(As(by).get(), req, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return created.secret_token();
  }

  Application Submit(const std::string& token, const MerchantProfile& profile,
                     const std::string& application_id = "") {
    SubmitApplicationRequest req;
    req.set_request_id(Id("submit"));
    req.set_application_id(application_id);
    *req.mutable_profile() = profile;
    Application app;
    grpc::Status s = merchant_->SubmitApplication(As(token).get(), req, &app);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return app;
  }

  Application Review(const std::string& token, const std::string& id, ReviewDecision decision,
                     const std::string& reason = "") {
    ReviewApplicationRequest req;
    req.set_request_id(Id("review"));
    req.set_application_id(id);
    req.set_decision(decision);
    req.set_reason(reason);
    Application app;
    grpc::Status s = merchant_->ReviewApplication(As(token).get(), req, &app);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return app;
  }

  std::vector<Application> Queue(const std::string& token) {
    std::vector<Application> out;
    ListApplicationsRequest req;
    req.set_state(APPLICATION_STATE_SUBMITTED);
    for (;;) {
      ListApplicationsResponse page;
      grpc::Status s = merchant_->ListApplications(As(token).get(), req, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      out.insert(out.end(), page.applications().begin(), page.applications().end());
      if (!s.ok() || page.next_page_token().empty()) return out;
      req.set_page_token(page.next_page_token());
    }
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<AuthService::Stub> auth_;
  std::unique_ptr<CardService::Stub> card_;
  std::unique_ptr<MerchantService::Stub> merchant_;
  int ids_ = 0;
};

TEST(JieshouFlowTest, SixtyThreeMerchantsApplyAreReviewedAndTheirTillsLookUpCards) {
  storage::TestDir dir;
  auto server =
      testing::ChildServer::Start(PERKD_PATH, dir.path() + "/data", dir.path() + "/perkd.log");
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_FALSE(server->bootstrap_token().empty());
  Jieshou j(server->address());
  std::string admin =
      j.Token(server->bootstrap_token(), ROLE_UNION_ADMIN, "", "界首市总工会 王科长");

  // The members and their cards.
  CreateProgramRequest program;
  program.set_request_id("jieshou-program");
  program.mutable_program()->set_program_id("jieshou-member");
  program.mutable_program()->set_tenant_id("jieshou");
  program.mutable_program()->set_name("界首工会会员卡");
  program.mutable_program()->set_bin_prefix("623668");
  program.mutable_program()->set_card_number_length(19);
  Program created;
  ASSERT_TRUE(j.card_->CreateProgram(j.As(admin).get(), program, &created).ok());
  ImportMembersRequest import;
  import.set_request_id("jieshou-members");
  import.set_tenant_id("jieshou");
  import.set_issue_program_id("jieshou-member");
  import.set_issue_batch_id("jieshou-1");
  tools::MemberGenerator gen(1341282);
  for (int i = 0; i < 200; ++i) {
    tools::SyntheticMember m = gen.Row(static_cast<uint64_t>(i));
    MemberRow* row = import.add_rows();
    row->set_line(i + 2);
    row->set_name(m.name);
    row->set_id_number(m.id_number);
    row->set_phone(m.phone);
    row->set_org_code(m.org_code);
  }
  ImportMembersResponse imported;
  ASSERT_TRUE(j.card_->ImportMembers(j.As(admin).get(), import, &imported).ok());
  ASSERT_EQ(imported.cards_issued(), 200);
  ExportCardsRequest ex;
  ex.set_batch_id("jieshou-1");
  ExportCardsResponse cards;
  ASSERT_TRUE(j.card_->ExportCards(j.As(admin).get(), ex, &cards).ok());
  ASSERT_EQ(cards.cards_size(), 200);

  // 63 applications. Every 9th is rejected at first (an unreadable licence photo) and every 10th
  // comes back for changes; both apply again and are approved.
  std::map<std::string, int> merchant_of_application;
  for (int n = 1; n <= kMerchants; ++n) {
    Application app = j.Submit(admin, Profile(n, "jieshou"));
    merchant_of_application[app.application_id()] = n;
  }
  std::vector<Application> queue = j.Queue(admin);
  ASSERT_EQ(queue.size(), static_cast<size_t>(kMerchants));
  int rejected = 0, changes = 0;
  for (const auto& app : queue) {
    int n = merchant_of_application[app.application_id()];
    if (n % 9 == 0) {
      EXPECT_EQ(j.Review(admin, app.application_id(), REVIEW_DECISION_REJECT, "营业执照照片不清晰")
                    .state(),
                APPLICATION_STATE_REJECTED);
      ++rejected;
    } else if (n % 10 == 0) {
      EXPECT_EQ(j.Review(admin, app.application_id(), REVIEW_DECISION_REQUEST_CHANGES,
                         "请写明给会员的优惠")
                    .state(),
                APPLICATION_STATE_CHANGES_REQUESTED);
      ++changes;
    } else {
      EXPECT_EQ(j.Review(admin, app.application_id(), REVIEW_DECISION_APPROVE).state(),
                APPLICATION_STATE_APPROVED);
    }
  }
  EXPECT_EQ(rejected, 7);
  EXPECT_EQ(changes, 6);  // 10, 20, 30, 40, 50, 60
  EXPECT_TRUE(j.Queue(admin).empty());
  // They apply again, fixed; the second review approves them.
  for (const auto& [id, n] : merchant_of_application) {
    if (n % 9 != 0 && n % 10 != 0) continue;
    Application again = j.Submit(admin, Profile(n, "jieshou"), id);
    EXPECT_EQ(again.state(), APPLICATION_STATE_SUBMITTED);
  }
  queue = j.Queue(admin);
  ASSERT_EQ(queue.size(), 13u);
  for (const auto& app : queue) {
    Application approved = j.Review(admin, app.application_id(), REVIEW_DECISION_APPROVE);
    EXPECT_EQ(approved.state(), APPLICATION_STATE_APPROVED);
    ASSERT_EQ(approved.steps_size(), 4);  // submitted, turned back, submitted, approved
    EXPECT_THAT(approved.steps(3).actor(), ::testing::HasSubstr("王科长"));
    EXPECT_GT(approved.steps(3).at_unix_ms(), 0);
  }

  // Every merchant: its manager adds a store (every 5th has two), a till per store, and each till
  // looks a member's card up.
  std::vector<Merchant> merchants;
  ListMerchantsRequest list;
  for (;;) {
    ListMerchantsResponse page;
    ASSERT_TRUE(j.merchant_->ListMerchants(j.As(admin).get(), list, &page).ok());
    merchants.insert(merchants.end(), page.merchants().begin(), page.merchants().end());
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  ASSERT_EQ(merchants.size(), static_cast<size_t>(kMerchants));
  int tills = 0, lookups = 0;
  for (size_t i = 0; i < merchants.size(); ++i) {
    const Merchant& m = merchants[i];
    EXPECT_EQ(m.state(), MERCHANT_STATE_ACTIVE);
    std::string manager = j.Token(admin, ROLE_MERCHANT_MANAGER, m.merchant_id(), "店长");
    std::vector<std::string> stores = {m.stores(0).store_id()};
    if (i % 5 == 0) {
      AddStoreRequest add;
      add.set_request_id(j.Id("store"));
      add.set_merchant_id(m.merchant_id());
      add.set_name("二号店");
      add.set_address("界首市光明路 " + std::to_string(i) + " 号");
      Store store;
      ASSERT_TRUE(j.merchant_->AddStore(j.As(manager).get(), add, &store).ok());
      stores.push_back(store.store_id());
    }
    for (const auto& store_id : stores) {
      RegisterTerminalRequest reg;
      reg.set_request_id(j.Id("till"));
      reg.set_store_id(store_id);
      reg.set_label("收银台 1");
      TerminalCredential cred;
      ASSERT_TRUE(j.merchant_->RegisterTerminal(j.As(manager).get(), reg, &cred).ok());
      ++tills;
      tools::TerminalCredentials till{cred.terminal().terminal_id(), cred.secret()};
      LookupCardRequest lookup;
      lookup.mutable_card()->set_card_number(cards.cards(lookups % 200).card_number());
      lookup.set_store_id(store_id);
      auto ctx = tools::MakeContext(absl::Seconds(30));
      tools::SignAsTerminal(*ctx, till, "/perks.v1.CardService/LookupCard", lookup, absl::Now());
      Card card;
      grpc::Status s = j.card_->LookupCard(ctx.get(), lookup, &card);
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(card.state(), CARD_STATE_ISSUED);  // printed, not yet activated by its member
      EXPECT_EQ(card.card_number_masked().find(lookup.card().card_number()), std::string::npos);
      ++lookups;
    }
  }
  EXPECT_EQ(tills, kMerchants + 13);  // 63 first stores, and a second at every 5th merchant
  EXPECT_EQ(lookups, tills);
  EXPECT_EQ(server->Terminate(), 0);
}

}  // namespace
}  // namespace perks
