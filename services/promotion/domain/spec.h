// A campaign's spec as admins write it: what makes one valid, and its content hash.
#ifndef PERKS_SERVICES_PROMOTION_DOMAIN_SPEC_H_
#define PERKS_SERVICES_PROMOTION_DOMAIN_SPEC_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/timestamp.pb.h"
#include "perks/v1/promotion.pb.h"

namespace perks::promotion {

// OK, or INVALID_ARGUMENT naming the first field that is wrong and what it should be.
absl::Status ValidateSpec(const perks::v1::CampaignSpec& spec);

// Hex SHA-256 of the spec's deterministic encoding: equal specs, equal hashes.
std::string SpecSha256(const perks::v1::CampaignSpec& spec);

// When the campaign starts (0 if no start is given) and ends (exclusive; INT64_MAX if open-ended),
// in Unix milliseconds.
int64_t StartsAtMs(const perks::v1::CampaignSpec& spec);
int64_t EndsAtMs(const perks::v1::CampaignSpec& spec);

// Unix milliseconds as a Timestamp, for specs built in code.
google::protobuf::Timestamp TimestampFromMs(int64_t unix_ms);

// "20% off, at most 30.00 yuan" and the like, for admins and receipts.
std::string DescribeRule(const perks::v1::CampaignSpec& spec);

}  // namespace perks::promotion

#endif  // PERKS_SERVICES_PROMOTION_DOMAIN_SPEC_H_
