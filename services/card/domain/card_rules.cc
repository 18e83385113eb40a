#include "services/card/domain/card_rules.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "services/common/money.h"
#include "services/common/personal.h"

namespace perks::card {
namespace {

using perks::v1::Balance;
using perks::v1::BalanceKind;
using perks::v1::CardAction;
using perks::v1::CardState;

constexpr size_t kNameBytesMax = 64;        // a member's name, UTF-8
constexpr size_t kIdentifierBytesMax = 40;  // program ids, tags, balance names, org codes

bool IsIdentifierChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

absl::Status CardUnusable(CardState state, const std::string& doing) {
  return absl::FailedPreconditionError(absl::StrCat(
      "card is ", std::string(StateName(state)), "; cannot ", doing,
      state == perks::v1::CARD_STATE_LOST ? " (replace it: balances move to the new card)" : ""));
}

}  // namespace

absl::Status ValidateName(std::string_view what_view, std::string_view value_view) {
  std::string what(what_view), value(value_view);
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (value.size() > kIdentifierBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", value.size(), " characters; at most ", kIdentifierBytesMax));
  }
  if (!std::all_of(value.begin(), value.end(), IsIdentifierChar)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " '", value, "' may hold only letters, digits, '-' and '_'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ValidMember> ValidateMemberRow(const perks::v1::MemberRow& row) {
  ValidMember m;
  m.name = std::string(absl::StripAsciiWhitespace(row.name()));
  if (m.name.empty()) return absl::InvalidArgumentError("name is empty");
  if (m.name.size() > kNameBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("name is ", m.name.size(), " bytes; at most ", kNameBytesMax));
  }
  m.id_number = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(row.id_number()));
  if (absl::Status s = ValidateIdNumber(m.id_number); !s.ok()) return s;
  std::string phone(absl::StripAsciiWhitespace(row.phone()));
  if (!phone.empty()) {
    if (phone.size() != 11 || phone[0] != '1' || !AllDigits(phone)) {
      return absl::InvalidArgumentError(
          "phone must be an 11-digit mobile number starting with 1, or empty");
    }
    m.phone_masked = MaskPhone(phone);
  }
  m.org_code = std::string(absl::StripAsciiWhitespace(row.org_code()));
  if (absl::Status s = ValidateName("union organization code", m.org_code); !s.ok()) return s;
  for (const auto& raw : row.tags()) {
    std::string tag = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
    if (tag.empty()) continue;
    if (absl::Status s = ValidateName("tag", tag); !s.ok()) return s;
    m.tags.push_back(std::move(tag));
  }
  std::sort(m.tags.begin(), m.tags.end());
  m.tags.erase(std::unique(m.tags.begin(), m.tags.end()), m.tags.end());
  if (m.tags.size() > kTagsPerMemberMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(m.tags.size(), " tags; at most ", kTagsPerMemberMax, " per member"));
  }
  return m;
}

absl::Status ValidateProgram(const perks::v1::Program& p) {
  if (absl::Status s = ValidateName("program_id", p.program_id()); !s.ok()) return s;
  if (p.tenant_id().empty()) {
    return absl::InvalidArgumentError("a program needs the city (tenant_id) that runs it");
  }
  if (absl::Status s = ValidateName("tenant_id", p.tenant_id()); !s.ok()) return s;
  if (p.name().empty() || p.name().size() > kNameBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("program name must be 1 to ", kNameBytesMax, " bytes"));
  }
  if (!AllDigits(p.bin_prefix()) || p.bin_prefix().size() < 6 || p.bin_prefix().size() > 10) {
    return absl::InvalidArgumentError("bin_prefix must be 6 to 10 digits");
  }
  if (p.card_number_length() < 16 || p.card_number_length() > 19) {
    return absl::InvalidArgumentError("card_number_length must be 16 to 19");
  }
  // At least 6 random digits, so a program has room for a million cards.
  if (static_cast<int>(p.bin_prefix().size()) + 1 + 6 > p.card_number_length()) {
    return absl::InvalidArgumentError(
        "bin_prefix is too long for card_number_length: leave at least 6 digits for the card");
  }
  return absl::OkStatus();
}

std::string NewCardNumber(std::string_view bin_prefix, int length, std::mt19937_64& rng) {
  std::string number(bin_prefix);
  std::uniform_int_distribution<int> digit(0, 9);
  while (static_cast<int>(number.size()) < length - 1) {
    number.push_back(static_cast<char>('0' + digit(rng)));
  }
  number.push_back(LuhnCheckDigit(number));
  return number;
}

