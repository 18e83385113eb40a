// The rules of who may do what, in one place: token shapes, what each role's scope must name, and
// which caller may make which token. Pure functions.
#ifndef PERKS_SERVICES_AUTH_DOMAIN_AUTH_RULES_H_
#define PERKS_SERVICES_AUTH_DOMAIN_AUTH_RULES_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "perks/v1/auth.pb.h"

namespace perks::auth {

struct BearerParts {
  std::string token_id;
  std::string secret;
};

// "pk.<16 hex>.<64 hex>" → its parts; UNAUTHENTICATED for anything else.
absl::StatusOr<BearerParts> ParseBearer(std::string_view token);

// A token's caller names what its role needs: a union admin a tenant, a bank operator a tenant and
// a bank, a merchant manager a tenant and a merchant; an installation admin nothing.
absl::Status ValidateTokenCaller(const perks::v1::Caller& c);

// Whether `creator` may make a token for `wanted`: an installation admin any; a union admin a
// union admin, bank operator or merchant manager of its own tenant; nobody else.
absl::Status CanCreateToken(const perks::v1::Caller& creator, const perks::v1::Caller& wanted);

// Whether `caller` may see or change things of `tenant_id`.
bool CanAdministerTenant(const perks::v1::Caller& caller, std::string_view tenant_id);

std::string_view RoleName(perks::v1::Role role);

}  // namespace perks::auth

#endif  // PERKS_SERVICES_AUTH_DOMAIN_AUTH_RULES_H_
