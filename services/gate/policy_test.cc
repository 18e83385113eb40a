#include "services/gate/policy.h"

#include "gtest/gtest.h"
#include "perks/v1/admin.pb.h"
#include "perks/v1/auth.pb.h"
#include "perks/v1/card.pb.h"
#include "perks/v1/checkout.pb.h"
#include "perks/v1/merchant.pb.h"
#include "perks/v1/promotion.pb.h"
#include "perks/v1/settlement.pb.h"

namespace perks {
namespace {

using perks::v1::Caller;

std::vector<const google::protobuf::ServiceDescriptor*> AllServices() {
  return {perks::v1::Caller::descriptor()->file()->FindServiceByName("AuthService"),
          perks::v1::Program::descriptor()->file()->FindServiceByName("CardService"),
          perks::v1::Merchant::descriptor()->file()->FindServiceByName("MerchantService"),
          perks::v1::BackupRequest::descriptor()->file()->FindServiceByName("AdminService"),
          perks::v1::Campaign::descriptor()->file()->FindServiceByName("PromotionService"),
          perks::v1::Checkout::descriptor()->file()->FindServiceByName("CheckoutService"),
          perks::v1::BusinessDay::descriptor()->file()->FindServiceByName("SettlementService")};
}

TEST(PolicyTest, EveryMethodOfEveryServiceHasARule) {
  for (const auto* service : AllServices()) {
    ASSERT_NE(service, nullptr);
    EXPECT_TRUE(ThePolicy().Uncovered(*service).empty())
        << service->full_name()
        << " has methods nobody may call: " << ThePolicy().Uncovered(*service).front();
  }
}

TEST(PolicyTest, NoRuleNamesAMethodThatDoesNotExist) {
  std::vector<std::string> stale = ThePolicy().Stale(AllServices());
  EXPECT_TRUE(stale.empty()) << stale.front();
}

TEST(PolicyTest, OnlyTheTokenCheckItselfNeedsNoCredentials) {
  for (const auto& [method, roles] : ThePolicy().rules) {
    EXPECT_EQ((roles & kNoCredentials) != 0, method == "/perks.v1.AuthService/Authenticate")
        << method;
  }
}

TEST(PolicyTest, TerminalsLookCardsUpButNeverChangeThemOrReadKeys) {
  RoleSet terminal = RoleBit(perks::v1::ROLE_TERMINAL);
  const Policy& p = ThePolicy();
  EXPECT_TRUE(p.RolesFor("/perks.v1.CardService/LookupCard") & terminal);
  EXPECT_FALSE(p.RolesFor("/perks.v1.CardService/CreditBalance") & terminal);
  EXPECT_FALSE(p.RolesFor("/perks.v1.CardService/ChangeCardState") & terminal);
  EXPECT_FALSE(p.RolesFor("/perks.v1.MerchantService/GetTerminalKeys") & terminal);
  EXPECT_FALSE(p.RolesFor("/perks.v1.MerchantService/RegisterTerminal") & terminal);
}

TEST(PolicyTest, MerchantManagersApplyButNeverReview) {
  RoleSet manager = RoleBit(perks::v1::ROLE_MERCHANT_MANAGER);
  EXPECT_TRUE(ThePolicy().RolesFor("/perks.v1.MerchantService/SubmitApplication") & manager);
  EXPECT_FALSE(ThePolicy().RolesFor("/perks.v1.MerchantService/ReviewApplication") & manager);
}

TEST(PolicyTest, AnUnknownMethodAdmitsNobody) {
  EXPECT_EQ(ThePolicy().RolesFor("/perks.v1.CardService/DropEverything"), 0u);
}

Caller Of(perks::v1::Role role, const std::string& tenant) {
  Caller c;
  c.set_role(role);
  c.set_tenant_id(tenant);
  return c;
}

TEST(ScopeTest, ACityAdminSeesItsOwnCityOnly) {
  Caller bozhou = Of(perks::v1::ROLE_UNION_ADMIN, "bozhou");
  EXPECT_TRUE(SeesTenant(bozhou, "bozhou"));
  EXPECT_FALSE(SeesTenant(bozhou, "anqing"));
  EXPECT_FALSE(SeesTenant(bozhou, ""));
  EXPECT_EQ(*TenantFor(bozhou, ""), "bozhou");
  EXPECT_EQ(*TenantFor(bozhou, "bozhou"), "bozhou");
  auto other = TenantFor(bozhou, "anqing");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(other.status().message().find("bozhou, not anqing"), std::string::npos);
}

TEST(ScopeTest, InstallationAdminsAndServicesSeeEveryCity) {
  for (auto role : {perks::v1::ROLE_INSTALLATION_ADMIN, perks::v1::ROLE_SERVICE}) {
    Caller c = Of(role, "");
    EXPECT_TRUE(SeesTenant(c, "bozhou"));
    EXPECT_EQ(*TenantFor(c, "anqing"), "anqing");
    EXPECT_EQ(*TenantFor(c, ""), "");
  }
}

TEST(ScopeTest, NobodyWithoutARoleSeesAnything) {
  EXPECT_FALSE(SeesTenant(Caller(), ""));
  EXPECT_FALSE(SeesTenant(Caller(), "bozhou"));
}

TEST(ScopeTest, ManagersAndTerminalsAreBoundToOneMerchant) {
  EXPECT_TRUE(BoundToMerchant(Of(perks::v1::ROLE_MERCHANT_MANAGER, "jieshou")));
  EXPECT_TRUE(BoundToMerchant(Of(perks::v1::ROLE_TERMINAL, "jieshou")));
  EXPECT_FALSE(BoundToMerchant(Of(perks::v1::ROLE_UNION_ADMIN, "jieshou")));
  EXPECT_FALSE(BoundToMerchant(Of(perks::v1::ROLE_BANK_OPERATOR, "jieshou")));
}

}  // namespace
}  // namespace perks
