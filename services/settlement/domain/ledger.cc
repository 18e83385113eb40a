#include "services/settlement/domain/ledger.h"

#include "absl/strings/str_cat.h"
#include "services/common/calendar.h"
#include "services/common/money.h"

namespace perks::settlement {
namespace {

using perks::v1::Funder;
using perks::v1::Posting;

bool KnownFunder(Funder f) {
  return f == perks::v1::FUNDER_BANK || f == perks::v1::FUNDER_UNION ||
         f == perks::v1::FUNDER_MERCHANT;
}

Posting Make(std::string debit, std::string credit, int64_t amount_fen) {
  Posting p;
  p.set_debit_account(std::move(debit));
  p.set_credit_account(std::move(credit));
  p.set_amount_fen(amount_fen);
  return p;
}

absl::Status CheckShare(const perks::v1::FundedShare& s, const std::string& field) {
  if (!KnownFunder(s.funder())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".funder is not a known funder"));
  }
  if (s.amount_fen() < 0 || s.amount_fen() > kAmountFenMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".amount_fen must be 0 to ", kAmountFenMax, "; got ", s.amount_fen()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string FunderAccount(const std::string& tenant_id, Funder funder) {
  return absl::StrCat("funder/", tenant_id, "/", perks::v1::Funder_Name(funder).substr(7));
}

std::string MerchantAccount(const std::string& tenant_id, const std::string& merchant_id,
                            Funder funder) {
  return absl::StrCat("merchant/", tenant_id, "/", merchant_id, "/",
                      perks::v1::Funder_Name(funder).substr(7));
}

absl::StatusOr<std::vector<Posting>> PostingsOf(const perks::v1::SettlementEvent& e) {
  if (e.tenant_id().empty() || e.merchant_id().empty()) {
    return absl::InvalidArgumentError("an event names its city (tenant_id) and merchant_id");
  }
  std::vector<Posting> out;
  switch (e.kind()) {
    case perks::v1::SETTLEMENT_EVENT_CONFIRMED:
      for (int i = 0; i < e.discounts_size(); ++i) {
        const perks::v1::Discount& d = e.discounts(i);
        // The discount's funders, and for a balance payment those of the balance paid from: each
        // owes the merchant its share.
        const struct {
          const google::protobuf::RepeatedPtrField<perks::v1::FundedShare>& shares;
          const char* field;
          int64_t total_fen;
          const char* what;
        } parts[] = {{d.funding(), "funding", d.amount_fen(), "the discount's"},
                     {d.balance_funding(), "balance_funding", d.from_balance_fen(),
                      "what was paid from the balance,"}};
        for (const auto& part : parts) {
          int64_t sum_fen = 0;
          for (int j = 0; j < part.shares.size(); ++j) {
            const auto& s = part.shares[j];
            if (absl::Status st =
                    CheckShare(s, absl::StrCat("discounts[", i, "].", part.field, "[", j, "]"));
                !st.ok()) {
              return st;
            }
            sum_fen += s.amount_fen();
            if (s.amount_fen() == 0) continue;
            out.push_back(Make(FunderAccount(e.tenant_id(), s.funder()),
                               MerchantAccount(e.tenant_id(), e.merchant_id(), s.funder()),
                               s.amount_fen()));
          }
          if (sum_fen != part.total_fen) {
            return absl::InvalidArgumentError(absl::StrCat("discounts[", i, "]: the ", part.field,
                                                           " shares sum to ", sum_fen, " fen, not ",
                                                           part.what, " ", part.total_fen));
          }
        }
      }
      return out;
    case perks::v1::SETTLEMENT_EVENT_REFUNDED:
      for (int j = 0; j < e.funding_size(); ++j) {
        const auto& s = e.funding(j);
        if (absl::Status st = CheckShare(s, absl::StrCat("funding[", j, "]")); !st.ok()) return st;
        if (s.amount_fen() == 0) continue;
        out.push_back(Make(MerchantAccount(e.tenant_id(), e.merchant_id(), s.funder()),
                           FunderAccount(e.tenant_id(), s.funder()), s.amount_fen()));
      }
      return out;
    default:
      return absl::InvalidArgumentError("an event's kind is CONFIRMED or REFUNDED");
  }
}

std::vector<Posting> PostingsOf(const perks::v1::Payout& p) {
  return {Make(MerchantAccount(p.tenant_id(), p.merchant_id(), p.funder()),
               FunderAccount(p.tenant_id(), p.funder()), p.amount_fen())};
}

absl::Status ValidateCutoff(absl::Duration cutoff) {
  if (cutoff <= absl::ZeroDuration() || cutoff > absl::Hours(24)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the business day's cut-off is a time of day after 00:00 and up to 24:00; "
                     "got ",
                     absl::FormatDuration(cutoff)));
  }
  return absl::OkStatus();
}

// Day D ends at D's midnight plus the cut-off: shifting an instant forward by (24h - cut-off)
// makes its business day its calendar day, exactly to the nanosecond.
absl::CivilDay BusinessDayOf(absl::Time t, absl::Duration cutoff) {
  return absl::CivilDay(absl::ToCivilSecond(t + (absl::Hours(24) - cutoff), ShanghaiZone()));
}

absl::Time DayStart(absl::CivilDay day, absl::Duration cutoff) { return DayEnd(day - 1, cutoff); }

absl::Time DayEnd(absl::CivilDay day, absl::Duration cutoff) {
  return absl::FromCivil(day, ShanghaiZone()) + cutoff;
}

uint64_t DayNumber(absl::CivilDay day) {
  return static_cast<uint64_t>(day - absl::CivilDay(1970, 1, 1));
}

absl::CivilDay DayOfNumber(uint64_t number) {
  return absl::CivilDay(1970, 1, 1) + static_cast<int64_t>(number);
}

}  // namespace perks::settlement
