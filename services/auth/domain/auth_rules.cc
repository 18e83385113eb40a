#include "services/auth/domain/auth_rules.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace perks::auth {
namespace {

using perks::v1::Caller;

bool IsHex(std::string_view s, size_t size) {
  return s.size() == size && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

absl::Status Need(bool present, std::string_view role, std::string_view field) {
  if (present) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("a ", std::string(role), " token needs ", std::string(field)));
}

}  // namespace

std::string_view RoleName(perks::v1::Role role) {
  switch (role) {
    case perks::v1::ROLE_INSTALLATION_ADMIN:
      return "installation admin";
    case perks::v1::ROLE_UNION_ADMIN:
      return "union admin";
    case perks::v1::ROLE_BANK_OPERATOR:
      return "bank operator";
    case perks::v1::ROLE_MERCHANT_MANAGER:
      return "merchant manager";
    case perks::v1::ROLE_TERMINAL:
      return "terminal";
    case perks::v1::ROLE_SERVICE:
      return "Perks service";
    default:
      return "caller without credentials";
  }
}

absl::StatusOr<BearerParts> ParseBearer(std::string_view token) {
  std::vector<std::string> parts = absl::StrSplit(std::string(token), '.');
  if (parts.size() != 3 || parts[0] != "pk" || !IsHex(parts[1], 16) || !IsHex(parts[2], 64)) {
    return absl::UnauthenticatedError(
        "the API token is malformed; tokens look like pk.<16 hex>.<64 hex>");
  }
  return BearerParts{parts[1], parts[2]};
}

absl::Status ValidateTokenCaller(const Caller& c) {
  std::string_view role = RoleName(c.role());
  if (c.name().empty() || c.name().size() > 64) {
    return absl::InvalidArgumentError("a token needs the name of its holder (1 to 64 bytes)");
  }
  switch (c.role()) {
    case perks::v1::ROLE_INSTALLATION_ADMIN:
      return absl::OkStatus();
    case perks::v1::ROLE_UNION_ADMIN:
      return Need(!c.tenant_id().empty(), role, "a city (tenant_id)");
    case perks::v1::ROLE_BANK_OPERATOR:
      if (absl::Status s = Need(!c.tenant_id().empty(), role, "a city (tenant_id)"); !s.ok()) {
        return s;
      }
      return Need(!c.bank_id().empty(), role, "a bank (bank_id)");
    case perks::v1::ROLE_MERCHANT_MANAGER:
      if (absl::Status s = Need(!c.tenant_id().empty(), role, "a city (tenant_id)"); !s.ok()) {
        return s;
      }
      return Need(!c.merchant_id().empty(), role, "a merchant (merchant_id)");
    default:
      return absl::InvalidArgumentError(
          "role must be installation_admin, union_admin, bank_operator or merchant_manager "
          "(terminals sign their calls and hold no token)");
  }
}

absl::Status CanCreateToken(const Caller& creator, const Caller& wanted) {
  if (creator.role() == perks::v1::ROLE_INSTALLATION_ADMIN) return absl::OkStatus();
  if (creator.role() == perks::v1::ROLE_UNION_ADMIN &&
      wanted.role() != perks::v1::ROLE_INSTALLATION_ADMIN &&
      wanted.tenant_id() == creator.tenant_id()) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("a ", std::string(RoleName(creator.role())), " may not make a ",
                   std::string(RoleName(wanted.role())), " token",
                   wanted.tenant_id().empty() ? "" : absl::StrCat(" for ", wanted.tenant_id())));
}

bool CanAdministerTenant(const Caller& caller, std::string_view tenant_id) {
  return caller.role() == perks::v1::ROLE_INSTALLATION_ADMIN ||
         (caller.role() == perks::v1::ROLE_UNION_ADMIN && caller.tenant_id() == tenant_id);
}

}  // namespace perks::auth
