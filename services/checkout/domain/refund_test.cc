#include "services/checkout/domain/refund.h"

#include <map>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace perks::checkout {
namespace {

using perks::v1::Funder;

// A confirmed purchase of `amount_fen` with one discount funded by `shares` (funder, fen).
perks::v1::Checkout Purchase(int64_t amount_fen,
                             const std::vector<std::pair<Funder, int64_t>>& shares) {
  perks::v1::Checkout c;
  c.set_checkout_id("t-1:20261201:000001");
  c.set_amount_fen(amount_fen);
  perks::v1::Discount* d = c.add_discounts();
  int64_t total = 0;
  for (const auto& [funder, fen] : shares) {
    perks::v1::FundedShare* f = d->add_funding();
    f->set_funder(funder);
    f->set_amount_fen(fen);
    total += fen;
  }
  d->set_amount_fen(total);
  c.set_discount_fen(total);
  return c;
}

// Records `split` as a refund of `amount_fen` on `c`.
void Apply(perks::v1::Checkout& c, int64_t amount_fen, const RefundSplit& split) {
  perks::v1::Refund* r = c.add_refunds();
  r->set_amount_fen(amount_fen);
  r->set_discount_fen(split.discount_fen);
  for (const auto& f : split.funding) *r->add_funding() = f;
  for (const auto& b : split.to_balances) *r->add_to_balances() = b;
  for (const auto& f : split.balance_funding) *r->add_balance_funding() = f;
  c.set_refunded_fen(c.refunded_fen() + amount_fen);
  c.set_refunded_discount_fen(c.refunded_discount_fen() + split.discount_fen);
}

TEST(SplitRefundTest, HalfThePurchaseReturnsHalfOfEachShareRoundedDown) {
  // 100 yuan, 30 yuan off: the bank 20.01, the merchant 9.99.
  auto c = Purchase(10000, {{perks::v1::FUNDER_BANK, 2001}, {perks::v1::FUNDER_MERCHANT, 999}});
  auto split = SplitRefund(c, 5000);
  ASSERT_TRUE(split.ok()) << split.status();
  ASSERT_EQ(split->funding.size(), 2u);
  EXPECT_EQ(split->funding[0].amount_fen(), 1000);  // floor(2001 / 2)
  EXPECT_EQ(split->funding[1].amount_fen(), 499);   // floor(999 / 2)
  EXPECT_EQ(split->discount_fen, 1499);
  // The other half returns the rest exactly.
  Apply(c, 5000, *split);
  auto rest = SplitRefund(c, 5000);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->funding[0].amount_fen(), 1001);
  EXPECT_EQ(rest->funding[1].amount_fen(), 500);
}

TEST(SplitRefundTest, WhatWasPaidFromABalanceGoesBackToItInProportion) {
  // 550 yuan of farm produce: 500 from the voucher (the union's), 50 the merchant's top-up.
  auto c = Purchase(55000, {{perks::v1::FUNDER_MERCHANT, 5000}});
  perks::v1::Discount& d = *c.mutable_discounts(0);
  d.set_balance_name("warm-heart-2026");
  d.set_from_balance_fen(50000);
  perks::v1::FundedShare* union_share = d.add_balance_funding();
  union_share->set_funder(perks::v1::FUNDER_UNION);
  union_share->set_amount_fen(50000);
  auto split = SplitRefund(c, 11000);  // a fifth of it comes back
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(split->discount_fen, 1000);
  ASSERT_EQ(split->to_balances.size(), 1u);
  EXPECT_EQ(split->to_balances[0].balance_name(), "warm-heart-2026");
  EXPECT_EQ(split->to_balances[0].amount_fen(), 10000);
  ASSERT_EQ(split->balance_funding.size(), 1u);
  EXPECT_EQ(split->balance_funding[0].funder(), perks::v1::FUNDER_UNION);
  EXPECT_EQ(split->balance_funding[0].amount_fen(), 10000);
  Apply(c, 11000, *split);
  auto rest = SplitRefund(c, 44000);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->to_balances[0].amount_fen(), 40000);
  EXPECT_EQ(rest->balance_funding[0].amount_fen(), 40000);
}

