// Who may call what, against a whole perkd on 127.0.0.1, port 0: every refusal is the right code
// and writes nothing in any service's database.
#include <future>

#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "perks/v1/admin.grpc.pb.h"
#include "services/common/grpc_status.h"
#include "services/common/terminal_auth.h"
#include "tests/support/server_test.h"

namespace perks {
namespace {

using namespace perks::v1;
using ::testing::HasSubstr;
using testing::Profile;

constexpr char kLookup[] = "/perks.v1.CardService/LookupCard";

// Bozhou with one merchant (a store and a till) and cards; Anqing with its own admin and cards.
class AccessTest : public testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    bozhou_admin_ = TokenFor(ROLE_UNION_ADMIN, "bozhou", "", "亳州市总工会 李科长");
    anqing_admin_ = TokenFor(ROLE_UNION_ADMIN, "anqing", "", "安庆市总工会 张科长");
    shop_ = Onboard(1, "bozhou", bozhou_admin_);
    store_id_ = shop_.stores(0).store_id();
    manager_ = TokenFor(ROLE_MERCHANT_MANAGER, "bozhou", shop_.merchant_id(), "店长 赵");
    till_ = AddTerminal(store_id_, manager_);
    bozhou_cards_ = IssueMemberCards("bozhou", 3, bozhou_admin_);
    anqing_cards_ = IssueMemberCards("anqing", 3, anqing_admin_);
  }

  LookupCardRequest LookupOf(const std::string& number) {
    LookupCardRequest req;
    req.mutable_card()->set_card_number(number);
    return req;
  }
  // A lookup signed by the till, with the signature's parts given.
  grpc::Status SignedLookup(const LookupCardRequest& req, absl::Time at, const std::string& nonce,
                            const std::string& secret, Card* out) {
    grpc::ClientContext ctx;
    int64_t ts = absl::ToUnixMillis(at);
    ctx.AddMetadata(kTerminalHeader, till_.terminal_id);
    ctx.AddMetadata(kTimestampHeader, std::to_string(ts));
    ctx.AddMetadata(kNonceHeader, nonce);
    ctx.AddMetadata(kSignatureHeader,
                    SignTerminalCall(secret, kLookup, ts, nonce, DeterministicBytes(req)));
    return card_->LookupCard(&ctx, req, out);
  }

  std::string bozhou_admin_, anqing_admin_, manager_, store_id_;
  Merchant shop_;  // Bozhou's merchant
  tools::TerminalCredentials till_;
  std::vector<std::string> bozhou_cards_, anqing_cards_;
};

TEST_F(AccessTest, EveryMethodOfEveryServiceRefusesACallerWithoutCredentials) {
  grpc::GenericStub stub(channel_);
  int methods = 0;
  for (const char* name : {"perks.v1.AuthService", "perks.v1.CardService",
                           "perks.v1.MerchantService", "perks.v1.AdminService"}) {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      std::string method = absl::StrCat("/", name, "/", service->method(i)->name());
      if (method == "/perks.v1.AuthService/Authenticate") continue;  // the token is the request
      auto before = Writes();
      grpc::Slice empty("");  // an empty request: every field unset
      grpc::ByteBuffer request(&empty, 1), response;
      auto ctx = As("");
      std::promise<grpc::Status> done;
      stub.UnaryCall(ctx.get(), method, grpc::StubOptions(), &request, &response,
                     [&done](grpc::Status s) { done.set_value(std::move(s)); });
      grpc::Status s = done.get_future().get();
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
      EXPECT_EQ(Writes(), before) << method;
      ++methods;
    }
  }
  EXPECT_GT(methods, 25);
}

TEST_F(AccessTest, ASignedLookupFromTheTillIsAnswered) {
  Card card;
  LookupCardRequest req = LookupOf(bozhou_cards_[0]);
  req.set_store_id(store_id_);
  grpc::Status s = card_->LookupCard(Signed(till_, kLookup, req).get(), req, &card);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(card.state(), CARD_STATE_ISSUED);  // printed, not yet activated by its member
}

