// The merchant service over real gRPC on 127.0.0.1, port 0: applications and their review,
// imports, stores and terminals.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/server_test.h"

namespace perks {
namespace {

using namespace perks::v1;
using testing::Profile;

class MerchantApiTest : public testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    admin_ = TokenFor(ROLE_UNION_ADMIN, "jieshou", "", "界首市总工会 王科长");
    stub_ = merchant_.get();
  }
  std::unique_ptr<grpc::ClientContext> Ctx() { return As(admin_); }
  Application Submit(int n, const std::string& application_id = "") {
    SubmitApplicationRequest req;
    req.set_request_id(NextRequestId("submit"));
    req.set_application_id(application_id);
    *req.mutable_profile() = Profile(n, "jieshou");
    Application app;
    grpc::Status s = stub_->SubmitApplication(Ctx().get(), req, &app);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return app;
  }
  grpc::Status Review(const std::string& id, ReviewDecision d, const std::string& reason,
                      Application* out) {
    ReviewApplicationRequest req;
    req.set_request_id(NextRequestId("review"));
    req.set_application_id(id);
    req.set_decision(d);
    req.set_reason(reason);
    return stub_->ReviewApplication(Ctx().get(), req, out);
  }

  std::string admin_;  // jieshou's union admin
  MerchantService::Stub* stub_ = nullptr;
};

TEST_F(MerchantApiTest, ApplicationIsReviewedRejectedResubmittedAndApproved) {
  Application app = Submit(1);
  EXPECT_EQ(app.state(), APPLICATION_STATE_SUBMITTED);
  std::string account = Profile(1, "jieshou").settlement().account_number();
  EXPECT_NE(app.profile().settlement().account_number(), account);  // masked in answers
  EXPECT_EQ(app.profile().settlement().account_number().substr(
                app.profile().settlement().account_number().size() - 4),
            account.substr(account.size() - 4));
  Application reviewed;
  ASSERT_TRUE(
      Review(app.application_id(), REVIEW_DECISION_REJECT, "营业执照照片不清晰", &reviewed).ok());
  EXPECT_EQ(reviewed.state(), APPLICATION_STATE_REJECTED);
  clock_.Advance(absl::Hours(2));
  Application again = Submit(1, app.application_id());
  EXPECT_EQ(again.state(), APPLICATION_STATE_SUBMITTED);
  ASSERT_TRUE(Review(app.application_id(), REVIEW_DECISION_APPROVE, "", &reviewed).ok());
  EXPECT_EQ(reviewed.state(), APPLICATION_STATE_APPROVED);
  ASSERT_FALSE(reviewed.merchant_id().empty());
  ASSERT_EQ(reviewed.steps_size(), 4);  // submitted, rejected, submitted, approved
  EXPECT_EQ(reviewed.steps(1).reason(), "营业执照照片不清晰");
  EXPECT_THAT(reviewed.steps(3).actor(), ::testing::HasSubstr("界首市总工会 王科长"));

  GetMerchantRequest get;
  get.set_merchant_id(reviewed.merchant_id());
  Merchant merchant;
  ASSERT_TRUE(stub_->GetMerchant(Ctx().get(), get, &merchant).ok());
  EXPECT_EQ(merchant.state(), MERCHANT_STATE_ACTIVE);
  ASSERT_EQ(merchant.stores_size(), 1);
  EXPECT_EQ(merchant.profile().contact_phone(), "139****0001");  // 13910000001, masked
}

TEST_F(MerchantApiTest, ReviewQueueListsSubmittedApplicationsOldestFirst) {
  for (int n = 1; n <= 5; ++n) {
    Submit(n);
    clock_.Advance(absl::Minutes(1));
  }
  Application approved;
  ListApplicationsRequest list;
  list.set_tenant_id("jieshou");
  list.set_state(APPLICATION_STATE_SUBMITTED);
  list.set_page_size(2);
  std::vector<std::string> names;
  for (;;) {
    ListApplicationsResponse page;
    ASSERT_TRUE(stub_->ListApplications(Ctx().get(), list, &page).ok());
    for (const auto& a : page.applications()) names.push_back(a.profile().name());
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  ASSERT_EQ(names.size(), 5u);
  EXPECT_EQ(names.front(), Profile(1, "jieshou").name());
  EXPECT_EQ(names.back(), Profile(5, "jieshou").name());
}

TEST_F(MerchantApiTest, InvalidCreditCodeIsRefusedAndWritesNothing) {
  SubmitApplicationRequest req;
  req.set_request_id("bad-code");
  *req.mutable_profile() = Profile(1, "jieshou");
  std::string code = req.profile().credit_code();
  code[17] = code[17] == '0' ? '1' : '0';
  req.mutable_profile()->set_credit_code(code);
  Application app;
  grpc::Status s = stub_->SubmitApplication(Ctx().get(), req, &app);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("check character"), std::string::npos);
  ListApplicationsRequest list;
  list.set_tenant_id("jieshou");
  ListApplicationsResponse page;
  ASSERT_TRUE(stub_->ListApplications(Ctx().get(), list, &page).ok());
  EXPECT_EQ(page.applications_size(), 0);
}

