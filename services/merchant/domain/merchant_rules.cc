#include "services/merchant/domain/merchant_rules.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/categories.h"
#include "services/common/personal.h"

namespace perks::merchant {
namespace {

using perks::v1::ApplicationState;
using perks::v1::MerchantState;

constexpr std::string_view kCodeAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
constexpr int kCodeWeights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
constexpr size_t kTextBytesMax = 200;

std::string Trim(const std::string& s) { return std::string(absl::StripAsciiWhitespace(s)); }

absl::Status RequireText(std::string_view what, const std::string& value, size_t max_bytes) {
  if (value.empty())
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), " is empty"));
  if (value.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), " is over ", max_bytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status RequireIdentifier(std::string_view what, const std::string& value) {
  if (absl::Status s = RequireText(what, value, 40); !s.ok()) return s;
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(what), " '", value, "' may hold only letters, digits, '-' and '_'"));
    }
  }
  return absl::OkStatus();
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

}  // namespace

char CreditCodeCheckCharacter(std::string_view first17) {
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    sum += static_cast<int>(kCodeAlphabet.find(first17[i])) * kCodeWeights[i];
  }
  return kCodeAlphabet[(31 - sum % 31) % 31];
}

absl::Status ValidateCreditCode(std::string_view code) {
  if (code.size() != 18) {
    return absl::InvalidArgumentError(absl::StrCat(
        "credit code has ", code.size(), " characters; a unified social credit code has 18"));
  }
  for (char c : code) {
    if (kCodeAlphabet.find(c) == std::string_view::npos) {
      return absl::InvalidArgumentError(
          "credit code may hold only digits and the capital letters A-Y without I, O, S, V and Z");
    }
  }
  if (CreditCodeCheckCharacter(code.substr(0, 17)) != code[17]) {
    return absl::InvalidArgumentError(
        "credit code: the check character (the 18th) does not match the first 17; check the "
        "business licence for a mistyped character");
  }
  return absl::OkStatus();
}

absl::StatusOr<perks::v1::MerchantProfile> NormalizeProfile(const perks::v1::MerchantProfile& in) {
  perks::v1::MerchantProfile p;
  p.set_tenant_id(absl::AsciiStrToLower(Trim(in.tenant_id())));
  p.set_name(Trim(in.name()));
  p.set_credit_code(absl::AsciiStrToUpper(Trim(in.credit_code())));
  p.set_category(absl::AsciiStrToLower(Trim(in.category())));
  p.set_region(absl::AsciiStrToLower(Trim(in.region())));
  p.set_address(Trim(in.address()));
  p.set_contact_name(Trim(in.contact_name()));
  p.set_contact_phone(Trim(in.contact_phone()));
  p.set_offer(Trim(in.offer()));
  p.mutable_settlement()->set_bank_name(Trim(in.settlement().bank_name()));
  p.mutable_settlement()->set_account_name(Trim(in.settlement().account_name()));
  std::string account;
  for (char c : in.settlement().account_number()) {
    if (c != ' ' && c != '-') account.push_back(c);  // as printed on passbooks: 6217 0000 …
  }
  p.mutable_settlement()->set_account_number(account);

  if (absl::Status s = RequireIdentifier("tenant_id", p.tenant_id()); !s.ok()) return s;
  if (absl::Status s = RequireText("name", p.name(), 100); !s.ok()) return s;
  if (absl::Status s = ValidateCreditCode(p.credit_code()); !s.ok()) return s;
  if (absl::Status s = CheckCategory("category", p.category()); !s.ok()) return s;
  if (absl::Status s = RequireIdentifier("region", p.region()); !s.ok()) return s;
  if (absl::Status s = RequireText("address", p.address(), kTextBytesMax); !s.ok()) return s;
  if (absl::Status s = RequireText("contact_name", p.contact_name(), 64); !s.ok()) return s;
  if (p.contact_phone().size() < 7 || p.contact_phone().size() > 20 ||
      !std::all_of(p.contact_phone().begin(), p.contact_phone().end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-';
      })) {
    return absl::InvalidArgumentError("contact_phone must be 7 to 20 digits (a '-' may separate)");
  }
  if (absl::Status s = RequireText("settlement bank_name", p.settlement().bank_name(), 100);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = RequireText("settlement account_name", p.settlement().account_name(), 100);
      !s.ok()) {
    return s;
  }
  if (!AllDigits(account) || account.size() < 8 || account.size() > 32) {
    return absl::InvalidArgumentError("settlement account_number must be 8 to 32 digits");
  }
  if (absl::Status s = RequireText("offer", p.offer(), kTextBytesMax); !s.ok()) return s;
  return p;
}