TEST_F(AccessTest, ForgedSignatureIsRefusedAndWritesNothing) {
  auto before = Writes();
  Card card;
  std::string forged = till_.secret;
  forged[0] = forged[0] == 'a' ? 'b' : 'a';
  grpc::Status s =
      SignedLookup(LookupOf(bozhou_cards_[0]), clock_.Now(), "nonce-forged-000001", forged, &card);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(card.card_id(), "");
  // A signature made for one request does not carry over to another, not even a change of
  // method: a forged credit is refused before anything else is looked at.
  CreditBalanceRequest credit;
  credit.set_request_id("forged-credit");
  credit.mutable_card()->set_card_number(bozhou_cards_[0]);
  credit.set_balance_name("transit");
  credit.set_kind(BALANCE_KIND_TRANSIT_CREDIT);
  credit.set_amount_fen(100'000);
  auto ctx = Signed(till_, kLookup, credit);  // signed as a lookup, sent as a credit
  BalanceChange change;
  EXPECT_EQ(card_->CreditBalance(ctx.get(), credit, &change).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Writes(), before);
}

TEST_F(AccessTest, ReplayedRequestIsRefusedAndWritesNothing) {
  LookupCardRequest req = LookupOf(bozhou_cards_[0]);
  Card card;
  ASSERT_TRUE(SignedLookup(req, clock_.Now(), "nonce-replay-000001", till_.secret, &card).ok());
  auto before = Writes();
  grpc::Status s = SignedLookup(req, clock_.Now(), "nonce-replay-000001", till_.secret, &card);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("nonce"));
  EXPECT_EQ(Writes(), before);
}

TEST_F(AccessTest, StaleTimestampIsRefusedAndWritesNothing) {
  auto before = Writes();
  Card card;
  for (absl::Duration off : {absl::Minutes(-6), absl::Minutes(6)}) {
    grpc::Status s =
        SignedLookup(LookupOf(bozhou_cards_[0]), clock_.Now() + off,
                     "nonce-stale-" + std::to_string(absl::ToInt64Minutes(off) + 10) + "-000001",
                     till_.secret, &card);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_THAT(s.error_message(), HasSubstr("clock"));
  }
  EXPECT_EQ(Writes(), before);
}

TEST_F(AccessTest, RevokedTerminalIsRefusedByTheCardServiceOnceItsCacheExpires) {
  LookupCardRequest req = LookupOf(bozhou_cards_[0]);
  Card card;
  ASSERT_TRUE(card_->LookupCard(Signed(till_, kLookup, req).get(), req, &card).ok());
  RevokeTerminalRequest revoke;
  revoke.set_request_id("revoke-till");
  revoke.set_terminal_id(till_.terminal_id);
  revoke.set_reason("till stolen");
  Terminal revoked;
  ASSERT_TRUE(merchant_->RevokeTerminal(As(manager_).get(), revoke, &revoked).ok());
  clock_.Advance(options_.credentials_cache_ttl + absl::Seconds(1));
  auto before = Writes();
  grpc::Status s = card_->LookupCard(Signed(till_, kLookup, req).get(), req, &card);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("revoked"));
  EXPECT_EQ(Writes(), before);
}

TEST_F(AccessTest, TerminalAskingAboutAnotherStoreOrCityIsRefused) {
  AddStoreRequest add;
  add.set_request_id("second-store");
  add.set_merchant_id(shop_.merchant_id());
  add.set_name("二号店");
  add.set_address("亳州市光明路 2 号");
  Store other;
  ASSERT_TRUE(merchant_->AddStore(As(manager_).get(), add, &other).ok());
  auto before = Writes();
  Card card;
  LookupCardRequest req = LookupOf(bozhou_cards_[0]);
  req.set_store_id(other.store_id());
  grpc::Status s = card_->LookupCard(Signed(till_, kLookup, req).get(), req, &card);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(card.card_id(), "");
  // Another city's card is not there for a Bozhou till.
  req = LookupOf(anqing_cards_[0]);
  s = card_->LookupCard(Signed(till_, kLookup, req).get(), req, &card);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(card.card_id(), "");
  // Nor may a till read its merchant's other tills or register one.
  ListTerminalsRequest list;
  list.set_store_id(store_id_);
  ListTerminalsResponse tills;
  EXPECT_EQ(
      merchant_
          ->ListTerminals(Signed(till_, "/perks.v1.MerchantService/ListTerminals", list).get(),
                          list, &tills)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Writes(), before);
}

