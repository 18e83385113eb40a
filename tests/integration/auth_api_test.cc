// The auth service over real gRPC on 127.0.0.1, port 0: the bootstrap token and API tokens.
#include "gtest/gtest.h"
#include "perks/v1/auth.grpc.pb.h"
#include "services/common/clock.h"
#include "services/perkd/server.h"
#include "storage/test_dir.h"
#include "tools/common/client.h"

namespace perks {
namespace {

using namespace perks::v1;

class AuthApiTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void Start() {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.data_dir = dir_.path();
    o.clock = &clock_;
    auto server = Server::Start(o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ =
        AuthService::NewStub(tools::MakeChannel("127.0.0.1:" + std::to_string(server_->port())));
  }
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    return tools::MakeContext(absl::Seconds(30), token);
  }
  grpc::Status Create(const std::string& by, Role role, const std::string& tenant,
                      CreatedToken* out, const std::string& merchant = "") {
    CreateTokenRequest req;
    req.set_request_id("create-" + std::to_string(++creates_));
    req.mutable_caller()->set_role(role);
    req.mutable_caller()->set_tenant_id(tenant);
    req.mutable_caller()->set_merchant_id(merchant);
    req.mutable_caller()->set_name("李科长");
    return stub_->CreateToken(Ctx(by).get(), req, out);
  }

  storage::TestDir dir_;
  ManualClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  std::unique_ptr<Server> server_;
  std::unique_ptr<AuthService::Stub> stub_;
  int creates_ = 0;
};

TEST_F(AuthApiTest, FirstStartMakesOneBootstrapTokenAndLaterStartsNone) {
  std::string bootstrap = server_->bootstrap_token();
  ASSERT_FALSE(bootstrap.empty());
  AuthenticateRequest req;
  req.set_bearer_token(bootstrap);
  Caller who;
  ASSERT_TRUE(stub_->Authenticate(Ctx("").get(), req, &who).ok());
  EXPECT_EQ(who.role(), ROLE_INSTALLATION_ADMIN);
  server_.reset();
  Start();
  EXPECT_TRUE(server_->bootstrap_token().empty());
  ASSERT_TRUE(stub_->Authenticate(Ctx("").get(), req, &who).ok());  // still valid
}

TEST_F(AuthApiTest, TokensAreScopedToTheirCity) {
  std::string root = server_->bootstrap_token();
  CreatedToken bozhou;
  ASSERT_TRUE(Create(root, ROLE_UNION_ADMIN, "bozhou", &bozhou).ok());
  EXPECT_EQ(bozhou.secret_token().rfind("pk.", 0), 0u);
  CreatedToken manager, other;
  EXPECT_TRUE(Create(bozhou.secret_token(), ROLE_MERCHANT_MANAGER, "bozhou", &manager, "M1").ok());
  EXPECT_EQ(Create(bozhou.secret_token(), ROLE_UNION_ADMIN, "anqing", &other).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Create(manager.secret_token(), ROLE_MERCHANT_MANAGER, "bozhou", &other, "M2").error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Create("", ROLE_UNION_ADMIN, "bozhou", &other).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Create(bozhou.secret_token(), ROLE_UNION_ADMIN, "", &other).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  ListTokensRequest list;
  list.set_tenant_id("anqing");
  ListTokensResponse tokens;
  EXPECT_EQ(stub_->ListTokens(Ctx(bozhou.secret_token()).get(), list, &tokens).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  list.set_tenant_id("bozhou");
  ASSERT_TRUE(stub_->ListTokens(Ctx(bozhou.secret_token()).get(), list, &tokens).ok());
  EXPECT_EQ(tokens.tokens_size(), 2);  // the admin and the manager
  EXPECT_EQ(tokens.SerializeAsString().find(bozhou.secret_token().substr(20)), std::string::npos);
}

TEST_F(AuthApiTest, RevokedOrForgedTokensAreRefused) {
  std::string root = server_->bootstrap_token();
  CreatedToken t;
  ASSERT_TRUE(Create(root, ROLE_UNION_ADMIN, "fuyang", &t).ok());
  RevokeTokenRequest revoke;
  revoke.set_request_id("revoke-1");
  revoke.set_token_id(t.token().token_id());
  ApiToken revoked;
  ASSERT_TRUE(stub_->RevokeToken(Ctx(root).get(), revoke, &revoked).ok());
  EXPECT_NE(revoked.revoked_at_unix_ms(), 0);
  AuthenticateRequest req;
  req.set_bearer_token(t.secret_token());
  Caller who;
  EXPECT_EQ(stub_->Authenticate(Ctx("").get(), req, &who).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  std::string forged = root;
  forged.back() = forged.back() == 'a' ? 'b' : 'a';
  req.set_bearer_token(forged);
  EXPECT_EQ(stub_->Authenticate(Ctx("").get(), req, &who).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace perks
