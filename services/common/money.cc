#include "services/common/money.h"

#include "absl/strings/str_format.h"

namespace perks {

std::optional<int64_t> ParseYuan(std::string_view text) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 12 || frac.size() > 2) return std::nullopt;
  if (dot != std::string_view::npos && frac.empty()) return std::nullopt;
  int64_t fen = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    fen = fen * 10 + (c - '0');
  }
  for (size_t i = 0; i < 2; ++i) {
    char c = i < frac.size() ? frac[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    fen = fen * 10 + (c - '0');
  }
  if (fen > kAmountFenMax) return std::nullopt;
  return fen;
}

std::string FormatYuan(int64_t amount_fen) {
  // Work in unsigned so INT64_MIN has a magnitude.
  uint64_t magnitude =
      amount_fen < 0 ? 0 - static_cast<uint64_t>(amount_fen) : static_cast<uint64_t>(amount_fen);
  return absl::StrFormat("%s%d.%02d", amount_fen < 0 ? "-" : "", magnitude / 100, magnitude % 100);
}

}  // namespace perks
