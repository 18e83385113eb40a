#include "services/settlement/domain/statement.h"

#include "gtest/gtest.h"

namespace perks::settlement {
namespace {

perks::storage::v1::LedgerEntry Entry() {
  perks::storage::v1::LedgerEntry entry;
  perks::v1::SettlementEvent& e = *entry.mutable_event();
  e.set_event_id("confirm/T1:20261205:100001");
  e.set_kind(perks::v1::SETTLEMENT_EVENT_CONFIRMED);
  e.set_tenant_id("bozhou");
  e.set_merchant_id("m1");
  e.set_store_id("s1");
  e.set_terminal_id("T1");
  e.set_checkout_id("T1:20261205:100001");
  e.set_card_number_masked("623668*********0123");
  e.set_occurred_at_unix_ms(1'764'900'000'000);
  e.set_amount_fen(10000);
  perks::v1::Discount* d = e.add_discounts();
  d->set_campaign_id("bozhou-supermarket");
  d->set_version(2);
  d->set_amount_fen(3000);
  for (auto [f, fen] :
       {std::pair{perks::v1::FUNDER_MERCHANT, 1500}, std::pair{perks::v1::FUNDER_BANK, 1000},
        std::pair{perks::v1::FUNDER_BANK, 500}}) {
    perks::v1::FundedShare* s = d->add_funding();
    s->set_funder(f);
    s->set_amount_fen(fen);
  }
  return entry;
}

TEST(StatementTest, OneLinePerFunderPerDiscountInFunderOrder) {
  auto lines = LinesOf(Entry());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].funder, perks::v1::FUNDER_BANK);
  EXPECT_EQ(lines[0].share_fen, 1500);  // the bank's two shares, one line
  EXPECT_EQ(lines[0].reference, "confirm/T1:20261205:100001#1");
  EXPECT_EQ(lines[0].csv,
            "D,confirm/T1:20261205:100001#1,CONFIRMED,T1:20261205:100001,2025-12-05 10:00:00,m1,"
            "s1,T1,623668*********0123,bozhou-supermarket,2,BANK,10000,1500\n");
  EXPECT_EQ(lines[1].funder, perks::v1::FUNDER_MERCHANT);
}

TEST(StatementTest, AFundersShareOfABalancePaidFromIsOnItsLineOfTheDiscount) {
  perks::storage::v1::LedgerEntry entry = Entry();
  perks::v1::Discount& d = *entry.mutable_event()->mutable_discounts(0);
  d.set_from_balance_fen(20000);
  for (auto [f, fen] :
       {std::pair{perks::v1::FUNDER_UNION, 12000}, std::pair{perks::v1::FUNDER_BANK, 8000}}) {
    perks::v1::FundedShare* s = d.add_balance_funding();
    s->set_funder(f);
    s->set_amount_fen(fen);
  }
  auto lines = LinesOf(entry);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].funder, perks::v1::FUNDER_BANK);
  EXPECT_EQ(lines[0].share_fen, 9500);  // 1500 of the discount, 8000 of the balance
  EXPECT_EQ(lines[1].funder, perks::v1::FUNDER_UNION);
  EXPECT_EQ(lines[1].share_fen, 12000);
  EXPECT_EQ(lines[2].funder, perks::v1::FUNDER_MERCHANT);
  EXPECT_EQ(lines[2].share_fen, 1500);
}

TEST(StatementTest, ARefundIsNegative) {
  perks::storage::v1::LedgerEntry entry = Entry();
  perks::v1::SettlementEvent& e = *entry.mutable_event();
  e.set_kind(perks::v1::SETTLEMENT_EVENT_REFUNDED);
  e.set_event_id("refund/T1:20261205:100002");
  e.set_amount_fen(4000);
  e.clear_discounts();
  perks::v1::FundedShare* s = e.add_funding();
  s->set_funder(perks::v1::FUNDER_BANK);
  s->set_amount_fen(600);
  auto lines = LinesOf(entry);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].share_fen, -600);
  EXPECT_NE(lines[0].csv.find(",REFUNDED,"), std::string::npos);
  EXPECT_NE(lines[0].csv.find(",BANK,-4000,-600\n"), std::string::npos);
}

TEST(StatementTest, TheTallyCountsSumsAndHashesTheLines) {
  StatementTally tally;
  for (const auto& line : LinesOf(Entry())) tally.Add(line);
  perks::v1::StatementSummary s = tally.Summary();
  EXPECT_EQ(s.lines(), 2);
  EXPECT_EQ(s.total_fen(), 3000);
  std::string all;
  for (const auto& line : LinesOf(Entry())) all += line.csv;
  EXPECT_EQ(s.sha256(), HexEncode(Sha256(all)));
  EXPECT_EQ(StatementTrailer(s), "T,2,3000," + s.sha256() + "\n");
}

TEST(StatementTest, TheTimeIsShanghaiCivilTimeToTheSecond) {
  perks::storage::v1::LedgerEntry entry = Entry();
  // 2026-12-31 23:59:59.999 in Shanghai is 15:59:59.999 UTC; the milliseconds are dropped.
  entry.mutable_event()->set_occurred_at_unix_ms(1'798'732'799'999);
  EXPECT_NE(LinesOf(entry)[0].csv.find(",2026-12-31 23:59:59,"), std::string::npos);
  entry.mutable_event()->set_occurred_at_unix_ms(1'798'732'800'000);
  EXPECT_NE(LinesOf(entry)[0].csv.find(",2027-01-01 00:00:00,"), std::string::npos);
}

TEST(StatementTest, AFilterMakesOnlyTheLinesItAsksForExactlyAsAllTheLinesHaveThem) {
  const auto all = LinesOf(Entry());
  StatementLine scratch;
  std::vector<std::string> got;
  LineFilter bank;
  bank.funder = perks::v1::FUNDER_BANK;
  ForEachLine(Entry(), bank, scratch, [&](const StatementLine& l) { got.push_back(l.csv); });
  EXPECT_EQ(got, std::vector<std::string>{all[0].csv});

  got.clear();
  LineFilter other_merchant;
  other_merchant.merchant_id = "m2";
  ForEachLine(Entry(), other_merchant, scratch,
              [&](const StatementLine& l) { got.push_back(l.csv); });
  EXPECT_TRUE(got.empty());

  LineFilter no_csv;
  no_csv.csv = false;
  std::vector<std::pair<std::string, int64_t>> amounts;
  ForEachLine(Entry(), no_csv, scratch, [&](const StatementLine& l) {
    EXPECT_TRUE(l.csv.empty());
    amounts.emplace_back(l.reference, l.share_fen);
  });
  ASSERT_EQ(amounts.size(), 2u);
  EXPECT_EQ(amounts[1], std::make_pair(all[1].reference, all[1].share_fen));
}

TEST(StatementTest, APayoutMakesNoStatementLine) {
  perks::storage::v1::LedgerEntry entry;
  entry.mutable_payout()->set_amount_fen(100);
  EXPECT_TRUE(LinesOf(entry).empty());
}

}  // namespace
}  // namespace perks::settlement