absl::Status ValidateCardNumber(std::string_view number) {
  if (!AllDigits(number) || number.size() < 12 || number.size() > 19) {
    return absl::InvalidArgumentError("card number must be 12 to 19 digits");
  }
  if (!LuhnValid(number)) {
    return absl::InvalidArgumentError(
        "card number fails its check digit; re-read the card or re-type the number");
  }
  return absl::OkStatus();
}

std::string_view StateName(CardState state) {
  switch (state) {
    case perks::v1::CARD_STATE_ISSUED:
      return "issued";
    case perks::v1::CARD_STATE_ACTIVE:
      return "active";
    case perks::v1::CARD_STATE_FROZEN:
      return "frozen";
    case perks::v1::CARD_STATE_LOST:
      return "lost";
    case perks::v1::CARD_STATE_REPLACED:
      return "replaced";
    case perks::v1::CARD_STATE_CLOSED:
      return "closed";
    default:
      return "unknown";
  }
}

bool IsLive(CardState state) {
  return state == perks::v1::CARD_STATE_ISSUED || state == perks::v1::CARD_STATE_ACTIVE ||
         state == perks::v1::CARD_STATE_FROZEN || state == perks::v1::CARD_STATE_LOST;
}

absl::StatusOr<CardState> NextState(CardState from, CardAction action) {
  using namespace perks::v1;
  struct Edge {
    CardAction action;
    CardState from;
    CardState to;
  };
  static constexpr Edge kEdges[] = {
      {CARD_ACTION_ACTIVATE, CARD_STATE_ISSUED, CARD_STATE_ACTIVE},
      {CARD_ACTION_FREEZE, CARD_STATE_ACTIVE, CARD_STATE_FROZEN},
      {CARD_ACTION_UNFREEZE, CARD_STATE_FROZEN, CARD_STATE_ACTIVE},
      {CARD_ACTION_REPORT_LOST, CARD_STATE_ACTIVE, CARD_STATE_LOST},
      {CARD_ACTION_REPORT_LOST, CARD_STATE_FROZEN, CARD_STATE_LOST},
      {CARD_ACTION_REPORT_LOST, CARD_STATE_ISSUED, CARD_STATE_LOST},
      {CARD_ACTION_CLOSE, CARD_STATE_ISSUED, CARD_STATE_CLOSED},
      {CARD_ACTION_CLOSE, CARD_STATE_ACTIVE, CARD_STATE_CLOSED},
      {CARD_ACTION_CLOSE, CARD_STATE_FROZEN, CARD_STATE_CLOSED},
      {CARD_ACTION_CLOSE, CARD_STATE_LOST, CARD_STATE_CLOSED},
      // A replaced card is closed when its plastic comes back or its file is archived.
      {CARD_ACTION_CLOSE, CARD_STATE_REPLACED, CARD_STATE_CLOSED},
  };
  if (!CardAction_IsValid(action) || action == CARD_ACTION_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        "action must be one of activate, freeze, unfreeze, report-lost, close");
  }
  std::vector<std::string> allowed_from;
  for (const Edge& e : kEdges) {
    if (e.action != action) continue;
    if (e.from == from) return e.to;
    allowed_from.emplace_back(StateName(e.from));
  }
  std::string verb = absl::AsciiStrToLower(CardAction_Name(action).substr(12));
  return absl::FailedPreconditionError(absl::StrCat("card is ", std::string(StateName(from)), "; ",
                                                    verb, " applies only to a card that is ",
                                                    absl::StrJoin(allowed_from, " or ")));
}

absl::Status CanReplace(CardState state) {
  if (state == perks::v1::CARD_STATE_ACTIVE || state == perks::v1::CARD_STATE_FROZEN ||
      state == perks::v1::CARD_STATE_LOST) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("card is ", std::string(StateName(state)),
                   "; only an active, frozen or lost card can be replaced"));
}

absl::Status ValidateCredit(const perks::v1::CreditBalanceRequest& req) {
  if (absl::Status s = ValidateName("balance_name", req.balance_name()); !s.ok()) return s;
  if (!perks::v1::BalanceKind_IsValid(req.kind()) ||
      req.kind() == perks::v1::BALANCE_KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("kind must be transit_credit, voucher or medical_payout");
  }
  if (req.amount_fen() <= 0 || req.amount_fen() > kAmountFenMax) {
    return absl::InvalidArgumentError(absl::StrCat("amount_fen must be 1 to ", kAmountFenMax, " (",
                                                   FormatYuan(kAmountFenMax), " yuan)"));
  }
  bool voucher = req.kind() == perks::v1::BALANCE_KIND_VOUCHER;
  if (!voucher && (req.allowed_categories_size() > 0 || req.expires_at_unix_ms() != 0)) {
    return absl::InvalidArgumentError("only vouchers carry allowed categories or an expiry");
  }
  for (const auto& c : req.allowed_categories()) {
    if (absl::Status s = ValidateName("allowed category", c); !s.ok()) return s;
  }
  if (req.expires_at_unix_ms() < 0) {
    return absl::InvalidArgumentError("expires_at_unix_ms must be 0 (never) or a time");
  }
  if (req.memo().size() > 200) return absl::InvalidArgumentError("memo is over 200 bytes");
  return absl::OkStatus();
}

