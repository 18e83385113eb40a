#include "services/checkout/rpc/balance_returns.h"

#include <string>
#include <vector>

#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "storage/keys.h"

namespace perks::checkout {
namespace {

storage::Key ReturnKey(std::string_view request_id) {
  return storage::Key().Str("return").Str(request_id);
}
storage::Key ReturnPrefix() { return storage::Key().Str("return"); }
// return-parked/<request id>: a return the card service refused for good, kept for an operator.
storage::Key ParkedKey(std::string_view request_id) {
  return storage::Key().Str("return-parked").Str(request_id);
}

// The card service's refusals that sending again will not change.
bool Refused(absl::StatusCode code) {
  return code == absl::StatusCode::kFailedPrecondition || code == absl::StatusCode::kNotFound ||
         code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kAlreadyExists ||
         code == absl::StatusCode::kPermissionDenied;
}

}  // namespace

BalanceReturns::BalanceReturns(storage::Db* db, storage::GroupCommitWriter* writer,
                               storage::Cf family, const Gate* gate)
    : Courier("checkout.balance_returns"), db_(db), writer_(writer), cf_(family), gate_(gate) {}

BalanceReturns::~BalanceReturns() { Stop(); }

void BalanceReturns::Put(storage::Txn& txn, const perks::v1::CreditBalanceRequest& credit) {
  txn.Put(cf_, ReturnKey(credit.request_id()).bytes(), credit.SerializeAsString());
}

void BalanceReturns::Connect(std::shared_ptr<grpc::Channel> channel) {
  if (stub_) return;
  stub_ = perks::v1::CardService::NewStub(std::move(channel));
  Start();
}

absl::StatusOr<size_t> BalanceReturns::SendBatch() {
  std::vector<std::pair<std::string, perks::v1::CreditBalanceRequest>> batch;
  bool unreadable = false;
  auto n = db_->Scan(cf_, ReturnPrefix().bytes(), ReturnPrefix().PrefixEnd(), kBatchMax,
                     [&](std::string_view key, std::string_view value) {
                       auto& [k, credit] = batch.emplace_back();
                       k = std::string(key);
                       unreadable =
                           !credit.ParseFromArray(value.data(), static_cast<int>(value.size()));
                       return !unreadable;
                     });
  if (!n.ok()) return n.status();
  if (unreadable) return absl::DataLossError("a balance return is unreadable");
  std::vector<std::string> credited;
  std::vector<std::pair<std::string, const perks::v1::CreditBalanceRequest*>> parked;
  absl::Status failed;
  for (const auto& [key, credit] : batch) {
    std::unique_ptr<grpc::ClientContext> ctx = gate_->InternalCall();
    if (!BeginCall(ctx.get())) return absl::CancelledError("stopping");
    perks::v1::BalanceChange change;
    grpc::Status s = stub_->CreditBalance(ctx.get(), credit, &change);
    EndCall();
    if (s.ok()) {
      credited.push_back(key);
      continue;
    }
    absl::Status why = FromGrpcStatus(s);
    if (!Refused(why.code())) {
      failed = why;  // the card service is not reached: sent again after a pause
      continue;
    }
    // Refused for good (the member lost the card or had it replaced, say): set aside, so the
    // others go on, and logged for an operator to credit by hand.
    parked.emplace_back(key, &credit);
    Log(LogLevel::kError, "checkout.balance_return_refused",
        {{"request_id", credit.request_id()},
         {"card_id", credit.card().card_id()},
         {"balance", credit.balance_name()},
         {"amount_fen", std::to_string(credit.amount_fen())},
         {"reason", why.ToString()},
         {"action", "credit it to the member's current card by hand"}});
  }
  if (!credited.empty() || !parked.empty()) {
    // Unsynced: if a power cut undoes the deletion, the credit is sent again and the card
    // service, which credits each request id once, answers it as done.
    absl::Status deleted = writer_->Run(
        [this, &credited, &parked](storage::Txn& txn) {
          for (const std::string& k : credited) txn.Delete(cf_, k);
          for (const auto& [k, credit] : parked) {
            txn.Put(cf_, ParkedKey(credit->request_id()).bytes(), credit->SerializeAsString());
            txn.Delete(cf_, k);
          }
          return absl::OkStatus();
        },
        storage::Durability::kUnsynced);
    if (!deleted.ok()) return deleted;
    CountDelivered(credited.size());
  }
  if (!failed.ok()) return failed;
  return credited.size() + parked.size();
}

}  // namespace perks::checkout
