// The settlement service over gRPC: decode, authorize, call the store, encode.
//
// Post takes the checkout service's events and writes each, with its postings and balances, in
// one group-commit write. Closing a day and checking a ledger read every entry, so they run on
// the service's own work thread, never on a gRPC callback thread. A close caught by a stop in
// the middle is finished on the next start.
#ifndef PERKS_SERVICES_SETTLEMENT_RPC_SETTLEMENT_SERVICE_H_
#define PERKS_SERVICES_SETTLEMENT_RPC_SETTLEMENT_SERVICE_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "perks/v1/settlement.grpc.pb.h"
#include "services/common/audit.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/work_queue.h"
#include "services/gate/gate.h"
#include "services/settlement/store/settlement_store.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks::settlement {

struct SettlementServiceOptions {
  std::string db_path;
  const Clock* clock = nullptr;
  storage::WriterOptions writer;
  size_t cache_bytes = 64 << 20;
  GateOptions gate;
  // When each business day ends, as a time of day in Asia/Shanghai: 24h is midnight.
  absl::Duration day_cutoff = absl::Hours(24);
  // Test hook, called at each named step of a day's close ("close.begun", "close.tallied");
  // a crash test aborts the process there.
  std::function<void(std::string_view step)> at_step;
};

class SettlementService final : public perks::v1::SettlementService::CallbackService {
 public:
  static absl::StatusOr<std::unique_ptr<SettlementService>> Open(const SettlementServiceOptions& o);
  ~SettlementService() override;

  const storage::Db& db() const { return *db_; }
  uint64_t LatestWrite() const { return db_->LatestSequence(); }
  // Finishes the work under way and queued writes, then closes the database.
  absl::Status Close();
  Gate& gate() { return gate_; }
  // Finishes the closes a stop left under way (on the work thread).
  void Recover();

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  Reactor* Post(Ctx* ctx, const perks::v1::PostRequest* req,
                perks::v1::PostResponse* resp) override;
  Reactor* GetBalances(Ctx* ctx, const perks::v1::GetBalancesRequest* req,
                       perks::v1::GetBalancesResponse* resp) override;
  Reactor* CheckLedger(Ctx* ctx, const perks::v1::CheckLedgerRequest* req,
                       perks::v1::LedgerCheck* resp) override;
  Reactor* CloseDay(Ctx* ctx, const perks::v1::CloseDayRequest* req,
                    perks::v1::BusinessDay* resp) override;
  Reactor* GetDay(Ctx* ctx, const perks::v1::GetDayRequest* req,
                  perks::v1::BusinessDay* resp) override;
  Reactor* GetStatement(Ctx* ctx, const perks::v1::GetStatementRequest* req,
                        perks::v1::StatementPage* resp) override;
  Reactor* ImportBankFile(Ctx* ctx, const perks::v1::ImportBankFileRequest* req,
                          perks::v1::Reconciliation* resp) override;
  Reactor* GetReconciliation(Ctx* ctx, const perks::v1::GetReconciliationRequest* req,
                             perks::v1::Reconciliation* resp) override;
  Reactor* ResolveDifference(Ctx* ctx, const perks::v1::ResolveDifferenceRequest* req,
                             perks::v1::Reconciliation* resp) override;
  Reactor* GetPayables(Ctx* ctx, const perks::v1::GetPayablesRequest* req,
                       perks::v1::GetPayablesResponse* resp) override;
  Reactor* RecordPayout(Ctx* ctx, const perks::v1::RecordPayoutRequest* req,
                        perks::v1::Payout* resp) override;
  Reactor* ListPayouts(Ctx* ctx, const perks::v1::ListPayoutsRequest* req,
                       perks::v1::ListPayoutsResponse* resp) override;
  Reactor* ListAudit(Ctx* ctx, const perks::v1::ListAuditRequest* req,
                     perks::v1::ListAuditResponse* resp) override;

 private:
  SettlementService(std::unique_ptr<storage::Db> db, const SettlementServiceOptions& o);
  using Done = absl::AnyInvocable<void(absl::Status)>;
  // On the work thread: tallies `job`'s days and writes them; `done` once durable.
  void FinishClose(std::string tenant, perks::storage::v1::CloseJob job, Done done);
  // A change made once per request id, with its audit entry; `apply` runs on the writer.
  void Mutate(const perks::v1::Caller& caller, std::string_view method,
              const google::protobuf::Message& req, google::protobuf::Message* resp,
              absl::AnyInvocable<absl::Status(storage::Txn&)> apply, Done done);
  void AtStep(std::string_view step) const {
    if (at_step_) at_step_(step);
  }

  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  SettlementStore store_;
  const Clock* clock_;
  IdempotencyStore idempotency_;
  AuditLog audit_;
  Gate gate_;
  std::function<void(std::string_view)> at_step_;
  std::mutex mu_;
  absl::flat_hash_set<std::string> closing_;  // cities whose close runs in this process
  WorkQueue work_;                            // last: its jobs use the members above
};

}  // namespace perks::settlement

#endif  // PERKS_SERVICES_SETTLEMENT_RPC_SETTLEMENT_SERVICE_H_
