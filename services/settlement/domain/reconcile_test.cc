#include "services/settlement/domain/reconcile.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/personal.h"
#include "services/settlement/domain/statement.h"

namespace perks::settlement {
namespace {

using ::testing::HasSubstr;

std::string Detail(const std::string& reference, int64_t share_fen) {
  return absl::StrCat("D,", reference,
                      ",CONFIRMED,T1:20261205:1,2026-12-05 10:00:00,m1,s1,T1,623668*********0123,"
                      "c1,1,BANK,10000,",
                      share_fen, "\n");
}

// A bank file of `details` with a correct trailer.
std::string BankFile(const std::vector<std::string>& details) {
  StatementTally tally;
  for (const std::string& d : details) {
    StatementLine line;
    line.csv = d;
    (void)absl::SimpleAtoi(d.substr(d.rfind(',') + 1, d.size() - d.rfind(',') - 2),
                           &line.share_fen);
    tally.Add(line);
  }
  std::string out = StatementHead("bozhou", "20261205", "BANK");
  for (const std::string& d : details) out += d;
  return out + StatementTrailer(tally.Summary());
}

TEST(BankFileTest, AWellFormedFileIsRead) {
  auto lines = ParseBankFile(BankFile({Detail("a#1", 1500), Detail("b#1", 500)}), "bozhou",
                             "20261205", "BANK");
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].line_number, 3);
  EXPECT_EQ((*lines)[1].reference, "b#1");
  EXPECT_EQ((*lines)[1].share_fen, 500);
}

TEST(BankFileTest, WindowsLineEndsAreRead) {
  std::string file = BankFile({Detail("a#1", 1500)});
  std::string crlf;
  for (char c : file) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_TRUE(ParseBankFile(crlf, "bozhou", "20261205", "BANK").ok());
}

TEST(BankFileTest, MalformedFilesNameTheLine) {
  const std::string good = BankFile({Detail("a#1", 1500), Detail("b#1", 500)});
  struct Case {
    std::string file;
    std::string says;
  };
  std::string bad_amount = good;
  bad_amount.replace(bad_amount.find(",500\n"), 5, ",5x0\n");
  std::string edited = good;
  edited.replace(edited.find(",1500\n"), 6, ",1400\n");
  std::string cut = good.substr(0, good.rfind("\nT,") + 1);
  std::vector<Case> cases = {
      {"", "line 1: the file is empty"},
      {"D,x\n", "line 1: the file must start with its header"},
      {BankFile({}).replace(0, 31, "H,PERKS-STATEMENT,1,fuyang,2026"),
       "line 1: the file is for fuyang"},
      {bad_amount, "line 4: share_fen"},
      {edited, "line 5: the trailer's total is 2000 fen but the lines sum to 1900"},
      {cut, "without its trailer"},
      {good + "D,c#1\n", "line 6: there is more after the trailer"},
      {BankFile({"D,\"a\",x\n"}), "line 3: a quoted field"},
      {BankFile({"D,a#1,CONFIRMED\n"}), "line 3: a detail line has 14 fields"},
  };
  for (const Case& c : cases) {
    auto lines = ParseBankFile(c.file, "bozhou", "20261205", "BANK");
    EXPECT_EQ(lines.status().code(), absl::StatusCode::kInvalidArgument) << c.says;
    EXPECT_THAT(lines.status().message(), HasSubstr(c.says));
  }
  std::string rehashed = good;
  rehashed.replace(rehashed.find("b#1"), 3, "b#2");  // the lines no longer match the hash
  EXPECT_THAT(ParseBankFile(rehashed, "bozhou", "20261205", "BANK").status().message(),
              HasSubstr("SHA-256"));
}

std::vector<BankLine> Bank(const std::vector<std::pair<std::string, int64_t>>& lines) {
  std::vector<BankLine> out;
  int32_t n = 3;
  for (const auto& [ref, fen] : lines) out.push_back({n++, ref, fen});
  return out;
}

TEST(ReconcileTest, IdenticalSidesHaveNoDifference) {
  perks::v1::Reconciliation r;
  Reconcile({{"a#1", 100}, {"b#1", 200}}, Bank({{"b#1", 200}, {"a#1", 100}}), &r);
  EXPECT_EQ(r.differences_size(), 0);
  EXPECT_EQ(r.matched_lines(), 2);
  EXPECT_EQ(r.our_total_fen(), 300);
  EXPECT_EQ(r.bank_total_fen(), 300);
}

TEST(ReconcileTest, EveryKindOfDifferenceIsFoundAndNoneInvented) {
  perks::v1::Reconciliation r;
  Reconcile({{"a#1", 100}, {"b#1", 200}, {"c#1", 300}, {"d#1", 400}},
            Bank({{"a#1", 100}, {"c#1", 301}, {"d#1", 400}, {"d#1", 400}, {"x#1", 50}}), &r);
  ASSERT_EQ(r.differences_size(), 4);
  EXPECT_EQ(r.differences(0).kind(), perks::v1::DIFFERENCE_ONLY_OURS);
  EXPECT_EQ(r.differences(0).reference(), "b#1");
  EXPECT_EQ(r.differences(0).our_fen(), 200);
  EXPECT_EQ(r.differences(1).kind(), perks::v1::DIFFERENCE_AMOUNT_DIFFERS);
  EXPECT_EQ(r.differences(1).reference(), "c#1");
  EXPECT_EQ(r.differences(1).bank_fen(), 301);
  EXPECT_EQ(r.differences(2).kind(), perks::v1::DIFFERENCE_DUPLICATED);
  EXPECT_EQ(r.differences(2).reference(), "d#1");
  EXPECT_THAT(r.differences(2).bank_lines(), ::testing::ElementsAre(5, 6));
  EXPECT_EQ(r.differences(3).kind(), perks::v1::DIFFERENCE_ONLY_BANKS);
  EXPECT_EQ(r.differences(3).reference(), "x#1");
  EXPECT_THAT(r.differences(3).bank_lines(), ::testing::ElementsAre(7));
  EXPECT_EQ(r.matched_lines(), 1);  // a#1; d#1 is there twice
  EXPECT_EQ(r.unresolved(), 4);
  for (int i = 0; i < r.differences_size(); ++i) EXPECT_EQ(r.differences(i).difference_id(), i + 1);
}

}  // namespace
}  // namespace perks::settlement
