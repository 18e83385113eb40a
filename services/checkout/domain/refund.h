// What a refund gives back of a purchase's discount, and to whom.
//
// The rule: after refunds totalling R of a purchase of amount A, each funder f has been given back
// floor(share_f * R / A) of its share share_f (its part of every discount on the purchase). A
// refund returns the difference between that and what the refunds before it returned. So the
// refunds of a purchase never give a funder back more than its share, and once the whole amount
// has been refunded each funder has exactly its share back, whatever the order and sizes of the
// partial refunds were.
#ifndef PERKS_SERVICES_CHECKOUT_DOMAIN_REFUND_H_
#define PERKS_SERVICES_CHECKOUT_DOMAIN_REFUND_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "perks/v1/checkout.pb.h"

namespace perks::checkout {

struct RefundSplit {
  int64_t discount_fen = 0;  // sums funding
  std::vector<perks::v1::FundedShare>
      funding;  // one per funder of the purchase, in first-seen order
};

// Each funder's share of the purchase's discounts, in the order funders first appear.
std::vector<perks::v1::FundedShare> FunderShares(const perks::v1::Checkout& purchase);

// What refunding `amount_fen` more of `purchase` returns. INVALID_ARGUMENT for an amount that is
// not positive; FAILED_PRECONDITION for more than is left to refund (saying how much that is).
absl::StatusOr<RefundSplit> SplitRefund(const perks::v1::Checkout& purchase, int64_t amount_fen);

}  // namespace perks::checkout

#endif  // PERKS_SERVICES_CHECKOUT_DOMAIN_REFUND_H_
