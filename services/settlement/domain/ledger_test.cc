#include "services/settlement/domain/ledger.h"

#include <map>

#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "services/common/calendar.h"

namespace perks::settlement {
namespace {

using perks::v1::FundedShare;
using perks::v1::SettlementEvent;

FundedShare Share(perks::v1::Funder f, int64_t amount_fen) {
  FundedShare s;
  s.set_funder(f);
  s.set_amount_fen(amount_fen);
  return s;
}

SettlementEvent Confirmed(int64_t bank_fen, int64_t merchant_fen) {
  SettlementEvent e;
  e.set_event_id("confirm/T1:20261205:1");
  e.set_kind(perks::v1::SETTLEMENT_EVENT_CONFIRMED);
  e.set_tenant_id("bozhou");
  e.set_merchant_id("m1");
  perks::v1::Discount* d = e.add_discounts();
  d->set_amount_fen(bank_fen + merchant_fen);
  *d->add_funding() = Share(perks::v1::FUNDER_BANK, bank_fen);
  *d->add_funding() = Share(perks::v1::FUNDER_MERCHANT, merchant_fen);
  return e;
}

TEST(PostingsTest, AConfirmedDiscountMakesEachFunderOweTheMerchantItsShare) {
  auto postings = PostingsOf(Confirmed(1500, 1500));
  ASSERT_TRUE(postings.ok()) << postings.status();
  ASSERT_EQ(postings->size(), 2u);
  EXPECT_EQ((*postings)[0].debit_account(), "funder/bozhou/BANK");
  EXPECT_EQ((*postings)[0].credit_account(), "merchant/bozhou/m1/BANK");
  EXPECT_EQ((*postings)[0].amount_fen(), 1500);
  EXPECT_EQ((*postings)[1].debit_account(), "funder/bozhou/MERCHANT");
}

TEST(PostingsTest, WhatWasPaidFromABalanceIsOwedByTheBalancesFunders) {
  // A 550-yuan basket paid with a 500-yuan voucher the union funded; the merchant adds 50.
  SettlementEvent e = Confirmed(0, 5000);
  perks::v1::Discount& d = *e.mutable_discounts(0);
  d.set_balance_name("warm-heart-2026");
  d.set_from_balance_fen(50000);
  *d.add_balance_funding() = Share(perks::v1::FUNDER_UNION, 50000);
  auto postings = PostingsOf(e);
  ASSERT_TRUE(postings.ok()) << postings.status();
  ASSERT_EQ(postings->size(), 2u);
  EXPECT_EQ((*postings)[0].debit_account(), "funder/bozhou/MERCHANT");
  EXPECT_EQ((*postings)[0].amount_fen(), 5000);
  EXPECT_EQ((*postings)[1].debit_account(), "funder/bozhou/UNION");
  EXPECT_EQ((*postings)[1].credit_account(), "merchant/bozhou/m1/UNION");
  EXPECT_EQ((*postings)[1].amount_fen(), 50000);

  d.mutable_balance_funding(0)->set_amount_fen(49999);
  EXPECT_EQ(PostingsOf(e).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(PostingsOf(e).status().message().find("balance_funding"), std::string::npos);
}

TEST(PostingsTest, ARefundPostsTheSharesBack) {
  SettlementEvent e = Confirmed(0, 0);
  e.clear_discounts();
  e.set_kind(perks::v1::SETTLEMENT_EVENT_REFUNDED);
  *e.add_funding() = Share(perks::v1::FUNDER_BANK, 600);
  auto postings = PostingsOf(e);
  ASSERT_TRUE(postings.ok());
  ASSERT_EQ(postings->size(), 1u);
  EXPECT_EQ((*postings)[0].debit_account(), "merchant/bozhou/m1/BANK");
  EXPECT_EQ((*postings)[0].credit_account(), "funder/bozhou/BANK");
}

TEST(PostingsTest, SharesThatDoNotSumToTheDiscountAreRefused) {
  SettlementEvent e = Confirmed(1500, 1500);
  e.mutable_discounts(0)->set_amount_fen(3001);
  auto postings = PostingsOf(e);
  EXPECT_EQ(postings.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(postings.status().message().find("discounts[0]"), std::string::npos);
}

TEST(PostingsTest, ANegativeShareIsRefused) {
  SettlementEvent e = Confirmed(-1, 1);
  e.mutable_discounts(0)->set_amount_fen(0);
  EXPECT_EQ(PostingsOf(e).status().code(), absl::StatusCode::kInvalidArgument);
}

// Whatever the shares, the postings of an event sum to zero over all accounts.
RC_GTEST_PROP(PostingsProperty, EveryEventLeavesTheLedgerSummingToZero,
              (const std::vector<uint16_t>& shares)) {
  SettlementEvent e = Confirmed(0, 0);
  e.clear_discounts();
  for (size_t i = 0; i + 2 < shares.size(); i += 3) {
    perks::v1::Discount* d = e.add_discounts();
    *d->add_funding() = Share(perks::v1::FUNDER_BANK, shares[i]);
    *d->add_funding() = Share(perks::v1::FUNDER_UNION, shares[i + 1]);
    *d->add_funding() = Share(perks::v1::FUNDER_MERCHANT, shares[i + 2]);
    d->set_amount_fen(int64_t{shares[i]} + shares[i + 1] + shares[i + 2]);
  }
  auto postings = PostingsOf(e);
  RC_ASSERT(postings.ok());
  std::map<std::string, int64_t> balances;
  for (const auto& p : *postings) {
    RC_ASSERT(p.amount_fen() > 0);
    balances[p.debit_account()] += p.amount_fen();
    balances[p.credit_account()] -= p.amount_fen();
  }
  int64_t sum = 0;
  for (const auto& [account, b] : balances) sum += b;
  RC_ASSERT(sum == 0);
}

absl::Time Shanghai(int y, int mo, int d, int h, int mi, int s, int ms) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::FixedTimeZone(8 * 3600)) +
         absl::Milliseconds(ms);
}

TEST(BusinessDayTest, TheLastMillisecondBeforeMidnightIsInTheDayAndMidnightIsInTheNext) {
  const absl::Duration midnight = absl::Hours(24);
  EXPECT_EQ(BusinessDayOf(Shanghai(2026, 12, 5, 23, 59, 59, 999), midnight),
            absl::CivilDay(2026, 12, 5));
  EXPECT_EQ(BusinessDayOf(Shanghai(2026, 12, 6, 0, 0, 0, 0), midnight),
            absl::CivilDay(2026, 12, 6));
  EXPECT_EQ(DayEnd(absl::CivilDay(2026, 12, 5), midnight), Shanghai(2026, 12, 6, 0, 0, 0, 0));
  EXPECT_EQ(DayStart(absl::CivilDay(2026, 12, 5), midnight), Shanghai(2026, 12, 5, 0, 0, 0, 0));
}

TEST(BusinessDayTest, ACutoffAt23PutsTheLastHourInTheNextDay) {
  const absl::Duration cutoff = absl::Hours(23);
  EXPECT_EQ(BusinessDayOf(Shanghai(2026, 12, 5, 22, 59, 59, 999), cutoff),
            absl::CivilDay(2026, 12, 5));
  EXPECT_EQ(BusinessDayOf(Shanghai(2026, 12, 5, 23, 0, 0, 0), cutoff), absl::CivilDay(2026, 12, 6));
  EXPECT_EQ(DayEnd(absl::CivilDay(2026, 12, 5), cutoff), Shanghai(2026, 12, 5, 23, 0, 0, 0));
}

// Every instant is in exactly one day: the day whose [start, end) holds it.
RC_GTEST_PROP(BusinessDayProperty, EachInstantLandsInExactlyOneDay,
              (uint32_t seconds, uint16_t ms, uint8_t cutoff_hour)) {
  const absl::Duration cutoff = absl::Hours(1 + cutoff_hour % 24);
  const absl::Time t =
      absl::FromUnixSeconds(1'700'000'000 + seconds % 100'000'000) + absl::Milliseconds(ms % 1000);
  const absl::CivilDay day = BusinessDayOf(t, cutoff);
  RC_ASSERT(DayStart(day, cutoff) <= t);
  RC_ASSERT(t < DayEnd(day, cutoff));
  RC_ASSERT(DayNumber(DayOfNumber(DayNumber(day))) == DayNumber(day));
}

TEST(BusinessDayTest, CutoffsOutsideTheDayAreRefused) {
  EXPECT_TRUE(ValidateCutoff(absl::Hours(24)).ok());
  EXPECT_FALSE(ValidateCutoff(absl::ZeroDuration()).ok());
  EXPECT_FALSE(ValidateCutoff(absl::Hours(25)).ok());
}

TEST(CompactDateTest, ParsesAndFormats) {
  auto d = ParseCompactDate("20261205", "date");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(FormatCompactDate(*d), "20261205");
  EXPECT_FALSE(ParseCompactDate("20261305", "date").ok());
  EXPECT_FALSE(ParseCompactDate("2026-12-05", "date").ok());
}

}  // namespace
}  // namespace perks::settlement
