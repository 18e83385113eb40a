// The merchant service's rules: what a valid profile, credit code, review decision, merchant state
// change and terminal secret are. Pure functions: no gRPC, no RocksDB, no clock reads.
#ifndef PERKS_SERVICES_MERCHANT_DOMAIN_MERCHANT_RULES_H_
#define PERKS_SERVICES_MERCHANT_DOMAIN_MERCHANT_RULES_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "perks/v1/merchant.pb.h"

namespace perks::merchant {

inline constexpr size_t kImportRowsMax = 500;
inline constexpr int32_t kPageSizeMax = 500;
inline constexpr int64_t kRotationGraceSecondsMax = 86'400;
inline constexpr int64_t kRotationGraceSecondsDefault = 600;

// GB 32100-2015: 18 characters from 0-9 and A-Y without I, O, S, V, Z; the last is a check
// character over the first 17. The message says what is wrong without echoing the code.
absl::Status ValidateCreditCode(std::string_view code);
// The check character for the first 17 characters. REQUIRES: all from the code's alphabet.
char CreditCodeCheckCharacter(std::string_view first17);

// Checks and normalizes a profile (trims, upper-cases the credit code, lower-cases ids).
absl::StatusOr<perks::v1::MerchantProfile> NormalizeProfile(const perks::v1::MerchantProfile& p);

// The same profile as answers show it: phone and account number masked.
perks::v1::MerchantProfile MaskedProfile(const perks::v1::MerchantProfile& p);

// Where a decision takes an application in `from`, or FAILED_PRECONDITION saying why it cannot.
absl::StatusOr<perks::v1::ApplicationState> Decide(perks::v1::ApplicationState from,
                                                   perks::v1::ReviewDecision decision,
                                                   std::string_view reason);
// Whether an application in `from` may be submitted again (after changes asked, or a rejection).
absl::Status CanResubmit(perks::v1::ApplicationState from);

absl::StatusOr<perks::v1::MerchantState> NextMerchantState(perks::v1::MerchantState from,
                                                           perks::v1::MerchantAction action);

std::string_view ApplicationStateName(perks::v1::ApplicationState s);
std::string_view MerchantStateName(perks::v1::MerchantState s);

}  // namespace perks::merchant

#endif  // PERKS_SERVICES_MERCHANT_DOMAIN_MERCHANT_RULES_H_
