#include "services/promotion/domain/spec.h"

#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/categories.h"
#include "services/common/money.h"
#include "services/common/personal.h"
#include "services/promotion/domain/funding.h"

namespace perks::promotion {
namespace {

using perks::v1::CampaignSpec;

bool IdShapeOk(const std::string& id, size_t max) {
  if (id.size() < 2 || id.size() > max) return false;
  for (char c : id) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '-') {
      return false;
    }
  }
  return true;
}

absl::Status Bad(const char* what) { return absl::InvalidArgumentError(what); }

bool AmountOk(int64_t fen) { return fen >= 0 && fen <= kAmountFenMax; }

absl::Status ValidateRule(const CampaignSpec& spec) {
  switch (spec.rule_case()) {
    case CampaignSpec::kThreshold: {
      const auto& r = spec.threshold();
      if (r.min_fen() <= 0 || !AmountOk(r.min_fen())) {
        return Bad("threshold.min_fen: the spend that earns the discount, in fen, above 0");
      }
      if (r.off_fen() <= 0 || r.off_fen() > r.min_fen()) {
        return Bad("threshold.off_fen: the discount, in fen, above 0 and at most min_fen");
      }
      if (!AmountOk(r.cap_fen())) return Bad("threshold.cap_fen: 0 (no cap) or a cap in fen");
      return absl::OkStatus();
    }
    case CampaignSpec::kPercent:
      if (spec.percent().off_bp() <= 0 || spec.percent().off_bp() > 10000) {
        return Bad("percent.off_bp: the share off in basis points, 1..10000 (10% off = 1000)");
      }
      if (!AmountOk(spec.percent().cap_fen())) {
        return Bad("percent.cap_fen: 0 (no cap) or a cap in fen");
      }
      return absl::OkStatus();
    case CampaignSpec::kFixed:
      if (spec.fixed().off_fen() <= 0 || !AmountOk(spec.fixed().off_fen())) {
        return Bad("fixed.off_fen: the amount off, in fen, above 0");
      }
      return absl::OkStatus();
    case CampaignSpec::kFare:
      if (spec.fare().pay_bp() < 0 || spec.fare().pay_bp() >= 10000) {
        return Bad("fare.pay_bp: what the member pays, in basis points, 0..9999 (half = 5000)");
      }
      return absl::OkStatus();
    case CampaignSpec::kGrant: {
      const auto& g = spec.grant();
      if (g.event() == perks::v1::GRANT_EVENT_UNSPECIFIED) {
        return Bad(
            "grant.event: GRANT_EVENT_CARD_ACTIVATED, GRANT_EVENT_ISSUE_BATCH or "
            "GRANT_EVENT_MEDICAL_CLAIM");
      }
      if (!IdShapeOk(g.balance_name(), 40)) {
        return Bad("grant.balance_name: 2-40 of [a-z0-9-], e.g. transit");
      }
      if (g.balance_kind() == perks::v1::GRANT_BALANCE_KIND_UNSPECIFIED) {
        return Bad("grant.balance_kind: TRANSIT, VOUCHER or PAYOUT");
      }
      if (g.amount_fen() <= 0 || !AmountOk(g.amount_fen())) {
        return Bad("grant.amount_fen: what each member gets, in fen, above 0");
      }
      if (g.event() == perks::v1::GRANT_EVENT_MEDICAL_CLAIM && g.min_claim_fen() <= 0) {
        return Bad("grant.min_claim_fen: the out-of-pocket cost that qualifies, in fen, above 0");
      }
      return absl::OkStatus();
    }
    case CampaignSpec::kBalancePayment:
      if (!IdShapeOk(spec.balance_payment().balance_name(), 40)) {
        return Bad("balance_payment.balance_name: the card balance it pays from");
      }
      if (spec.balance_payment().topup_bp() < 0 || spec.balance_payment().topup_bp() > 10000) {
        return Bad("balance_payment.topup_bp: what the merchant adds, 0..10000 (10% = 1000)");
      }
      if (spec.balance_payment().balance_funding().empty()) {
        return Bad(
            "balance_payment.balance_funding: who pays the merchant what is paid from the "
            "balance (whoever funded it), e.g. [{funder: FUNDER_UNION, share_bp: 10000}]");
      }
      for (const auto& share : spec.balance_payment().balance_funding()) {
        if (share.budget_fen() != 0) {
          return Bad(
              "balance_payment.balance_funding: no budget_fen; the balance was budgeted when it "
              "was granted");
        }
      }
      return ValidateFunding(spec.balance_payment().balance_funding(),
                             "balance_payment.balance_funding");
    case CampaignSpec::RULE_NOT_SET:
      break;
  }
  return Bad(
      "the campaign has no rule: give one of threshold, percent, fixed, fare, grant, "
      "balance_payment");
}

