// Money is integer fen (1/100 yuan) in int64. These helpers refuse what would overflow or go
// negative instead of wrapping.
#ifndef PERKS_SERVICES_COMMON_MONEY_H_
#define PERKS_SERVICES_COMMON_MONEY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace perks {

// The largest single amount any call accepts: 100 million yuan. Far above any perk, far below
// int64 overflow even when summed over millions of entries.
inline constexpr int64_t kAmountFenMax = 10'000'000'000;

// a + b, or nullopt on overflow.
inline std::optional<int64_t> AddFen(int64_t a_fen, int64_t b_fen) {
  int64_t out = 0;
  if (__builtin_add_overflow(a_fen, b_fen, &out)) return std::nullopt;
  return out;
}

// Parses a yuan amount as people type it ("30", "30.5", "30.50") into fen, exactly: no floating
// point. nullopt for anything else: a sign, more than two decimals, more than kAmountFenMax.
std::optional<int64_t> ParseYuan(std::string_view text);

// "12.34" for 1234 fen; "-0.05" for -5.
std::string FormatYuan(int64_t amount_fen);

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_MONEY_H_
