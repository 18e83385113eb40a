// The settlement service's data: the ledger and its balances, business days and their close,
// statements, reconciliations and payouts. The only code that knows the keys
// (settlement_keys.h). Writes take a storage::Txn on the group-commit writer; reads go to the Db.
//
// A day closes in two writes with a read between them:
//   1. BeginClose marks the city closed through the day (later events post in the next open day)
//      and writes the close job down;
//   2. Tally reads the closed days' entries, which no longer change, and sums their statements;
//   3. FinishClose writes each day's BusinessDay and ends the job.
// A crash between 1 and 3 leaves the job, and Jobs() lists it for the next start to finish.
#ifndef PERKS_SERVICES_SETTLEMENT_STORE_SETTLEMENT_STORE_H_
#define PERKS_SERVICES_SETTLEMENT_STORE_SETTLEMENT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "perks/storage/v1/settlement_records.pb.h"
#include "perks/v1/settlement.pb.h"
#include "services/settlement/domain/reconcile.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks::settlement {

class SettlementStore {
 public:
  static constexpr uint32_t kSchemaVersion = 1;
  static std::vector<std::string> ColumnFamilies();

  // REQUIRES: db outlives the store; ValidateCutoff(cutoff) is OK.
  SettlementStore(storage::Db* db, absl::Duration cutoff);
  storage::Cf idempotency_family() const { return idempotency_; }
  absl::Duration cutoff() const { return cutoff_; }

  // --- on the writer ---

  // Posts `event` (REQUIRES: PostingsOf(event) is OK) in its business day, or the next open one
  // when that day is closed. False when it was posted before: nothing is written.
  absl::StatusOr<bool> Post(storage::Txn& txn, const perks::v1::SettlementEvent& event);

  // Step 1 of a close of `day`: the close job to run (new, or one under way that covers `day`),
  // or nullopt when `day` is closed already. REFUSES (FAILED_PRECONDITION) a day that has not
  // ended at `now`, and (UNAVAILABLE) a later day while another close of the city is under way.
  absl::StatusOr<std::optional<perks::storage::v1::CloseJob>> BeginClose(storage::Txn& txn,
                                                                         const std::string& tenant,
                                                                         absl::CivilDay day,
                                                                         absl::Time now,
                                                                         const std::string& actor);
  // Step 3: the days Tally made, written; the job ends.
  absl::Status FinishClose(storage::Txn& txn, const std::string& tenant,
                           const std::vector<perks::v1::BusinessDay>& days,
                           const std::vector<perks::v1::AccountBalance>& closing);

  // A payout, posted in today's open business day. FAILED_PRECONDITION when it is more than the
  // funder owes the merchant now.
  absl::Status PostPayout(storage::Txn& txn, perks::v1::Payout& payout, absl::Time now);

  absl::Status SaveReconciliation(storage::Txn& txn, const perks::v1::Reconciliation& r);

  // --- reads ---

  // Step 2: the statements, payables and closing balances of each day of `job` with entries.
  struct Tallied {
    std::vector<perks::v1::BusinessDay> days;
    std::vector<perks::v1::AccountBalance> closing;  // at the end of the job's last day
  };
  absl::StatusOr<Tallied> Tally(const std::string& tenant,
                                const perks::storage::v1::CloseJob& job) const;
  // Every city with a close under way.
  absl::StatusOr<std::vector<std::pair<std::string, perks::storage::v1::CloseJob>>> Jobs() const;

  // The day as it stands: OPEN (with its bounds), CLOSING or CLOSED.
  absl::StatusOr<perks::v1::BusinessDay> GetDay(const std::string& tenant,
                                                absl::CivilDay day) const;
  absl::StatusOr<std::vector<perks::v1::AccountBalance>> Balances(const std::string& tenant) const;
  // The balances at the end of closed day `day` (FAILED_PRECONDITION for a day not closed).
  absl::StatusOr<std::vector<perks::v1::AccountBalance>> ClosingBalances(const std::string& tenant,
                                                                         absl::CivilDay day) const;
  absl::StatusOr<perks::v1::LedgerCheck> Check(const std::string& tenant) const;

  // One page of a closed day's statement. REQUIRES: day.state() is CLOSED.
  absl::Status StatementPage(const perks::v1::BusinessDay& day,
                             const perks::v1::GetStatementRequest& req,
                             perks::v1::StatementPage* out) const;
  // Our lines of a closed day for one funder, in statement order.
  absl::StatusOr<std::vector<OurLine>> FunderLines(const std::string& tenant, absl::CivilDay day,
                                                   perks::v1::Funder funder) const;

  absl::StatusOr<std::optional<perks::storage::v1::StoredReconciliation>> GetReconciliation(
      storage::Txn* txn, const std::string& tenant, absl::CivilDay day,
      perks::v1::Funder funder) const;

  absl::Status Payables(const perks::v1::GetPayablesRequest& req, absl::CivilDay from,
                        absl::CivilDay to, perks::v1::GetPayablesResponse* out) const;
  absl::Status ListPayouts(const perks::v1::ListPayoutsRequest& req,
                           perks::v1::ListPayoutsResponse* out) const;

 private:
  // The first day a posting may go in: the day after the last closed one (0 for none closed).
  absl::StatusOr<uint64_t> FirstOpenDay(storage::Txn& txn, const std::string& tenant) const;
  absl::StatusOr<perks::storage::v1::ClosedThrough> ClosedThrough(storage::Txn* txn,
                                                                  const std::string& tenant) const;
  absl::Status WriteEntry(storage::Txn& txn, const std::string& tenant, uint64_t day,
                          const perks::storage::v1::LedgerEntry& entry);

  storage::Db* db_;
  absl::Duration cutoff_;
  storage::Cf entries_, events_, balances_, days_, recon_, payouts_, idempotency_;
};

}  // namespace perks::settlement

#endif  // PERKS_SERVICES_SETTLEMENT_STORE_SETTLEMENT_STORE_H_
