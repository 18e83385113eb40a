#include "services/checkout/domain/refund.h"

#include "absl/strings/str_cat.h"
#include "services/common/money.h"

namespace perks::checkout {
namespace {

using perks::v1::FundedShare;

// The entry for `funder` in `shares`, added (at zero) when missing.
FundedShare& Entry(std::vector<FundedShare>& shares, perks::v1::Funder funder) {
  for (FundedShare& s : shares) {
    if (s.funder() == funder) return s;
  }
  FundedShare& s = shares.emplace_back();
  s.set_funder(funder);
  return s;
}

}  // namespace

std::vector<FundedShare> FunderShares(const perks::v1::Checkout& purchase) {
  std::vector<FundedShare> shares;
  for (const perks::v1::Discount& d : purchase.discounts()) {
    for (const FundedShare& f : d.funding()) {
      FundedShare& e = Entry(shares, f.funder());
      e.set_amount_fen(e.amount_fen() + f.amount_fen());
    }
  }
  return shares;
}

absl::StatusOr<RefundSplit> SplitRefund(const perks::v1::Checkout& purchase, int64_t amount_fen) {
  if (amount_fen <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("amount_fen must be at least 1 (fen); this refund says ", amount_fen));
  }
  const int64_t left = purchase.amount_fen() - purchase.refunded_fen();
  if (amount_fen > left) {
    return absl::FailedPreconditionError(
        absl::StrCat("this refund of ", FormatYuan(amount_fen),
                     " yuan is more than is left to refund of ", purchase.checkout_id(), ": ",
                     FormatYuan(left), " yuan of ", FormatYuan(purchase.amount_fen())));
  }
  // What earlier refunds gave back, per funder.
  std::vector<FundedShare> before;
  for (const perks::v1::Refund& r : purchase.refunds()) {
    for (const FundedShare& f : r.funding()) {
      FundedShare& e = Entry(before, f.funder());
      e.set_amount_fen(e.amount_fen() + f.amount_fen());
    }
  }
  const __int128 refunded_after = purchase.refunded_fen() + amount_fen;
  RefundSplit out;
  for (const FundedShare& share : FunderShares(purchase)) {
    // floor(share * R / A): amounts are below 2^34, so the product fits in 128 bits.
    const int64_t due =
        static_cast<int64_t>(share.amount_fen() * refunded_after / purchase.amount_fen());
    const int64_t back = due - Entry(before, share.funder()).amount_fen();
    FundedShare& f = out.funding.emplace_back();
    f.set_funder(share.funder());
    f.set_amount_fen(back);
    out.discount_fen += back;
  }
  return out;
}

}  // namespace perks::checkout
