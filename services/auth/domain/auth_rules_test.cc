#include "services/auth/domain/auth_rules.h"

#include "gtest/gtest.h"

namespace perks::auth {
namespace {

using namespace perks::v1;

Caller Make(Role role, std::string tenant = "", std::string merchant = "", std::string bank = "") {
  Caller c;
  c.set_role(role);
  c.set_tenant_id(tenant);
  c.set_merchant_id(merchant);
  c.set_bank_id(bank);
  c.set_name("someone");
  return c;
}

TEST(BearerTest, ParsesOnlyWellFormedTokens) {
  std::string id(16, 'a'), secret(64, 'f');
  auto parts = ParseBearer("pk." + id + "." + secret);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->token_id, id);
  EXPECT_EQ(ParseBearer("pk." + id).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ParseBearer("xx." + id + "." + secret).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ParseBearer("pk." + id + "." + std::string(64, 'G')).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(TokenCallerTest, EachRoleNamesItsScope) {
  EXPECT_TRUE(ValidateTokenCaller(Make(ROLE_INSTALLATION_ADMIN)).ok());
  EXPECT_TRUE(ValidateTokenCaller(Make(ROLE_UNION_ADMIN, "bozhou")).ok());
  EXPECT_FALSE(ValidateTokenCaller(Make(ROLE_UNION_ADMIN)).ok());
  EXPECT_FALSE(ValidateTokenCaller(Make(ROLE_BANK_OPERATOR, "bozhou")).ok());
  EXPECT_TRUE(ValidateTokenCaller(Make(ROLE_BANK_OPERATOR, "bozhou", "", "hsbank")).ok());
  EXPECT_FALSE(ValidateTokenCaller(Make(ROLE_MERCHANT_MANAGER, "bozhou")).ok());
  EXPECT_FALSE(ValidateTokenCaller(Make(ROLE_TERMINAL, "bozhou")).ok());
}

TEST(TokenCallerTest, UnionAdminMakesTokensOnlyForItsOwnCity) {
  Caller bozhou = Make(ROLE_UNION_ADMIN, "bozhou");
  EXPECT_TRUE(CanCreateToken(bozhou, Make(ROLE_MERCHANT_MANAGER, "bozhou", "M1")).ok());
  EXPECT_EQ(CanCreateToken(bozhou, Make(ROLE_MERCHANT_MANAGER, "anqing", "M1")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CanCreateToken(bozhou, Make(ROLE_INSTALLATION_ADMIN)).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CanCreateToken(Make(ROLE_MERCHANT_MANAGER, "bozhou", "M1"),
                           Make(ROLE_MERCHANT_MANAGER, "bozhou", "M1"))
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(CanCreateToken(Make(ROLE_INSTALLATION_ADMIN), Make(ROLE_UNION_ADMIN, "anqing")).ok());
  EXPECT_TRUE(CanAdministerTenant(bozhou, "bozhou"));
  EXPECT_FALSE(CanAdministerTenant(bozhou, "anqing"));
}

}  // namespace
}  // namespace perks::auth
