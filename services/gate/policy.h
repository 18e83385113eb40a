// The policy: for every method of every service, the roles that may call it. One table, in
// policy.cc; a method missing from it is refused to everyone, and a test checks none is missing.
//
// A role admits a caller to a method; the caller's scope (its city, bank, merchant or store) then
// limits what the method shows and changes. The scope rules are here too, so every service reads
// them the same way.
#ifndef PERKS_SERVICES_GATE_POLICY_H_
#define PERKS_SERVICES_GATE_POLICY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "perks/v1/auth.pb.h"

namespace perks {

using RoleSet = uint32_t;
constexpr RoleSet RoleBit(perks::v1::Role role) { return RoleSet{1} << static_cast<int>(role); }
// The method needs no credentials (its request is itself the credential).
inline constexpr RoleSet kNoCredentials = RoleSet{1} << 31;

class Policy {
 public:
  // full_method: "/perks.v1.CardService/LookupCard". Zero when no rule names it.
  RoleSet RolesFor(std::string_view full_method) const;
  // Methods of `service` that no rule names.
  std::vector<std::string> Uncovered(const google::protobuf::ServiceDescriptor& service) const;
  // Rules that name no method of any of `services` (a rule left behind by a rename).
  std::vector<std::string> Stale(
      const std::vector<const google::protobuf::ServiceDescriptor*>& services) const;

  absl::flat_hash_map<std::string, RoleSet> rules;
};

// The product's policy.
const Policy& ThePolicy();

// Whether the caller's scope includes `tenant_id`. Installation admins and services see every city.
bool SeesTenant(const perks::v1::Caller& caller, std::string_view tenant_id);

// The city a call acts in: `requested` when the caller may act there, the caller's own city when
// `requested` is empty. Empty only for a caller of every city who named none. PERMISSION_DENIED for
// another city.
absl::StatusOr<std::string> TenantFor(const perks::v1::Caller& caller, std::string_view requested);

// Whether the caller acts for one merchant only (a merchant manager or a terminal).
bool BoundToMerchant(const perks::v1::Caller& caller);

}  // namespace perks

#endif  // PERKS_SERVICES_GATE_POLICY_H_
