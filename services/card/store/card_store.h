// The card service's state in its own RocksDB: the only code that knows its keys (card_keys.h).
//
// Methods taking a Txn run on the group-commit writer (one at a time, see storage/writer.h) and
// write nothing on error; the others read committed state and may run on any thread.
#ifndef PERKS_SERVICES_CARD_STORE_CARD_STORE_H_
#define PERKS_SERVICES_CARD_STORE_CARD_STORE_H_

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "perks/storage/v1/card_records.pb.h"
#include "perks/v1/card.pb.h"
#include "services/card/domain/card_rules.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks::card {

// Who asks for a change, and when: recorded on every transition and movement.
struct Mutation {
  std::string actor;
  std::string request_id;
  int64_t now_unix_ms = 0;
  // The one city the caller may touch; empty: every city. Cards, members, programs and batches
  // of other cities are answered as not found.
  std::string tenant_scope;
};

// An imported row after validation, with the line it came from.
struct ImportRow {
  int64_t line = 0;
  ValidMember member;
};

class CardStore {
 public:
  static constexpr uint32_t kSchemaVersion = 1;
  static std::vector<std::string> ColumnFamilies();

  // REQUIRES: db was opened with ColumnFamilies(); id_hash_key is the installation's secret.
  CardStore(storage::Db* db, std::string id_hash_key);

  storage::Cf idempotency_family() const { return idempotency_; }

  // The card id for a card number: a keyed hash, so ids reveal nothing of the number.
  std::string CardIdFor(std::string_view card_number) const;

  // The member id for an ID number in a city: a keyed hash, so the number itself is never stored.
  std::string MemberIdFor(std::string_view tenant_id, std::string_view id_number) const;

  absl::Status CreateProgram(storage::Txn& txn, const perks::v1::Program& program,
                             const Mutation& m, perks::v1::Program* out);
  // REQUIRES: m.tenant_scope names the members' city.
  absl::Status ImportMembers(storage::Txn& txn, const std::vector<ImportRow>& rows,
                             std::string_view issue_program_id, std::string_view batch_id,
                             const Mutation& m, perks::v1::ImportMembersResponse* out);
  absl::Status IssueCards(storage::Txn& txn, std::string_view program_id,
                          const std::vector<std::string>& member_ids, std::string_view batch_id,
                          const Mutation& m, perks::v1::IssueCardsResponse* out);
  absl::Status ChangeState(storage::Txn& txn, const perks::v1::ChangeCardStateRequest& req,
                           const Mutation& m, perks::v1::Card* out);
  absl::Status Replace(storage::Txn& txn, const perks::v1::ReplaceCardRequest& req,
                       const Mutation& m, perks::v1::ReplaceCardResponse* out);
  absl::Status Credit(storage::Txn& txn, const perks::v1::CreditBalanceRequest& req,
                      const Mutation& m, perks::v1::BalanceChange* out);
  absl::Status Debit(storage::Txn& txn, const perks::v1::DebitBalanceRequest& req,
                     const Mutation& m, perks::v1::BalanceChange* out);

  // Reads: `tenant_scope` as in Mutation.
  absl::StatusOr<perks::v1::Card> Lookup(const perks::v1::CardRef& ref,
                                         std::string_view tenant_scope) const;
  absl::StatusOr<perks::v1::Member> GetMember(std::string_view member_id,
                                              std::string_view tenant_scope) const;
  absl::StatusOr<std::vector<perks::v1::Program>> ListPrograms(std::string_view tenant_scope) const;
  absl::Status ExportCards(const perks::v1::ExportCardsRequest& req, std::string_view tenant_scope,
                           perks::v1::ExportCardsResponse* out) const;
  absl::Status ListHistory(const perks::v1::ListCardHistoryRequest& req,
                           std::string_view tenant_scope,
                           perks::v1::ListCardHistoryResponse* out) const;

 private:
  // Issues one card; REQUIRES: the member holds no live card in the program.
  absl::StatusOr<perks::storage::v1::CardRecord> NewCard(storage::Txn& txn,
                                                         const perks::v1::Program& program,
                                                         std::string_view member_id,
                                                         std::string_view batch_id,
                                                         const Mutation& m);
  absl::Status AddToBatch(storage::Txn& txn, std::string_view batch_id, std::string_view program_id,
                          int64_t cards, const Mutation& m);
  void AppendHistory(storage::Txn& txn, perks::storage::v1::CardRecord& card,
                     perks::v1::HistoryEntry entry, const Mutation& m);
  void PutCard(storage::Txn& txn, const perks::storage::v1::CardRecord& card);
  // Credits and debits differ only in the rule that computes the balance after.
  using BalanceRule = std::function<absl::StatusOr<perks::v1::Balance>(
      perks::v1::CardState state, const perks::v1::Balance* existing)>;
  absl::Status MoveBalance(storage::Txn& txn, const perks::v1::CardRef& ref,
                           const std::string& balance_name, int64_t delta_fen,
                           const std::string& memo, const BalanceRule& rule, const Mutation& m,
                           perks::v1::BalanceChange* out);
  template <typename Reader>
  absl::StatusOr<std::vector<std::string>> MemberTags(Reader& r, std::string_view member_id) const;
  template <typename Reader>
  absl::StatusOr<perks::storage::v1::CardRecord> FindCard(Reader& r, const perks::v1::CardRef& ref,
                                                          std::string_view tenant_scope) const;
  // The program, when it exists and is in scope.
  template <typename Reader>
  absl::StatusOr<perks::v1::Program> FindProgram(Reader& r, std::string_view program_id,
                                                 std::string_view tenant_scope) const;
  absl::StatusOr<perks::v1::Card> ToApi(const perks::storage::v1::CardRecord& rec,
                                        const std::vector<std::string>& tags) const;

  storage::Db* db_;
  std::string id_hash_key_;
  storage::Cf programs_, members_, cards_, index_, history_, batches_, idempotency_;
  std::mt19937_64 rng_;  // writer thread only
};

perks::v1::Member MemberToApi(const perks::storage::v1::MemberRecord& rec);

}  // namespace perks::card

#endif  // PERKS_SERVICES_CARD_STORE_CARD_STORE_H_
