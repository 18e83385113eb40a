#include "tools/common/member_gen.h"

#include <set>

#include "gtest/gtest.h"
#include "perks/v1/card.pb.h"
#include "services/card/domain/card_rules.h"

namespace perks::tools {
namespace {

TEST(MemberGeneratorTest, RowsAreValidUniqueAndRepeatable) {
  MemberGenerator gen(42);
  std::set<std::string> ids;
  for (uint64_t i = 0; i < 20'000; ++i) {
    SyntheticMember m = gen.Row(i);
    perks::v1::MemberRow row;
    row.set_name(m.name);
    row.set_id_number(m.id_number);
    row.set_phone(m.phone);
    row.set_org_code(m.org_code);
    for (const auto& t : m.tags) row.add_tags(t);
    auto valid = card::ValidateMemberRow(row);
    ASSERT_TRUE(valid.ok()) << i << ": " << valid.status();
    EXPECT_TRUE(ids.insert(m.id_number).second) << "duplicate ID at row " << i;
  }
  EXPECT_EQ(MemberCsvLine(gen.Row(7)), MemberCsvLine(MemberGenerator(42).Row(7)));
  EXPECT_NE(MemberCsvLine(gen.Row(7)), MemberCsvLine(MemberGenerator(43).Row(7)));
}

TEST(MemberGeneratorTest, SomeMembersCarryTags) {
  MemberGenerator gen(1);
  int model = 0, needy = 0;
  for (uint64_t i = 0; i < 10'000; ++i) {
    for (const auto& t : gen.Row(i).tags) {
      model += t == "model_worker";
      needy += t == "needy_household";
    }
  }
  EXPECT_GT(model, 50);
  EXPECT_GT(needy, 100);
}

}  // namespace
}  // namespace perks::tools