TEST_F(MerchantApiTest, ApprovingTwiceOrADuplicateMerchantIsRefused) {
  Application first = Submit(7), dup = Submit(7);
  Application out;
  ASSERT_TRUE(Review(first.application_id(), REVIEW_DECISION_APPROVE, "", &out).ok());
  EXPECT_EQ(Review(first.application_id(), REVIEW_DECISION_APPROVE, "", &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Review(dup.application_id(), REVIEW_DECISION_APPROVE, "", &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(MerchantApiTest, ImportTakesGoodRowsReportsBadOnesAndIsRepeatable) {
  ImportMerchantsRequest req;
  req.set_request_id("import-1");
  for (int n = 1; n <= 4; ++n) {
    MerchantRow* row = req.add_rows();
    row->set_line(n + 1);
    *row->mutable_profile() = Profile(100 + n, "jieshou");
  }
  req.mutable_rows(2)->mutable_profile()->set_credit_code("91341282XXXXXXXXXX");
  ImportMerchantsResponse resp;
  ASSERT_TRUE(stub_->ImportMerchants(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.created(), 3);
  ASSERT_EQ(resp.rejected_size(), 1);
  EXPECT_EQ(resp.rejected(0).line(), 4);
  req.set_request_id("import-2");
  ASSERT_TRUE(stub_->ImportMerchants(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.created(), 0);
  EXPECT_EQ(resp.unchanged(), 3);
  ListMerchantsRequest list;
  list.set_tenant_id("jieshou");
  ListMerchantsResponse merchants;
  ASSERT_TRUE(stub_->ListMerchants(Ctx().get(), list, &merchants).ok());
  EXPECT_EQ(merchants.merchants_size(), 3);
}

TEST_F(MerchantApiTest, TerminalSecretIsShownOnceRotatedWithGraceAndRevoked) {
  Application app = Submit(9);
  Application approved;
  ASSERT_TRUE(Review(app.application_id(), REVIEW_DECISION_APPROVE, "", &approved).ok());
  GetMerchantRequest get;
  get.set_merchant_id(approved.merchant_id());
  Merchant merchant;
  ASSERT_TRUE(stub_->GetMerchant(Ctx().get(), get, &merchant).ok());
  AddStoreRequest add;
  add.set_request_id("store-2");
  add.set_merchant_id(merchant.merchant_id());
  add.set_name("二号店");
  add.set_address("界首市光明路 2 号");
  Store store;
  ASSERT_TRUE(stub_->AddStore(Ctx().get(), add, &store).ok());

  RegisterTerminalRequest reg;
  reg.set_request_id("till-1");
  reg.set_store_id(store.store_id());
  reg.set_label("till 1");
  TerminalCredential cred;
  ASSERT_TRUE(stub_->RegisterTerminal(Ctx().get(), reg, &cred).ok());
  EXPECT_EQ(cred.secret().size(), 64u);
  EXPECT_EQ(cred.terminal().merchant_id(), merchant.merchant_id());
  EXPECT_EQ(cred.terminal().tenant_id(), "jieshou");

  ListTerminalsRequest list;
  list.set_store_id(store.store_id());
  ListTerminalsResponse terminals;
  ASSERT_TRUE(stub_->ListTerminals(Ctx().get(), list, &terminals).ok());
  ASSERT_EQ(terminals.terminals_size(), 1);
  EXPECT_EQ(terminals.SerializeAsString().find(cred.secret()), std::string::npos);

  RotateTerminalSecretRequest rot;
  rot.set_request_id("rotate-1");
  rot.set_terminal_id(cred.terminal().terminal_id());
  rot.set_grace_seconds(300);
  TerminalCredential rotated;
  ASSERT_TRUE(stub_->RotateTerminalSecret(Ctx().get(), rot, &rotated).ok());
  EXPECT_NE(rotated.secret(), cred.secret());
  EXPECT_EQ(rotated.terminal().previous_secret_valid_until_unix_ms(),
            absl::ToUnixMillis(clock_.Now()) + 300'000);
  rot.set_request_id("rotate-2");
  rot.set_grace_seconds(100'000);
  EXPECT_EQ(stub_->RotateTerminalSecret(Ctx().get(), rot, &rotated).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  RevokeTerminalRequest rev;
  rev.set_request_id("revoke-1");
  rev.set_terminal_id(cred.terminal().terminal_id());
  Terminal revoked;
  ASSERT_TRUE(stub_->RevokeTerminal(Ctx().get(), rev, &revoked).ok());
  EXPECT_EQ(revoked.state(), TERMINAL_STATE_REVOKED);
  rot.set_request_id("rotate-3");
  rot.set_grace_seconds(0);
  EXPECT_EQ(stub_->RotateTerminalSecret(Ctx().get(), rot, &rotated).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(MerchantApiTest, SuspendedMerchantCannotRegisterTerminals) {
  Application app = Submit(11);
  Application approved;
  ASSERT_TRUE(Review(app.application_id(), REVIEW_DECISION_APPROVE, "", &approved).ok());
  ChangeMerchantStateRequest change;
  change.set_request_id("suspend");
  change.set_merchant_id(approved.merchant_id());
  change.set_action(MERCHANT_ACTION_SUSPEND);
  Merchant merchant;
  ASSERT_TRUE(stub_->ChangeMerchantState(Ctx().get(), change, &merchant).ok());
  EXPECT_EQ(merchant.state(), MERCHANT_STATE_SUSPENDED);
  RegisterTerminalRequest reg;
  reg.set_request_id("till");
  reg.set_store_id(merchant.stores(0).store_id());
  TerminalCredential cred;
  EXPECT_EQ(stub_->RegisterTerminal(Ctx().get(), reg, &cred).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace perks
