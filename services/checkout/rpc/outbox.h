// The checkout service's outbox to the settlement service.
//
// A confirmed purchase or a refund writes its settlement event into the "outbox" family in the
// same write as the state change: either both are durable or neither is. One sender thread reads
// the outbox in order, posts a batch to the settlement service (which skips events it has
// posted), and deletes what was delivered. A crash anywhere leaves an event in the outbox until
// it is delivered; delivering it twice changes nothing. So every confirmed discount reaches the
// ledger exactly once.
#ifndef PERKS_SERVICES_CHECKOUT_RPC_OUTBOX_H_
#define PERKS_SERVICES_CHECKOUT_RPC_OUTBOX_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "perks/v1/checkout.pb.h"
#include "perks/v1/settlement.grpc.pb.h"
#include "services/checkout/rpc/courier.h"
#include "services/gate/gate.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks::checkout {

inline constexpr char kOutboxFamily[] = "outbox";

// The event a checkout's record makes once confirmed, or once refunded by `refund`; nullopt
// when there is nothing to settle (no discount).
std::optional<perks::v1::SettlementEvent> ConfirmedEvent(const perks::v1::Checkout& c);
std::optional<perks::v1::SettlementEvent> RefundedEvent(const perks::v1::Checkout& c,
                                                        const perks::v1::Refund& refund);

class SettlementOutbox final : public Courier {
 public:
  static constexpr size_t kBatchEventsMax = 500;

  // REQUIRES: db, writer and gate outlive the outbox.
  SettlementOutbox(storage::Db* db, storage::GroupCommitWriter* writer, const Gate* gate);
  ~SettlementOutbox() override;  // Stop()

  // Whether the outbox could read where its events stand; the service must not start otherwise.
  const absl::Status& Opened() const { return opened_; }
  // Adds `event` to the caller's write, after every event written before it. Only inside a
  // command of `writer` (which runs them one at a time, in order).
  void Put(storage::Txn& txn, const perks::v1::SettlementEvent& event);
  // Starts sending to the settlement service at `channel`.
  void Connect(std::shared_ptr<grpc::Channel> channel);

 private:
  absl::StatusOr<size_t> SendBatch() override;
  // The next batch: up to kBatchEventsMax events from `from`, with their keys.
  absl::Status ReadBatch(const std::string& from, const std::string& to,
                         perks::v1::PostRequest& req, std::vector<std::string>& keys) const;

  storage::Db* db_;
  storage::GroupCommitWriter* writer_;
  storage::Cf cf_;
  const Gate* gate_;
  std::unique_ptr<perks::v1::SettlementService::Stub> stub_;
  // Events are kept as outbox-at/<sequence>, in the order they were written. The sender reads on
  // from just after the last one it delivered (`cursor_`, its thread's own), so it never walks
  // over the deletions of those delivered before, which would make each look cost as much as
  // everything delivered since the last compaction.
  std::atomic<uint64_t> next_sequence_{1};  // beyond every stored event; set on construction
  std::string cursor_;
  absl::Status opened_;
  bool legacy_left_ = true;  // events kept as outbox/<event id> by earlier versions: sent first
};

}  // namespace perks::checkout

#endif  // PERKS_SERVICES_CHECKOUT_RPC_OUTBOX_H_
