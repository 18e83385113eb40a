#include "services/promotion/domain/funding.h"

#include "absl/strings/str_cat.h"

namespace perks::promotion {

absl::Status ValidateFunding(const Shares& shares, absl::string_view field) {
  if (shares.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": say who pays, e.g. {funder: FUNDER_BANK, share_bp: 10000}"));
  }
  int64_t bp_sum = 0;
  int bp_shares = 0;
  bool seen[4] = {false, false, false, false};
  for (const auto& s : shares) {
    if (s.funder() <= perks::v1::FUNDER_UNSPECIFIED || s.funder() > perks::v1::FUNDER_MERCHANT) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": each share names its funder: FUNDER_BANK, FUNDER_UNION or FUNDER_MERCHANT"));
    }
    if (seen[s.funder()]) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", perks::v1::Funder_Name(s.funder()), " is listed twice; give it one share"));
    }
    seen[s.funder()] = true;
    if (s.share_bp() < 0 || s.share_bp() > 10000 || s.fixed_fen() < 0 || s.budget_fen() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": share_bp is 0..10000, fixed_fen and budget_fen are not negative"));
    }
    if (s.share_bp() > 0 && s.fixed_fen() > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", perks::v1::Funder_Name(s.funder()),
                       " has both share_bp and fixed_fen; a share is one or the other"));
    }
    if (s.share_bp() > 0) {
      bp_sum += s.share_bp();
      ++bp_shares;
    }
  }
  if (bp_shares == 0 || bp_sum != 10000) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": the share_bp values must add up to 10000 (100%); they add up to ", bp_sum));
  }
  return absl::OkStatus();
}

std::vector<perks::v1::FundedShare> SplitDiscount(int64_t discount_fen, const Shares& shares) {
  std::vector<perks::v1::FundedShare> out(shares.size());
  int64_t left = discount_fen;
  int last_bp = -1;
  for (int i = 0; i < shares.size(); ++i) {
    out[i].set_funder(shares[i].funder());
    if (shares[i].share_bp() == 0) {
      int64_t take = std::min(shares[i].fixed_fen(), left);
      out[i].set_amount_fen(take);
      left -= take;
    }
  }
  const int64_t rest = left;
  for (int i = 0; i < shares.size(); ++i) {
    if (shares[i].share_bp() == 0) continue;
    // rest <= kAmountFenMax (1e10) and share_bp <= 1e4: the product fits in int64.
    int64_t take = rest * shares[i].share_bp() / 10000;
    out[i].set_amount_fen(take);
    left -= take;
    last_bp = i;
  }
  out[last_bp].set_amount_fen(out[last_bp].amount_fen() + left);
  return out;
}

}  // namespace perks::promotion
