// Who pays each fen of a discount.
#ifndef PERKS_SERVICES_PROMOTION_DOMAIN_FUNDING_H_
#define PERKS_SERVICES_PROMOTION_DOMAIN_FUNDING_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_field.h"
#include "perks/v1/promotion.pb.h"

namespace perks::promotion {

using Shares = google::protobuf::RepeatedPtrField<perks::v1::FundingShare>;

// A campaign's funding must name each funder once, have at least one share in basis points, and
// its basis-point shares must sum to exactly 10000. Errors name `field`.
absl::Status ValidateFunding(const Shares& shares, absl::string_view field = "funding");

// Splits `discount_fen` among `shares`, exactly:
//  1. fixed shares first, in the order written, each taking at most what is left;
//  2. then each basis-point share takes floor(rest * share_bp / 10000) of the rest after step 1;
//  3. the fen that rounding leaves go to the last basis-point share written.
// REQUIRES: ValidateFunding(shares).ok(), discount_fen >= 0.
// GUARANTEES: one entry per share, in the order written; the amounts are >= 0 and sum to
// discount_fen.
std::vector<perks::v1::FundedShare> SplitDiscount(int64_t discount_fen, const Shares& shares);

}  // namespace perks::promotion

#endif  // PERKS_SERVICES_PROMOTION_DOMAIN_FUNDING_H_
