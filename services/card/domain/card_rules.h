// The card service's rules: what a valid member row, program, card number, state change and
// balance movement are. Pure functions: no gRPC, no RocksDB, no clock reads (time is passed in).
#ifndef PERKS_SERVICES_CARD_DOMAIN_CARD_RULES_H_
#define PERKS_SERVICES_CARD_DOMAIN_CARD_RULES_H_

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "perks/v1/card.pb.h"

namespace perks::card {

inline constexpr size_t kImportRowsMax = 1000;    // rows per ImportMembers call
inline constexpr size_t kIssueMembersMax = 1000;  // members per IssueCards call
inline constexpr int32_t kPageSizeMax = 1000;
inline constexpr size_t kTagsPerMemberMax = 16;

// A member row that passed validation, normalized for storage. Holds the full ID number only
// until it is hashed; it is never stored or logged.
struct ValidMember {
  std::string name;
  std::string id_number;  // upper-case check character
  std::string phone_masked;
  std::string org_code;
  std::vector<std::string> tags;  // sorted, unique
};

// Checks one imported row. The error says what is wrong with the row, never echoing the ID number.
absl::StatusOr<ValidMember> ValidateMemberRow(const perks::v1::MemberRow& row);

absl::Status ValidateProgram(const perks::v1::Program& program);
absl::Status ValidateName(std::string_view what, std::string_view value);  // ids, tags, batches

// A fresh card number: bin_prefix, random digits, Luhn check digit; `length` digits in all.
// REQUIRES: ValidateProgram accepted (bin_prefix, length).
std::string NewCardNumber(std::string_view bin_prefix, int length, std::mt19937_64& rng);

// Is `number` shaped like a card number at all (digits, 12-19 long, Luhn valid)?
absl::Status ValidateCardNumber(std::string_view number);

// The state `action` moves a card in `from` to, or FAILED_PRECONDITION saying why it cannot.
absl::StatusOr<perks::v1::CardState> NextState(perks::v1::CardState from,
                                               perks::v1::CardAction action);
// Whether a card in `state` may be replaced by a new number.
absl::Status CanReplace(perks::v1::CardState state);
// A live card holds its member's one place in a program: issued, active, frozen or lost.
bool IsLive(perks::v1::CardState state);

std::string_view StateName(perks::v1::CardState state);

// Shape checks of balance requests, before any state is read.
absl::Status ValidateCredit(const perks::v1::CreditBalanceRequest& req);
// Whether `req` may credit the balance `existing` of the same name: the same kind, categories (in
// any order) and expiry.
bool SameCreditTerms(const perks::v1::Balance& existing,
                     const perks::v1::CreditBalanceRequest& req);
absl::Status ValidateDebit(const perks::v1::DebitBalanceRequest& req);

// The balance after a credit. `existing` is null when the card has no balance of that name.
absl::StatusOr<perks::v1::Balance> ApplyCredit(perks::v1::CardState state,
                                               const perks::v1::Balance* existing,
                                               const perks::v1::CreditBalanceRequest& req);
// The balance after a debit at time `now_unix_ms`.
absl::StatusOr<perks::v1::Balance> ApplyDebit(perks::v1::CardState state,
                                              const perks::v1::Balance* existing,
                                              const perks::v1::DebitBalanceRequest& req,
                                              int64_t now_unix_ms);

}  // namespace perks::card

#endif  // PERKS_SERVICES_CARD_DOMAIN_CARD_RULES_H_
