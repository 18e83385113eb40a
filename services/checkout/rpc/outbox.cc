#include "services/checkout/rpc/outbox.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/common/records.h"
#include "storage/keys.h"

namespace perks::checkout {
namespace {

// outbox-at/<sequence>: events in the order they were written.
storage::Key OutboxKey(uint64_t sequence) {
  return std::move(storage::Key().Str("outbox-at").U64(sequence));
}
storage::Key OutboxPrefix() { return storage::Key().Str("outbox-at"); }
// outbox/<event id>: how earlier versions kept them; what is left is delivered on start.
storage::Key LegacyPrefix() { return storage::Key().Str("outbox"); }

perks::v1::SettlementEvent EventOf(const perks::v1::Checkout& c) {
  perks::v1::SettlementEvent e;
  e.set_tenant_id(c.tenant_id());
  e.set_merchant_id(c.merchant_id());
  e.set_store_id(c.store_id());
  e.set_terminal_id(c.terminal_id());
  e.set_checkout_id(c.checkout_id());
  e.set_card_number_masked(c.card_number_masked());
  return e;
}

}  // namespace

std::optional<perks::v1::SettlementEvent> ConfirmedEvent(const perks::v1::Checkout& c) {
  if (c.discount_fen() == 0 && c.from_balances_fen() == 0) return std::nullopt;
  perks::v1::SettlementEvent e = EventOf(c);
  e.set_event_id(absl::StrCat("confirm/", c.checkout_id()));
  e.set_kind(perks::v1::SETTLEMENT_EVENT_CONFIRMED);
  e.set_occurred_at_unix_ms(c.settled_at_unix_ms());
  e.set_amount_fen(c.amount_fen());
  *e.mutable_discounts() = c.discounts();
  return e;
}

std::optional<perks::v1::SettlementEvent> RefundedEvent(const perks::v1::Checkout& c,
                                                        const perks::v1::Refund& refund) {
  perks::v1::SettlementEvent e = EventOf(c);
  e.set_event_id(absl::StrCat("refund/", refund.refund_id()));
  e.set_kind(perks::v1::SETTLEMENT_EVENT_REFUNDED);
  e.set_occurred_at_unix_ms(refund.at_unix_ms());
  e.set_amount_fen(refund.amount_fen());
  // The merchant gives each funder back its share of the discount and of what the balances
  // paid: one share per funder.
  int64_t back_fen = 0;
  for (const auto* shares : {&refund.funding(), &refund.balance_funding()}) {
    for (const perks::v1::FundedShare& f : *shares) {
      back_fen += f.amount_fen();
      perks::v1::FundedShare* into = nullptr;
      for (perks::v1::FundedShare& seen : *e.mutable_funding()) {
        if (seen.funder() == f.funder()) into = &seen;
      }
      if (into == nullptr) {
        into = e.add_funding();
        into->set_funder(f.funder());
      }
      into->set_amount_fen(into->amount_fen() + f.amount_fen());
    }
  }
  if (back_fen == 0) return std::nullopt;
  return e;
}

SettlementOutbox::SettlementOutbox(storage::Db* db, storage::GroupCommitWriter* writer,
                                   const Gate* gate)
    : Courier("checkout.settlement"),
      db_(db),
      writer_(writer),
      cf_(db->Family(kOutboxFamily)),
      gate_(gate),
      cursor_(OutboxPrefix().bytes()) {
  // Find the last sequence the events left by the last run hold; a new event must come after it,
  // or its Put would overwrite one not yet delivered. If that cannot be read, Opened() says so and
  // the service does not start.
  uint64_t last = 0;
  opened_ = ScanEach(*db_, cf_, OutboxPrefix().bytes(), OutboxPrefix().PrefixEnd(),
                     [&](std::string_view key, std::string_view) {
                       storage::KeyReader r(key);
                       std::string kind;
                       uint64_t sequence = 0;
                       if (!r.Str(&kind) || !r.U64(&sequence)) {
                         return absl::DataLossError(
                             "an outbox key is unreadable; restore the checkout database from a "
                             "backup");
                       }
                       last = std::max(last, sequence);
                       return absl::OkStatus();
                     });
  next_sequence_ = last + 1;
}

SettlementOutbox::~SettlementOutbox() { Stop(); }

void SettlementOutbox::Put(storage::Txn& txn, const perks::v1::SettlementEvent& event) {
  txn.Put(cf_, OutboxKey(next_sequence_.fetch_add(1)).bytes(), event.SerializeAsString());
}

void SettlementOutbox::Connect(std::shared_ptr<grpc::Channel> channel) {
  if (stub_) return;
  stub_ = perks::v1::SettlementService::NewStub(std::move(channel));
  Start();
}

absl::Status SettlementOutbox::ReadBatch(const std::string& from, const std::string& to,
                                         perks::v1::PostRequest& req,
                                         std::vector<std::string>& keys) const {
  bool unreadable = false;
  auto n = db_->Scan(cf_, from, to, kBatchEventsMax, [&](std::string_view key, std::string_view v) {
    if (!req.add_events()->ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      unreadable = true;
      return false;
    }
    keys.emplace_back(key);
    return true;
  });
  if (!n.ok()) return n.status();
  if (unreadable) return absl::DataLossError("an outbox event is unreadable");
  return absl::OkStatus();
}

absl::StatusOr<size_t> SettlementOutbox::SendBatch() {
  perks::v1::PostRequest req;
  std::vector<std::string> keys;
  if (legacy_left_) {
    if (absl::Status s = ReadBatch(LegacyPrefix().bytes(), LegacyPrefix().PrefixEnd(), req, keys);
        !s.ok()) {
      return s;
    }
    legacy_left_ = !keys.empty();
  }
  const bool legacy = !keys.empty();
  if (!legacy) {
    if (absl::Status s = ReadBatch(cursor_, OutboxPrefix().PrefixEnd(), req, keys); !s.ok()) {
      return s;
    }
  }
  if (keys.empty()) return 0;
  std::unique_ptr<grpc::ClientContext> ctx = gate_->InternalCall();
  if (!BeginCall(ctx.get())) return absl::CancelledError("stopping");
  perks::v1::PostResponse resp;
  grpc::Status s = stub_->Post(ctx.get(), req, &resp);
  EndCall();
  if (!s.ok()) return FromGrpcStatus(s);
  // Unsynced: if a power cut undoes the deletion, the events are sent again and settlement, which
  // takes each event id once, skips them.
  absl::Status deleted = writer_->Run(
      [this, &keys](storage::Txn& txn) {
        for (const std::string& k : keys) txn.Delete(cf_, k);
        return absl::OkStatus();
      },
      storage::Durability::kUnsynced);
  if (!deleted.ok()) return deleted;  // sent again later, and skipped there
  // Written in sequence order and committed in that order, so nothing can appear behind it.
  if (!legacy) cursor_ = keys.back() + '\0';
  CountDelivered(keys.size());
  return keys.size();
}

}  // namespace perks::checkout
