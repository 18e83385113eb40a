#include "services/checkout/domain/refund.h"

#include "absl/strings/str_cat.h"
#include "services/common/money.h"

namespace perks::checkout {
namespace {

using perks::v1::BalanceAmount;
using perks::v1::FundedShare;

bool SameKey(const FundedShare& a, const FundedShare& b) { return a.funder() == b.funder(); }
bool SameKey(const BalanceAmount& a, const BalanceAmount& b) {
  return a.balance_name() == b.balance_name();
}
void SetKey(FundedShare& s, const FundedShare& like) { s.set_funder(like.funder()); }
void SetKey(BalanceAmount& b, const BalanceAmount& like) {
  b.set_balance_name(like.balance_name());
}

// The entry with `like`'s key in `items`, added (at zero) when missing.
template <typename T>
T& Entry(std::vector<T>& items, const T& like) {
  for (T& item : items) {
    if (SameKey(item, like)) return item;
  }
  T& item = items.emplace_back();
  SetKey(item, like);
  return item;
}

template <typename T>
void Add(std::vector<T>& into, const T& item) {
  T& e = Entry(into, item);
  e.set_amount_fen(e.amount_fen() + item.amount_fen());
}

// Of each of `totals`, what is due after `refunded_after` of `amount_fen` is refunded, less what
// was given back `before`: floor(total * R / A) - before.
template <typename T>
std::vector<T> Due(const std::vector<T>& totals, std::vector<T> before, int64_t refunded_after,
                   int64_t amount_fen) {
  std::vector<T> out;
  for (const T& total : totals) {
    // Amounts are below 2^34, so the product fits in 128 bits.
    const int64_t due =
        static_cast<int64_t>(__int128{total.amount_fen()} * refunded_after / amount_fen);
    T& back = out.emplace_back();
    SetKey(back, total);
    back.set_amount_fen(due - Entry(before, total).amount_fen());
  }
  return out;
}

}  // namespace

std::vector<FundedShare> FunderShares(const perks::v1::Checkout& purchase) {
  std::vector<FundedShare> shares;
  for (const perks::v1::Discount& d : purchase.discounts()) {
    for (const FundedShare& f : d.funding()) Add(shares, f);
  }
  return shares;
}

std::vector<BalanceAmount> BalancesPaid(
    const google::protobuf::RepeatedPtrField<perks::v1::Discount>& discounts) {
  std::vector<BalanceAmount> paid;
  for (const perks::v1::Discount& d : discounts) {
    if (d.from_balance_fen() <= 0) continue;
    BalanceAmount b;
    b.set_balance_name(d.balance_name());
    b.set_amount_fen(d.from_balance_fen());
    Add(paid, b);
  }
  return paid;
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
  // What earlier refunds gave back.
  std::vector<FundedShare> funding_before, balance_funding_before;
  std::vector<BalanceAmount> balances_before;
  for (const perks::v1::Refund& r : purchase.refunds()) {
    for (const FundedShare& f : r.funding()) Add(funding_before, f);
    for (const FundedShare& f : r.balance_funding()) Add(balance_funding_before, f);
    for (const BalanceAmount& b : r.to_balances()) Add(balances_before, b);
  }
  std::vector<FundedShare> balance_funders;
  for (const perks::v1::Discount& d : purchase.discounts()) {
    for (const FundedShare& f : d.balance_funding()) Add(balance_funders, f);
  }
  const int64_t refunded_after = purchase.refunded_fen() + amount_fen;
  const int64_t a = purchase.amount_fen();
  RefundSplit out;
  out.funding = Due(FunderShares(purchase), std::move(funding_before), refunded_after, a);
  for (const FundedShare& f : out.funding) out.discount_fen += f.amount_fen();
  out.to_balances =
      Due(BalancesPaid(purchase.discounts()), std::move(balances_before), refunded_after, a);
  out.balance_funding = Due(balance_funders, std::move(balance_funding_before), refunded_after, a);
  return out;
}

}  // namespace perks::checkout
