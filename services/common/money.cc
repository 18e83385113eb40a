#include "services/common/money.h"

#include "absl/strings/str_format.h"

namespace perks {

std::string FormatYuan(int64_t amount_fen) {
  // Work in unsigned so INT64_MIN has a magnitude.
  uint64_t magnitude = amount_fen < 0 ? 0 - static_cast<uint64_t>(amount_fen)
                                      : static_cast<uint64_t>(amount_fen);
  return absl::StrFormat("%s%d.%02d", amount_fen < 0 ? "-" : "", magnitude / 100, magnitude % 100);
}

}  // namespace perks
