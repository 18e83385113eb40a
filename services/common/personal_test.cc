#include "services/common/personal.h"

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace perks {
namespace {

// A published GB 11643 example: 11010519491231002X.
TEST(IdNumberTest, AcceptsValidNumberWithXCheck) {
  EXPECT_TRUE(ValidateIdNumber("11010519491231002X").ok());
  EXPECT_TRUE(ValidateIdNumber("11010519491231002x").ok());
}

TEST(IdNumberTest, RejectsWrongCheckCharacter) {
  absl::Status s = ValidateIdNumber("110105194912310021");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("check character"), std::string::npos);
  // The message never echoes the number.
  EXPECT_EQ(s.message().find("11010519"), std::string::npos);
}

TEST(IdNumberTest, RejectsWrongLengthLettersAndImpossibleDates) {
  EXPECT_FALSE(ValidateIdNumber("1101051949123100").ok());
  EXPECT_FALSE(ValidateIdNumber("1101051949A231002X").ok());
  std::string feb30 = "34160219900230001";
  feb30.push_back(IdCheckCharacter(feb30));
  EXPECT_NE(ValidateIdNumber(feb30).message().find("birth date"), std::string::npos);
  std::string feb29_leap = "34160220000229001";
  feb29_leap.push_back(IdCheckCharacter(feb29_leap));
  EXPECT_TRUE(ValidateIdNumber(feb29_leap).ok());
}

TEST(LuhnTest, KnownNumbers) {
  EXPECT_TRUE(LuhnValid("4111111111111111"));
  EXPECT_TRUE(LuhnValid("79927398713"));
  EXPECT_FALSE(LuhnValid("79927398710"));
  EXPECT_EQ(LuhnCheckDigit("7992739871"), '3');
  EXPECT_FALSE(LuhnValid("4111-1111"));
}

TEST(MaskTest, KeepsOnlyWhatIsAllowed) {
  EXPECT_EQ(MaskCardNumber("6236681234567890123"), "623668*********0123");
  EXPECT_EQ(MaskIdNumber("11010519491231002X"), "**************002X");
  EXPECT_EQ(MaskPhone("13812345678"), "138****5678");
  EXPECT_EQ(MaskPhone("0558-1234"), "*******34");
}

TEST(MaskTest, ScrubFindsNumbersInsideText) {
  EXPECT_EQ(ScrubPersonalNumbers("card 6236681234567890123 ok"), "card 623668*********0123 ok");
  EXPECT_EQ(ScrubPersonalNumbers("id=11010519491231002X;"), "id=**************002X;");
  EXPECT_EQ(ScrubPersonalNumbers("amount 12345 fen"), "amount 12345 fen");
}

TEST(HashTest, HmacIsKeyedAndStable) {
  EXPECT_EQ(HmacSha256("k", "m"), HmacSha256("k", "m"));
  EXPECT_NE(HmacSha256("k1", "m"), HmacSha256("k2", "m"));
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashTest, HmacMatchesRfc4231AndRekeysEachCall) {
  // RFC 4231 test case 2; then another key and back, since each thread reuses one context.
  const std::string expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")), expected);
  EXPECT_NE(HexEncode(HmacSha256("Jeff", "what do ya want for nothing?")), expected);
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")), expected);
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HashTest, EachThreadGetsTheSameDigests) {
  std::vector<std::string> seen(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&seen, i] { seen[i] = HexEncode(Sha256("abc")) + HmacSha256("k", "m"); });
  }
  for (auto& t : threads) t.join();
  for (const std::string& s : seen) EXPECT_EQ(s, seen[0]);
  EXPECT_EQ(seen[0], HexEncode(Sha256("abc")) + HmacSha256("k", "m"));
}

}  // namespace
}  // namespace perks
