#include "tools/common/member_csv.h"

#include <fstream>

#include "gtest/gtest.h"
#include "storage/test_dir.h"

namespace perks::tools {
namespace {

std::string Write(const storage::TestDir& dir, const std::string& text) {
  std::string path = dir.path() + "/members.csv";
  std::ofstream(path) << text;
  return path;
}

TEST(MemberCsvTest, ReadsRowsWithLineNumbersAndQuotedCommas) {
  storage::TestDir dir;
  std::string path =
      Write(dir,
            "org_code,name,id_number,phone,tags,extra\n"
            "AH-1,\"Wang, Wei\",11010519491231002X,13812345678,model_worker;transit,x\n"
            "AH-2,李娜,11010519491231002X,,,\n");
  auto reader = MemberCsvReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto first = (*reader)->Next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->line(), 2);
  EXPECT_EQ((*first)->name(), "Wang, Wei");
  EXPECT_EQ((*first)->tags_size(), 2);
  auto second = (*reader)->Next();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->line(), 3);
  EXPECT_EQ((*second)->name(), "李娜");
  auto end = (*reader)->Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
  EXPECT_EQ(*CheckMemberCsv(path), 2);
}

TEST(MemberCsvTest, MissingColumnIsRefusedClearly) {
  storage::TestDir dir;
  auto reader = MemberCsvReader::Open(Write(dir, "name,id_number,phone\nA,1,2\n"));
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(reader.status().message().find("org_code"), std::string::npos) << reader.status();
}

TEST(MemberCsvTest, MalformedLineIsRefusedWithItsLineNumber) {
  storage::TestDir dir;
  std::string path = Write(dir,
                           "name,id_number,phone,org_code,tags\n"
                           "A,11010519491231002X,,AH-1,\n"
                           "B,\"11010519491231002X,,AH-1,\n");
  auto n = CheckMemberCsv(path);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(n.status().message().find("line 3"), std::string::npos) << n.status();
  EXPECT_NE(n.status().message().find("nothing was imported"), std::string::npos);
}

TEST(MemberCsvTest, MissingFileIsNotFound) {
  EXPECT_EQ(CheckMemberCsv("/nonexistent/members.csv").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace perks::tools