TEST(SplitRefundTest, MoreThanIsLeftIsRefusedSayingWhatIsLeft) {
  auto c = Purchase(10000, {{perks::v1::FUNDER_BANK, 3000}});
  Apply(c, 4000, *SplitRefund(c, 4000));
  auto over = SplitRefund(c, 6001);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(over.status().message().find("60.00 yuan of 100.00"), std::string::npos)
      << over.status().message();
  EXPECT_EQ(SplitRefund(c, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitRefund(c, -5).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SplitRefundTest, APurchaseWithoutDiscountReturnsNothing) {
  auto c = Purchase(10000, {});
  auto split = SplitRefund(c, 10000);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->discount_fen, 0);
  EXPECT_TRUE(split->funding.empty());
}

TEST(SplitRefundTest, SharesOfSeveralDiscountsAddUpPerFunder) {
  auto c = Purchase(20000, {{perks::v1::FUNDER_BANK, 1000}, {perks::v1::FUNDER_MERCHANT, 500}});
  perks::v1::Discount* d = c.add_discounts();
  perks::v1::FundedShare* f = d->add_funding();
  f->set_funder(perks::v1::FUNDER_MERCHANT);
  f->set_amount_fen(700);
  auto shares = FunderShares(c);
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_EQ(shares[1].amount_fen(), 1200);
}

// Any purchase, any funding, any sequence of partial refunds: each refund's shares sum to what it
// returns, no funder ever gets back more than its share, and refunding everything returns every
// share exactly.
RC_GTEST_PROP(SplitRefundProperties, RefundsNeverReturnMoreThanWasGivenPerFunderOrBalance, ()) {
  const int64_t amount = *rc::gen::inRange<int64_t>(1, 10'000'000'000);
  const int n_funders = *rc::gen::inRange(0, 4);
  std::vector<std::pair<Funder, int64_t>> shares;
  int64_t given = 0;
  for (int i = 0; i < n_funders; ++i) {
    int64_t fen = *rc::gen::inRange<int64_t>(0, amount - given + 1);
    shares.emplace_back(static_cast<Funder>(i % 3 + 1), fen);
    given += fen;
  }
  auto c = Purchase(amount, shares);
  // Some of what is left paid from a balance, funded by the union and the bank.
  const int64_t from_balance = *rc::gen::inRange<int64_t>(0, amount - given + 1);
  const int64_t union_fen = *rc::gen::inRange<int64_t>(0, from_balance + 1);
  perks::v1::Discount& d = *c.mutable_discounts(0);
  d.set_balance_name("voucher");
  d.set_from_balance_fen(from_balance);
  for (auto [funder, fen] : {std::pair{perks::v1::FUNDER_UNION, union_fen},
                             std::pair{perks::v1::FUNDER_BANK, from_balance - union_fen}}) {
    perks::v1::FundedShare* f = d.add_balance_funding();
    f->set_funder(funder);
    f->set_amount_fen(fen);
  }
  const auto total = FunderShares(c);
  std::map<int, int64_t> back, balance_back;
  int64_t to_balance = 0;
  while (c.refunded_fen() < amount) {
    const int64_t left = amount - c.refunded_fen();
    const bool all = *rc::gen::inRange(0, 4) == 0;
    const int64_t part = all ? left : *rc::gen::inRange<int64_t>(1, left + 1);
    auto split = SplitRefund(c, part);
    RC_ASSERT(split.ok());
    int64_t sum = 0;
    for (const auto& f : split->funding) {
      RC_ASSERT(f.amount_fen() >= 0);
      sum += f.amount_fen();
      back[f.funder()] += f.amount_fen();
    }
    RC_ASSERT(sum == split->discount_fen);
    for (const auto& t : total) RC_ASSERT(back[t.funder()] <= t.amount_fen());
    for (const auto& b : split->to_balances) to_balance += b.amount_fen();
    for (const auto& f : split->balance_funding) {
      RC_ASSERT(f.amount_fen() >= 0);
      balance_back[f.funder()] += f.amount_fen();
    }
    RC_ASSERT(to_balance <= from_balance);
    RC_ASSERT(balance_back[perks::v1::FUNDER_UNION] <= union_fen);
    Apply(c, part, *split);
  }
  for (const auto& t : total) RC_ASSERT(back[t.funder()] == t.amount_fen());
  RC_ASSERT(to_balance == from_balance);
  RC_ASSERT(balance_back[perks::v1::FUNDER_UNION] == union_fen);
  RC_ASSERT(balance_back[perks::v1::FUNDER_BANK] == from_balance - union_fen);
  RC_ASSERT(!SplitRefund(c, 1).ok());
}

}  // namespace
}  // namespace perks::checkout
