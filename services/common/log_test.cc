#include "services/common/log.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace perks {
namespace {

std::vector<std::string>* g_lines = nullptr;
void Capture(std::string_view line) { g_lines->emplace_back(line); }

TEST(LogTest, LinesAreJsonAndNeverCarryFullNumbers) {
  std::vector<std::string> lines;
  g_lines = &lines;
  SetLogSink(&Capture);
  Log(LogLevel::kInfo, "card_looked_up",
      {{"card", "6236681234567890123"}, {"note", "member 11010519491231002X"}});
  SetLogSink(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"event\":\"card_looked_up\""), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("6236681234567890123"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("11010519491231002X"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("623668*********0123"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace perks