perks::v1::MerchantProfile MaskedProfile(const perks::v1::MerchantProfile& p) {
  perks::v1::MerchantProfile out = p;
  out.set_contact_phone(MaskPhone(p.contact_phone()));
  const std::string& account = p.settlement().account_number();
  out.mutable_settlement()->set_account_number(account.size() <= 4
                                                   ? std::string(account.size(), '*')
                                                   : std::string(account.size() - 4, '*') +
                                                         account.substr(account.size() - 4));
  return out;
}

std::string_view ApplicationStateName(ApplicationState s) {
  switch (s) {
    case perks::v1::APPLICATION_STATE_SUBMITTED:
      return "submitted";
    case perks::v1::APPLICATION_STATE_CHANGES_REQUESTED:
      return "changes requested";
    case perks::v1::APPLICATION_STATE_REJECTED:
      return "rejected";
    case perks::v1::APPLICATION_STATE_APPROVED:
      return "approved";
    default:
      return "new";
  }
}

std::string_view MerchantStateName(MerchantState s) {
  switch (s) {
    case perks::v1::MERCHANT_STATE_ACTIVE:
      return "active";
    case perks::v1::MERCHANT_STATE_SUSPENDED:
      return "suspended";
    case perks::v1::MERCHANT_STATE_TERMINATED:
      return "terminated";
    default:
      return "unknown";
  }
}

absl::StatusOr<ApplicationState> Decide(ApplicationState from, perks::v1::ReviewDecision decision,
                                        std::string_view reason) {
  if (from != perks::v1::APPLICATION_STATE_SUBMITTED) {
    return absl::FailedPreconditionError(
        absl::StrCat("application is ", std::string(ApplicationStateName(from)),
                     "; only a submitted application can be reviewed"));
  }
  switch (decision) {
    case perks::v1::REVIEW_DECISION_APPROVE:
      return perks::v1::APPLICATION_STATE_APPROVED;
    case perks::v1::REVIEW_DECISION_REJECT:
    case perks::v1::REVIEW_DECISION_REQUEST_CHANGES:
      if (absl::StripAsciiWhitespace(std::string(reason)).empty()) {
        return absl::InvalidArgumentError(
            "say why: a rejection or a request for changes needs a reason the merchant can act on");
      }
      return decision == perks::v1::REVIEW_DECISION_REJECT
                 ? perks::v1::APPLICATION_STATE_REJECTED
                 : perks::v1::APPLICATION_STATE_CHANGES_REQUESTED;
    default:
      return absl::InvalidArgumentError("decision must be approve, reject or request-changes");
  }
}

absl::Status CanResubmit(ApplicationState from) {
  if (from == perks::v1::APPLICATION_STATE_CHANGES_REQUESTED ||
      from == perks::v1::APPLICATION_STATE_REJECTED) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("application is ", std::string(ApplicationStateName(from)),
                   "; it can be submitted again only after a rejection or a request for changes"));
}

absl::StatusOr<MerchantState> NextMerchantState(MerchantState from,
                                                perks::v1::MerchantAction action) {
  using namespace perks::v1;
  switch (action) {
    case MERCHANT_ACTION_SUSPEND:
      if (from == MERCHANT_STATE_ACTIVE) return MERCHANT_STATE_SUSPENDED;
      break;
    case MERCHANT_ACTION_REINSTATE:
      if (from == MERCHANT_STATE_SUSPENDED) return MERCHANT_STATE_ACTIVE;
      break;
    case MERCHANT_ACTION_TERMINATE:
      if (from == MERCHANT_STATE_ACTIVE || from == MERCHANT_STATE_SUSPENDED) {
        return MERCHANT_STATE_TERMINATED;
      }
      break;
    default:
      return absl::InvalidArgumentError("action must be suspend, reinstate or terminate");
  }
  return absl::FailedPreconditionError(
      absl::StrCat("merchant is ", std::string(MerchantStateName(from)), "; cannot ",
                   absl::AsciiStrToLower(MerchantAction_Name(action).substr(16))));
}

}  // namespace perks::merchant