TEST_F(AccessTest, AdminOfOneCityCannotReadAnotherCitysMerchants) {
  auto before = Writes();
  GetMerchantRequest get;
  get.set_merchant_id(shop_.merchant_id());
  Merchant seen;
  EXPECT_EQ(merchant_->GetMerchant(As(anqing_admin_).get(), get, &seen).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(seen.merchant_id(), "");
  ListMerchantsRequest list;
  list.set_tenant_id("bozhou");
  ListMerchantsResponse merchants;
  grpc::Status s = merchant_->ListMerchants(As(anqing_admin_).get(), list, &merchants);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(merchants.merchants_size(), 0);
  list.clear_tenant_id();  // its own city: Anqing has none
  ASSERT_TRUE(merchant_->ListMerchants(As(anqing_admin_).get(), list, &merchants).ok());
  EXPECT_EQ(merchants.merchants_size(), 0);
  ListApplicationsRequest queue;
  queue.set_tenant_id("bozhou");
  ListApplicationsResponse apps;
  EXPECT_EQ(merchant_->ListApplications(As(anqing_admin_).get(), queue, &apps).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ListTerminalsRequest tills;
  tills.set_store_id(store_id_);
  ListTerminalsResponse terminals;
  EXPECT_EQ(merchant_->ListTerminals(As(anqing_admin_).get(), tills, &terminals).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Cards too: Anqing's admin does not find a Bozhou card.
  LookupCardRequest lookup = LookupOf(bozhou_cards_[0]);
  Card card;
  EXPECT_EQ(card_->LookupCard(As(anqing_admin_).get(), lookup, &card).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Writes(), before);
}

TEST_F(AccessTest, MerchantManagerCannotApproveItsOwnApplication) {
  SubmitApplicationRequest submit;
  submit.set_request_id("manager-applies");
  *submit.mutable_profile() = Profile(2, "bozhou");
  Application app;
  ASSERT_TRUE(merchant_->SubmitApplication(As(manager_).get(), submit, &app).ok());
  auto before = Writes();
  ReviewApplicationRequest review;
  review.set_request_id("self-approval");
  review.set_application_id(app.application_id());
  review.set_decision(REVIEW_DECISION_APPROVE);
  Application reviewed;
  grpc::Status s = merchant_->ReviewApplication(As(manager_).get(), review, &reviewed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Writes(), before);
  GetApplicationRequest get;
  get.set_application_id(app.application_id());
  ASSERT_TRUE(merchant_->GetApplication(As(bozhou_admin_).get(), get, &reviewed).ok());
  EXPECT_EQ(reviewed.state(), APPLICATION_STATE_SUBMITTED);
}

TEST_F(AccessTest, MerchantManagerSeesOnlyItsOwnMerchant) {
  Merchant other = Onboard(3, "bozhou", bozhou_admin_);
  auto before = Writes();
  GetMerchantRequest get;
  get.set_merchant_id(other.merchant_id());
  Merchant seen;
  EXPECT_EQ(merchant_->GetMerchant(As(manager_).get(), get, &seen).error_code(),
            grpc::StatusCode::NOT_FOUND);
  RegisterTerminalRequest reg;
  reg.set_request_id("till-at-a-rival");
  reg.set_store_id(other.stores(0).store_id());
  TerminalCredential cred;
  EXPECT_EQ(merchant_->RegisterTerminal(As(manager_).get(), reg, &cred).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(cred.secret(), "");
  EXPECT_EQ(Writes(), before);
}

TEST_F(AccessTest, InvalidCreditCodeIsRefusedAndWritesNothing) {
  auto before = Writes();
  SubmitApplicationRequest req;
  req.set_request_id("bad-code");
  *req.mutable_profile() = Profile(4, "bozhou");
  std::string code = req.profile().credit_code();
  code[17] = code[17] == '0' ? '1' : '0';
  req.mutable_profile()->set_credit_code(code);
  Application app;
  grpc::Status s = merchant_->SubmitApplication(As(bozhou_admin_).get(), req, &app);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("check character"));
  EXPECT_EQ(Writes(), before);
}

TEST_F(AccessTest, BankOperatorReadsButChangesNothing) {
  std::string bank = TokenFor(ROLE_BANK_OPERATOR, "bozhou", "", "徽商银行 对账员");
  LookupCardRequest lookup = LookupOf(bozhou_cards_[0]);
  Card card;
  ASSERT_TRUE(card_->LookupCard(As(bank).get(), lookup, &card).ok());
  auto before = Writes();
  CreditBalanceRequest credit;
  credit.set_request_id("bank-credit");
  credit.mutable_card()->set_card_number(bozhou_cards_[0]);
  credit.set_balance_name("transit");
  credit.set_kind(BALANCE_KIND_TRANSIT_CREDIT);
  credit.set_amount_fen(100);
  BalanceChange change;
  EXPECT_EQ(card_->CreditBalance(As(bank).get(), credit, &change).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ChangeMerchantStateRequest suspend;
  suspend.set_request_id("bank-suspends");
  suspend.set_merchant_id(shop_.merchant_id());
  suspend.set_action(MERCHANT_ACTION_SUSPEND);
  Merchant m;
  EXPECT_EQ(merchant_->ChangeMerchantState(As(bank).get(), suspend, &m).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Writes(), before);
}

TEST_F(AccessTest, RevokedTokenIsRefusedByEveryServiceOnceItsCacheExpires) {
  ListMerchantsRequest list;
  ListMerchantsResponse merchants;
  ASSERT_TRUE(merchant_->ListMerchants(As(bozhou_admin_).get(), list, &merchants).ok());
  ListTokensRequest tokens_req;
  ListTokensResponse tokens;
  ASSERT_TRUE(auth_->ListTokens(As(admin_token_).get(), tokens_req, &tokens).ok());
  std::string token_id;
  for (const auto& t : tokens.tokens()) {
    if (t.caller().name() == "亳州市总工会 李科长") token_id = t.token_id();
  }
  ASSERT_FALSE(token_id.empty());
  RevokeTokenRequest revoke;
  revoke.set_request_id("revoke-admin");
  revoke.set_token_id(token_id);
  ApiToken revoked;
  ASSERT_TRUE(auth_->RevokeToken(As(admin_token_).get(), revoke, &revoked).ok());
  clock_.Advance(options_.credentials_cache_ttl + absl::Seconds(1));
  auto before = Writes();
  EXPECT_EQ(merchant_->ListMerchants(As(bozhou_admin_).get(), list, &merchants).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  LookupCardRequest lookup = LookupOf(bozhou_cards_[0]);
  Card card;
  EXPECT_EQ(card_->LookupCard(As(bozhou_admin_).get(), lookup, &card).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Writes(), before);
}

TEST_F(AccessTest, AdministrativeChangesAreAuditedForTheirCitysAdminsOnly) {
  ListAuditRequest req;
  ListAuditResponse merchants, cards, tokens;
  ASSERT_TRUE(merchant_->ListAudit(As(bozhou_admin_).get(), req, &merchants).ok());
  ASSERT_TRUE(card_->ListAudit(As(bozhou_admin_).get(), req, &cards).ok());
  ASSERT_TRUE(auth_->ListAudit(As(bozhou_admin_).get(), req, &tokens).ok());
  std::vector<std::string> what;
  for (const auto* log : {&tokens, &merchants, &cards}) {
    for (const auto& e : log->entries()) {
      EXPECT_EQ(e.tenant_id(), "bozhou");
      EXPECT_GT(e.at_unix_ms(), 0);
      EXPECT_FALSE(e.request_id().empty());
      for (const auto& number : bozhou_cards_) {
        EXPECT_EQ(e.SerializeAsString().find(number), std::string::npos);
      }
      what.push_back(e.service() + " " + e.method() + " by " + e.actor());
    }
  }
  // (The test's clock stands still, so the order among these is not the point.)
  EXPECT_THAT(what, ::testing::UnorderedElementsAre(
                        HasSubstr("auth CreateToken by installation admin"),  // 李科长's
                        HasSubstr("auth CreateToken by installation admin"),  // 店长 赵's
                        HasSubstr("merchant SubmitApplication by 亳州市总工会 李科长"),
                        HasSubstr("merchant ReviewApplication by 亳州市总工会 李科长"),
                        HasSubstr("merchant RegisterTerminal by 店长 赵"),
                        HasSubstr("card CreateProgram by 亳州市总工会 李科长"),
                        HasSubstr("card ImportMembers by 亳州市总工会 李科长")));
  for (const auto& e : merchants.entries()) {
    if (e.method() == "ReviewApplication") {
      EXPECT_THAT(e.target(), HasSubstr("application_id A"));
    }
  }

  // Another city's admin may not read Bozhou's log; its own holds none of Bozhou's changes.
  req.set_tenant_id("bozhou");
  ListAuditResponse other;
  EXPECT_EQ(merchant_->ListAudit(As(anqing_admin_).get(), req, &other).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(merchant_->ListAudit(As(manager_).get(), req, &other).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  req.clear_tenant_id();
  ASSERT_TRUE(merchant_->ListAudit(As(anqing_admin_).get(), req, &other).ok());
  EXPECT_EQ(other.entries_size(), 0);
}

TEST_F(AccessTest, ARefusedTerminalIsToldWhy) {
  Card card;
  grpc::Status s =
      SignedLookup(LookupOf(bozhou_cards_[0]), clock_.Now(), "nonce-why-0000001", "00", &card);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("signature"));
}

}  // namespace
}  // namespace perks
