// What goes back to card balances: of a reversed or expired authorization, all that was paid from
// them; of a refund, its part.
//
// A return is written down (a CreditBalance request, keyed by its request id) in the same write
// as the state change that makes it due, so both are durable or neither is. One thread sends each
// to the card service, which credits a request id once, and deletes it once credited. A crash
// anywhere leaves it until it is credited; crediting it twice changes nothing.
#ifndef PERKS_SERVICES_CHECKOUT_RPC_BALANCE_RETURNS_H_
#define PERKS_SERVICES_CHECKOUT_RPC_BALANCE_RETURNS_H_

#include <memory>

#include "perks/v1/card.grpc.pb.h"
#include "services/checkout/rpc/courier.h"
#include "services/gate/gate.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks::checkout {

class BalanceReturns final : public Courier {
 public:
  static constexpr size_t kBatchMax = 100;

  // Kept in `family` of `db`, under "return/". REQUIRES: db, writer and gate outlive it.
  BalanceReturns(storage::Db* db, storage::GroupCommitWriter* writer, storage::Cf family,
                 const Gate* gate);
  ~BalanceReturns() override;  // Stop()

  // Adds `credit` to the caller's write. Only inside a command of `writer`.
  void Put(storage::Txn& txn, const perks::v1::CreditBalanceRequest& credit);
  // Starts crediting through the card service at `channel`.
  void Connect(std::shared_ptr<grpc::Channel> channel);

 private:
  absl::StatusOr<size_t> SendBatch() override;

  storage::Db* db_;
  storage::GroupCommitWriter* writer_;
  storage::Cf cf_;
  const Gate* gate_;
  std::unique_ptr<perks::v1::CardService::Stub> stub_;
};

}  // namespace perks::checkout

#endif  // PERKS_SERVICES_CHECKOUT_RPC_BALANCE_RETURNS_H_
