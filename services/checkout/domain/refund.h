// What a refund gives back of a purchase's discount and of what it paid from card balances, and
// to whom.
//
// The rule: after refunds totalling R of a purchase of amount A, each funder f has been given back
// floor(share_f * R / A) of its share share_f (its part of every discount on the purchase). A
// refund returns the difference between that and what the refunds before it returned. So the
// refunds of a purchase never give a funder back more than its share, and once the whole amount
// has been refunded each funder has exactly its share back, whatever the order and sizes of the
// partial refunds were.
//
// What the purchase paid from the card's balances goes back by the same rule, per balance to the
// card and per funder of those balances from the merchant (the funder's share of what was paid
// from them). The two are rounded apart, so during partial refunds they may differ by a fen per
// funder; once all is refunded both are exactly what was paid.
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
  // One per balance the purchase paid from, in first-seen order, and one per funder of those.
  std::vector<perks::v1::BalanceAmount> to_balances;
  std::vector<perks::v1::FundedShare> balance_funding;
};

// Each funder's share of the purchase's discounts, in the order funders first appear.
std::vector<perks::v1::FundedShare> FunderShares(const perks::v1::Checkout& purchase);
// What `discounts` pay from each of the card's balances, in the order they first appear.
std::vector<perks::v1::BalanceAmount> BalancesPaid(
    const google::protobuf::RepeatedPtrField<perks::v1::Discount>& discounts);

// What refunding `amount_fen` more of `purchase` returns. INVALID_ARGUMENT for an amount that is
// not positive; FAILED_PRECONDITION for more than is left to refund (saying how much that is).
absl::StatusOr<RefundSplit> SplitRefund(const perks::v1::Checkout& purchase, int64_t amount_fen);

}  // namespace perks::checkout

#endif  // PERKS_SERVICES_CHECKOUT_DOMAIN_REFUND_H_
