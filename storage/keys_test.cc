#include "storage/keys.h"

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"

namespace perks::storage {
namespace {

TEST(KeysTest, BytewiseOrderMatchesTupleOrder) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> len(0, 4);
  std::uniform_int_distribution<int> byte(0, 3);  // small alphabet with 0x00 to hit the escapes
  std::vector<std::tuple<std::string, uint64_t, std::string>> tuples;
  for (int i = 0; i < 2000; ++i) {
    std::string a, b;
    for (int j = len(rng); j > 0; --j)
      a.push_back(static_cast<char>(byte(rng) == 0 ? 0 : 'a' + byte(rng)));
    for (int j = len(rng); j > 0; --j) b.push_back(static_cast<char>(byte(rng) == 3 ? 0xff : 'x'));
    tuples.emplace_back(a, rng() % 5, b);
  }
  auto encode = [](const auto& t) {
    return Key().Str(std::get<0>(t)).U64(std::get<1>(t)).Str(std::get<2>(t)).bytes();
  };
  for (size_t i = 1; i < tuples.size(); ++i) {
    const auto& x = tuples[i - 1];
    const auto& y = tuples[i];
    auto ux = std::make_tuple(std::string_view(std::get<0>(x)), std::get<1>(x),
                              std::string_view(std::get<2>(x)));
    auto uy = std::make_tuple(std::string_view(std::get<0>(y)), std::get<1>(y),
                              std::string_view(std::get<2>(y)));
    // std::string compares chars as signed; compare as unsigned bytes like RocksDB does.
    auto less_bytes = [](std::string_view p, std::string_view q) {
      return std::lexicographical_compare(
          p.begin(), p.end(), q.begin(), q.end(), [](char c, char d) {
            return static_cast<unsigned char>(c) < static_cast<unsigned char>(d);
          });
    };
    bool tuple_less =
        less_bytes(std::get<0>(ux), std::get<0>(uy)) ||
        (std::get<0>(ux) == std::get<0>(uy) &&
         (std::get<1>(ux) < std::get<1>(uy) ||
          (std::get<1>(ux) == std::get<1>(uy) && less_bytes(std::get<2>(ux), std::get<2>(uy)))));
    EXPECT_EQ(tuple_less, less_bytes(encode(x), encode(y))) << i;
  }
}

TEST(KeysTest, ShorterStringSortsFirst) {
  EXPECT_LT(Key().Str("ab").bytes(), Key().Str(std::string("ab\0", 3)).bytes());
  EXPECT_LT(Key().Str(std::string("ab\0", 3)).bytes(), Key().Str("abc").bytes());
}

TEST(KeysTest, RoundTripsThroughReader) {
  std::string tricky("a\0\xff\x01z", 5);
  Key k;
  k.Str("card").Str(tricky).U64(0x0102030405060708ULL);
  KeyReader r(k.bytes());
  std::string a, b;
  uint64_t v = 0;
  ASSERT_TRUE(r.Str(&a));
  ASSERT_TRUE(r.Str(&b));
  ASSERT_TRUE(r.U64(&v));
  EXPECT_TRUE(r.AtEnd());
  EXPECT_EQ(a, "card");
  EXPECT_EQ(b, tricky);
  EXPECT_EQ(v, 0x0102030405060708ULL);
}

TEST(KeysTest, ReaderRejectsTruncatedKeys) {
  std::string bytes = Key().Str("card").bytes();
  bytes.pop_back();
  KeyReader r(bytes);
  std::string s;
  EXPECT_FALSE(r.Str(&s));
  EXPECT_FALSE(r.AtEnd());
  KeyReader r2("\x01\x02");
  uint64_t v;
  EXPECT_FALSE(r2.U64(&v));
}

TEST(KeysTest, PrefixEndBoundsExactlyThePrefix) {
  Key prefix;
  prefix.Str("hist").Str("c1");
  std::string end = prefix.PrefixEnd();
  EXPECT_LT(Key().Str("hist").Str("c1").U64(~0ULL).bytes(), end);
  EXPECT_GT(Key().Str("hist").Str("c10").bytes(), end);
  EXPECT_GE(Key().Str("hist").Str("c2").bytes(), end);
}

}  // namespace
}  // namespace perks::storage