absl::Status ValidateEligibility(const perks::v1::Eligibility& e) {
  for (int d : e.weekdays()) {
    if (d < 1 || d > 7) return Bad("eligibility.weekdays: 1 (Monday) … 7 (Sunday)");
  }
  int start = e.day_start_minute(), end = e.day_end_minute();
  if (start < 0 || end < 0 || start > 1440 || end > 1440 ||
      (!(start == 0 && end == 0) && start >= end)) {
    return Bad(
        "eligibility.day_start_minute/day_end_minute: minutes after local midnight, start "
        "before end (e.g. 480 and 1200 for 08:00-20:00), or both 0 for all day");
  }
  if (!AmountOk(e.min_spend_fen())) return Bad("eligibility.min_spend_fen: fen, not negative");
  const std::pair<const char*, const google::protobuf::RepeatedPtrField<std::string>*> lists[] = {
      {"program_ids", &e.program_ids()}, {"merchant_ids", &e.merchant_ids()},
      {"store_ids", &e.store_ids()},     {"categories", &e.categories()},
      {"regions", &e.regions()},         {"member_tags_any", &e.member_tags_any()}};
  for (const auto& [name, list] : lists) {
    absl::flat_hash_set<std::string_view> seen;
    for (const std::string& v : *list) {
      if (v.empty())
        return absl::InvalidArgumentError(absl::StrCat("eligibility.", name, ": an empty value"));
      // Named twice, a merchant or category would count the campaign twice.
      if (!seen.insert(v).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("eligibility.", name, ": \"", v, "\" is listed twice"));
      }
    }
  }
  for (const std::string& c : e.categories()) {
    if (absl::Status s = CheckCategory("eligibility.categories", c); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateLimits(const CampaignSpec& spec) {
  const auto& m = spec.member_limits();
  for (int64_t v : {m.per_day_count(), m.per_day_fen(), m.per_week_count(), m.per_week_fen(),
                    m.per_month_count(), m.per_month_fen(), m.per_campaign_count(),
                    m.per_campaign_fen(), spec.merchant_per_day_count(),
                    spec.merchant_per_day_fen(), spec.budget_fen(), spec.budget_count()}) {
    if (!AmountOk(v)) return Bad("limits and budgets are 0 (none) or a positive amount or count");
  }
  if (spec.hold_seconds() < 0 || spec.hold_seconds() > 86400) {
    return Bad("hold_seconds: 0 (15 minutes) up to 86400");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateSpec(const CampaignSpec& spec) {
  if (!IdShapeOk(spec.campaign_id(), 60)) {
    return Bad("campaign_id: 2-60 of [a-z0-9-], e.g. bozhou-daily-10");
  }
  if (!IdShapeOk(spec.tenant_id(), 40)) return Bad("tenant_id: the city, e.g. bozhou");
  if (spec.title().empty() || spec.title().size() > 200) {
    return Bad("title: what members and admins see, 1-200 bytes");
  }
  for (const auto* t : {&spec.starts_at(), &spec.ends_at(), &spec.grant().expires_at()}) {
    // From 1970 to the year 9999, as RFC 3339 allows.
    if (t->seconds() < 0 || t->seconds() > 253'402'300'799 || t->nanos() < 0 ||
        t->nanos() > 999'999'999) {
      return Bad("starts_at/ends_at/expires_at: a time such as 2026-12-01T00:00:00+08:00");
    }
  }
  if (EndsAtMs(spec) <= StartsAtMs(spec)) {
    return Bad("starts_at/ends_at: the end (exclusive) comes after the start");
  }
  if (absl::Status s = ValidateRule(spec); !s.ok()) return s;
  if (absl::Status s = ValidateEligibility(spec.eligibility()); !s.ok()) return s;
  for (const std::string& c : spec.grant().allowed_categories()) {
    if (absl::Status s = CheckCategory("grant.allowed_categories", c); !s.ok()) return s;
  }
  if (absl::Status s = ValidateFunding(spec.funding()); !s.ok()) return s;
  return ValidateLimits(spec);
}

int64_t StartsAtMs(const CampaignSpec& spec) {
  return google::protobuf::util::TimeUtil::TimestampToMilliseconds(spec.starts_at());
}

int64_t EndsAtMs(const CampaignSpec& spec) {
  return spec.has_ends_at()
             ? google::protobuf::util::TimeUtil::TimestampToMilliseconds(spec.ends_at())
             : std::numeric_limits<int64_t>::max();
}

google::protobuf::Timestamp TimestampFromMs(int64_t unix_ms) {
  return google::protobuf::util::TimeUtil::MillisecondsToTimestamp(unix_ms);
}

std::string SpecSha256(const perks::v1::CampaignSpec& spec) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream raw(&bytes);
    google::protobuf::io::CodedOutputStream out(&raw);
    out.SetSerializationDeterministic(true);
    spec.SerializeToCodedStream(&out);
  }
  return HexEncode(Sha256(bytes));
}

std::string DescribeRule(const CampaignSpec& spec) {
  switch (spec.rule_case()) {
    case CampaignSpec::kThreshold: {
      const auto& r = spec.threshold();
      std::string s = absl::StrCat(r.per_multiple() ? "every " : "spend ", FormatYuan(r.min_fen()),
                                   " yuan, save ", FormatYuan(r.off_fen()));
      if (r.cap_fen() > 0) absl::StrAppend(&s, ", at most ", FormatYuan(r.cap_fen()));
      return s;
    }
    case CampaignSpec::kPercent: {
      std::string s = absl::StrCat(spec.percent().off_bp() / 100, ".",
                                   absl::StrFormat("%02d", spec.percent().off_bp() % 100), "% off");
      if (spec.percent().cap_fen() > 0) {
        absl::StrAppend(&s, ", at most ", FormatYuan(spec.percent().cap_fen()), " yuan");
      }
      return s;
    }
    case CampaignSpec::kFixed:
      return absl::StrCat(FormatYuan(spec.fixed().off_fen()), " yuan off");
    case CampaignSpec::kFare:
      return spec.fare().pay_bp() == 0 ? std::string("free ride")
                                       : absl::StrCat("fare at ", spec.fare().pay_bp() / 100, "%");
    case CampaignSpec::kGrant:
      return absl::StrCat(FormatYuan(spec.grant().amount_fen()), " yuan to ",
                          spec.grant().balance_name());
    case CampaignSpec::kBalancePayment:
      return absl::StrCat("pay from ", spec.balance_payment().balance_name(), ", merchant adds ",
                          spec.balance_payment().topup_bp() / 100, "%");
    case CampaignSpec::RULE_NOT_SET:
      break;
  }
  return "no rule";
}

}  // namespace perks::promotion
