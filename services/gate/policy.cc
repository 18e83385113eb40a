#include "services/gate/policy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace perks {
namespace {

using perks::v1::Caller;
constexpr RoleSet kInstallation = RoleBit(perks::v1::ROLE_INSTALLATION_ADMIN);
constexpr RoleSet kUnion = RoleBit(perks::v1::ROLE_UNION_ADMIN);
constexpr RoleSet kBank = RoleBit(perks::v1::ROLE_BANK_OPERATOR);
constexpr RoleSet kManager = RoleBit(perks::v1::ROLE_MERCHANT_MANAGER);
constexpr RoleSet kTerminal = RoleBit(perks::v1::ROLE_TERMINAL);
constexpr RoleSet kService = RoleBit(perks::v1::ROLE_SERVICE);
constexpr RoleSet kAdmins = kInstallation | kUnion;

Policy MakePolicy() {
  Policy p;
  auto allow = [&p](std::string_view service, std::initializer_list<std::string_view> methods,
                    RoleSet roles) {
    for (auto m : methods) {
      p.rules[absl::StrCat("/perks.v1.", std::string(service), "/", std::string(m))] = roles;
    }
  };
  // Tokens: admins make and revoke them (CanCreateToken narrows whom for); anyone holding a token
  // may ask whom it stands for.
  allow("AuthService", {"CreateToken", "RevokeToken", "ListTokens"}, kAdmins);
  allow("AuthService", {"Authenticate"}, kNoCredentials);

  // Cards: a city's admins run its programs; its bank reads cards for reconciliation; its
  // terminals look cards up at the till; services move balances for checkouts.
  allow("CardService",
        {"CreateProgram", "ImportMembers", "GetMember", "IssueCards", "ExportCards",
         "ChangeCardState", "ReplaceCard"},
        kAdmins);
  allow("CardService", {"ListPrograms"}, kAdmins | kBank | kTerminal | kService);
  allow("CardService", {"LookupCard"}, kAdmins | kBank | kTerminal | kService);
  allow("CardService", {"CreditBalance", "DebitBalance"}, kAdmins | kService);
  allow("CardService", {"ListCardHistory"}, kAdmins | kBank);

  // Merchants: a merchant (its manager) applies and runs its own stores and tills; the city's
  // admins review and oversee; the bank reads merchants to settle with them.
  allow("MerchantService", {"SubmitApplication"}, kAdmins | kManager);
  allow("MerchantService",
        {"GetApplication", "ListApplications", "ReviewApplication", "ImportMerchants",
         "ChangeMerchantState"},
        kAdmins);
  allow("MerchantService", {"GetMerchant"}, kAdmins | kBank | kManager | kTerminal | kService);
  allow("MerchantService", {"ListMerchants"}, kAdmins | kBank | kService);
  allow("MerchantService",
        {"AddStore", "RegisterTerminal", "RotateTerminalSecret", "RevokeTerminal", "ListTerminals"},
        kAdmins | kManager);
  allow("MerchantService", {"GetTerminalKeys"}, kService);

  // Promotions: a city's admins write and run its campaigns; its bank reads them (it funds
  // them); tills and services ask what a basket gets.
  allow("PromotionService", {"ApplyCampaign", "PublishCampaign", "SetCampaignState"}, kAdmins);
  allow("PromotionService",
        {"PreviewCampaign", "GetCampaign", "ListCampaigns", "GetCampaignVersion", "GetBudgets"},
        kAdmins | kBank);
  allow("PromotionService", {"Evaluate"}, kAdmins | kTerminal | kService);
  // Holding limits and budgets is a checkout's: the checkout service's, or a till's own.
  allow("PromotionService", {"Reserve", "Commit", "Release"}, kTerminal | kService);
  allow("PromotionService", {"GetReservation"}, kAdmins | kBank | kTerminal | kService);
  // Grants: an admin issuing (vouchers, payouts), or the card service on activation.
  allow("PromotionService", {"Grant"}, kAdmins | kService);
  // Checkouts: a till quotes, authorizes, confirms, reverses and refunds its own; its merchant,
  // the city's admins and its bank look them up.
  allow("CheckoutService", {"Quote", "Authorize", "Confirm", "Reverse", "Refund"}, kTerminal);
  allow("CheckoutService", {"GetCheckout"}, kAdmins | kBank | kManager | kTerminal);
  // Settlement: the checkout service posts; a city's admins and its bank close days, read and
  // reconcile statements and record payouts (a bank's operators for the bank's share only); a
  // merchant reads its own statements, payables and payouts.
  allow("SettlementService", {"Post"}, kService);
  allow("SettlementService",
        {"GetBalances", "CheckLedger", "CloseDay", "GetDay", "ImportBankFile", "GetReconciliation",
         "ResolveDifference", "RecordPayout"},
        kAdmins | kBank);
  allow("SettlementService", {"GetStatement", "GetPayables", "ListPayouts"},
        kAdmins | kBank | kManager);
  // Each service's audit log: a city's admins read their city's.
  for (auto service :
       {"AuthService", "CardService", "MerchantService", "PromotionService", "SettlementService"}) {
    allow(service, {"ListAudit"}, kAdmins);
  }

  // The installation itself.
  allow("AdminService", {"Backup"}, kInstallation);
  return p;
}

}  // namespace

RoleSet Policy::RolesFor(std::string_view full_method) const {
  auto it = rules.find(std::string(full_method));
  return it == rules.end() ? 0 : it->second;
}

std::vector<std::string> Policy::Uncovered(
    const google::protobuf::ServiceDescriptor& service) const {
  std::vector<std::string> out;
  for (int i = 0; i < service.method_count(); ++i) {
    std::string full = absl::StrCat("/", service.full_name(), "/", service.method(i)->name());
    if (!rules.contains(full)) out.push_back(full);
  }
  return out;
}

std::vector<std::string> Policy::Stale(
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) const {
  std::vector<std::string> out;
  for (const auto& [full, roles] : rules) {
    std::vector<std::string> parts = absl::StrSplit(full, '/');
    bool found = false;
    for (const auto* s : services) {
      if (parts.size() == 3 && parts[1] == s->full_name() && s->FindMethodByName(parts[2])) {
        found = true;
      }
    }
    if (!found) out.push_back(full);
  }
  return out;
}

const Policy& ThePolicy() {
  static const Policy* policy = new Policy(MakePolicy());
  return *policy;
}

bool SeesTenant(const Caller& caller, std::string_view tenant_id) {
  switch (caller.role()) {
    case perks::v1::ROLE_INSTALLATION_ADMIN:
    case perks::v1::ROLE_SERVICE:
      return true;
    case perks::v1::ROLE_UNSPECIFIED:
      return false;
    default:
      return !caller.tenant_id().empty() && caller.tenant_id() == tenant_id;
  }
}

absl::StatusOr<std::string> TenantFor(const Caller& caller, std::string_view requested) {
  if (requested.empty()) return caller.tenant_id();
  if (SeesTenant(caller, requested)) return std::string(requested);
  return absl::PermissionDeniedError(absl::StrCat(
      "your token is for ", caller.tenant_id().empty() ? "no city" : caller.tenant_id(), ", not ",
      std::string(requested), "; ask that city's union admin"));
}

bool BoundToMerchant(const Caller& caller) {
  return caller.role() == perks::v1::ROLE_MERCHANT_MANAGER ||
         caller.role() == perks::v1::ROLE_TERMINAL;
}

}  // namespace perks
