// Reservations: what a checkout holds of the campaigns' limits and budgets between its
// authorization and its confirmation, durable in the promotion service's RocksDB.
//
// The UsageBook in memory decides (one lock, so no interleaving takes a limit past its value);
// RocksDB remembers. A reservation is held in memory by the writer command that records it, so a
// later command sees it; if that write fails, Undo gives it back. Commit, Release and expiry change
// the record first and the memory after the write is durable: until then the hold still counts,
// which can only refuse a discount, never grant one too many.
//
// What survives a restart: each open reservation (its holds, its expiry) and, per limit, what
// committed reservations have used (kept up to date by each Commit, so a start reads one record
// per counter instead of every reservation ever made).
//
// Expiry: an ExpiryQueue (an Asio timer) hands back each reservation whose moment has come; a
// writer command expires it if it is still held.
#ifndef PERKS_SERVICES_PROMOTION_RPC_RESERVATIONS_H_
#define PERKS_SERVICES_PROMOTION_RPC_RESERVATIONS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "perks/storage/v1/promotion_records.pb.h"
#include "perks/v1/promotion.pb.h"
#include "services/common/clock.h"
#include "services/common/expiry_queue.h"
#include "services/promotion/domain/usage.h"
#include "services/promotion/store/promotion_store.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks::promotion {

class Reservations {
 public:
  using Rules = std::function<std::shared_ptr<const RuleSet>()>;

  // REQUIRES: db, writer and clock outlive this; db has PromotionStore::ColumnFamilies().
  Reservations(storage::Db* db, storage::GroupCommitWriter* writer, const Clock* clock,
               Rules rules);
  ~Reservations();  // Stop()

  // On start, before any call: what was used, what is still held, and when it expires.
  absl::Status Restore();
  // Stops expiring. Idempotent.
  void Stop();

  // Called with each reservation's id once it has expired and its holds have returned (tests).
  void OnExpired(std::function<void(const std::string&)> expired) { expired_ = std::move(expired); }

  // On the writer. Evaluates `basket` with every limit and budget, holds what applies and records
  // the reservation. `held` gets what was held, for Undo.
  absl::Status Reserve(storage::Txn& txn, const perks::v1::Basket& basket, const Mutation& m,
                       perks::v1::Reservation* out, std::vector<Hold>* held);
  // The Reserve's write failed: what it held returns.
  void Undo(const std::vector<Hold>& held);
  // After Reserve is durable: its expiry is set.
  void Reserved(const perks::v1::Reservation& r);

  // On the writer. HELD becomes COMMITTED (answering a committed one again); `settled` gets the
  // holds to pass to Committed once durable. A till may settle its own merchant's only.
  absl::Status Commit(storage::Txn& txn, const perks::v1::CommitRequest& req, const Mutation& m,
                      perks::v1::Reservation* out, std::vector<Hold>* settled);
  void Committed(const std::string& reservation_id, const std::vector<Hold>& settled);
  // On the writer. HELD becomes RELEASED (answering a released or expired one again).
  absl::Status Release(storage::Txn& txn, const perks::v1::ReleaseRequest& req, const Mutation& m,
                       perks::v1::Reservation* out, std::vector<Hold>* settled);
  void Released(const std::string& reservation_id, const std::vector<Hold>& settled);

  // On the writer. Grants what `req.event` earns `member` (counted as used at once) and records
  // it; `held` gets what was held, for Undo, or for Committed once durable.
  absl::Status Grant(storage::Txn& txn, const perks::v1::GrantRequest& req,
                     const perks::v1::Basket& member, const Mutation& m,
                     perks::v1::GrantResult* out, std::vector<Hold>* held);

  absl::StatusOr<perks::v1::Reservation> Get(const std::string& reservation_id,
                                             const Mutation& scope) const;
  // `spec`'s budgets: value, used, held, left.
  perks::v1::CampaignBudgets Budgets(const perks::v1::CampaignSpec& spec) const;

  const UsageBook& book() const { return book_; }
  size_t ExpiriesPending() const { return expiry_.Pending(); }

 private:
  using Record = perks::storage::v1::ReservationRecord;
  // The held reservation `id` may be settled by `m`'s caller: NOT_FOUND for another city's (or
  // another merchant's) reservation.
  absl::StatusOr<Record> LoadFor(storage::Txn& txn, const std::string& id, const Mutation& m);
  // HELD → `state`; the record is written, the memory is left for after the write.
  absl::Status Settle(storage::Txn& txn, Record& rec, perks::v1::ReservationState state,
                      const std::string& reason, int64_t now_ms, std::vector<Hold>* settled);
  // Adds what `holds` use to the used-counter records.
  absl::Status AddUsed(storage::Txn& txn, const std::vector<Hold>& holds);
  // From the expiry queue: expires those still held.
  void Expire(std::vector<std::string> ids);

  storage::Db* db_;
  storage::GroupCommitWriter* writer_;
  const Clock* clock_;
  Rules rules_;
  storage::Cf reservations_, usage_;
  UsageBook book_;
  std::function<void(const std::string&)> expired_;
  ExpiryQueue expiry_;  // last: it calls back into the members above
};

}  // namespace perks::promotion

#endif  // PERKS_SERVICES_PROMOTION_RPC_RESERVATIONS_H_