absl::Status ValidateDebit(const perks::v1::DebitBalanceRequest& req) {
  if (absl::Status s = ValidateName("balance_name", req.balance_name()); !s.ok()) return s;
  if (req.amount_fen() <= 0 || req.amount_fen() > kAmountFenMax) {
    return absl::InvalidArgumentError(absl::StrCat("amount_fen must be 1 to ", kAmountFenMax, " (",
                                                   FormatYuan(kAmountFenMax), " yuan)"));
  }
  if (req.memo().size() > 200) return absl::InvalidArgumentError("memo is over 200 bytes");
  return absl::OkStatus();
}

bool SameCreditTerms(const Balance& existing, const perks::v1::CreditBalanceRequest& req) {
  std::vector<std::string> wanted(req.allowed_categories().begin(), req.allowed_categories().end());
  std::sort(wanted.begin(), wanted.end());
  std::vector<std::string> have(existing.allowed_categories().begin(),
                                existing.allowed_categories().end());
  std::sort(have.begin(), have.end());
  return existing.kind() == req.kind() && wanted == have &&
         existing.expires_at_unix_ms() == req.expires_at_unix_ms();
}

absl::StatusOr<Balance> ApplyCredit(CardState state, const Balance* existing,
                                    const perks::v1::CreditBalanceRequest& req) {
  if (state != perks::v1::CARD_STATE_ISSUED && state != perks::v1::CARD_STATE_ACTIVE &&
      state != perks::v1::CARD_STATE_FROZEN) {
    return CardUnusable(state, "credit it");
  }
  Balance out;
  if (existing == nullptr) {
    out.set_name(req.balance_name());
    out.set_kind(req.kind());
    *out.mutable_allowed_categories() = req.allowed_categories();
    std::sort(out.mutable_allowed_categories()->begin(), out.mutable_allowed_categories()->end());
    out.set_expires_at_unix_ms(req.expires_at_unix_ms());
    out.set_amount_fen(req.amount_fen());
    return out;
  }
  out = *existing;
  if (!SameCreditTerms(*existing, req)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "balance '", req.balance_name(),
        "' already exists with another kind, categories or expiry; credit it with the same "
        "terms or use a new balance name"));
  }
  std::optional<int64_t> sum = AddFen(existing->amount_fen(), req.amount_fen());
  if (!sum || *sum > kAmountFenMax) {
    return absl::FailedPreconditionError(absl::StrCat(
        "balance '", req.balance_name(), "' would exceed ", FormatYuan(kAmountFenMax), " yuan"));
  }
  out.set_amount_fen(*sum);
  return out;
}

absl::StatusOr<Balance> ApplyDebit(CardState state, const Balance* existing,
                                   const perks::v1::DebitBalanceRequest& req, int64_t now_unix_ms) {
  if (state != perks::v1::CARD_STATE_ACTIVE) return CardUnusable(state, "spend from it");
  if (existing == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("card has no balance named '", req.balance_name(), "'"));
  }
  if (existing->expires_at_unix_ms() != 0 && now_unix_ms >= existing->expires_at_unix_ms()) {
    return absl::FailedPreconditionError(
        absl::StrCat("balance '", req.balance_name(), "' has expired"));
  }
  if (existing->allowed_categories_size() > 0 &&
      std::find(existing->allowed_categories().begin(), existing->allowed_categories().end(),
                req.merchant_category()) == existing->allowed_categories().end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "balance '", req.balance_name(), "' may be spent only at merchants of category ",
        absl::StrJoin(existing->allowed_categories(), ", "),
        req.merchant_category().empty() ? "; the request names no merchant_category" : ""));
  }
  if (req.amount_fen() > existing->amount_fen()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "balance '", req.balance_name(), "' holds ", FormatYuan(existing->amount_fen()),
        " yuan; cannot debit ", FormatYuan(req.amount_fen())));
  }
  Balance out = *existing;
  out.set_amount_fen(existing->amount_fen() - req.amount_fen());
  return out;
}

}  // namespace perks::card
