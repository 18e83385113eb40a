// A campaign's spec as admins write it: what makes one valid, and its content hash.
#ifndef PERKS_SERVICES_PROMOTION_DOMAIN_SPEC_H_
#define PERKS_SERVICES_PROMOTION_DOMAIN_SPEC_H_

#include <string>

#include "absl/status/status.h"
#include "perks/v1/promotion.pb.h"

namespace perks::promotion {

// OK, or INVALID_ARGUMENT naming the first field that is wrong and what it should be.
absl::Status ValidateSpec(const perks::v1::CampaignSpec& spec);

// Hex SHA-256 of the spec's deterministic encoding: equal specs, equal hashes.
std::string SpecSha256(const perks::v1::CampaignSpec& spec);

// "20% off, at most 30.00 yuan" and the like, for admins and receipts.
std::string DescribeRule(const perks::v1::CampaignSpec& spec);

}  // namespace perks::promotion

#endif  // PERKS_SERVICES_PROMOTION_DOMAIN_SPEC_H_
