// The checkout service over gRPC: the POS front door, with its own journal in RocksDB.
//
// Each checkout is one record, keyed "<terminal>:<date>:<trace>", that moves through
//   AUTHORIZING → AUTHORIZED → CONFIRMED  (then refunds)
//                          ↘ REVERSING  → REVERSED or EXPIRED (or CONFIRMED, below)
// A step that calls another service (the promotion service's Reserve, Release; the card service's
// DebitBalance for what the card's balances pay) is written down first, with the call's own
// idempotent request id, and its end is written after the answer.
// So a crash or a lost answer at any point leaves a record that says which step to finish, and
// finishing it again changes nothing twice: on start, every record caught in a step is finished;
// a till's retry of the same request finishes it too.
// A confirmation is not written down before its Commit: the commit itself, which keeps the bank
// reference, is the record of it. A checkout still AUTHORIZED whose reservation is committed was
// confirmed by a process that ended before writing so; a start, a Reverse or an expiry that
// finds it (Release is refused for a committed reservation) ends it CONFIRMED. So a confirmation
// costs one synced write, not two. (CONFIRMING records written by older builds are finished as
// they were.)
//
// Within the process, one step at a time runs per checkout (a claim in memory): a second request
// for a checkout whose step is under way is answered UNAVAILABLE, to be sent again. So of a confirm
// and a reversal racing, exactly one wins, and the other is answered by the state it leaves.
//
// What the card's balances pay is taken when authorizing, after the reservation. A reversal or
// an expiry drives the same debits again (answered as before, or taken now if the authorization
// stopped short) and gives back all they took; a refund gives back its part. Balance returns are
// written in the same write as the state that makes them due and credited by BalanceReturns.
//
// Durable writes go through the group-commit writer: no gRPC thread waits on a disk sync.
#ifndef PERKS_SERVICES_CHECKOUT_RPC_CHECKOUT_SERVICE_H_
#define PERKS_SERVICES_CHECKOUT_RPC_CHECKOUT_SERVICE_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "perks/storage/v1/checkout_records.pb.h"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/checkout.grpc.pb.h"
#include "perks/v1/merchant.grpc.pb.h"
#include "perks/v1/promotion.grpc.pb.h"
#include "services/checkout/rpc/balance_returns.h"
#include "services/checkout/rpc/outbox.h"
#include "services/common/clock.h"
#include "services/common/expiry_queue.h"
#include "services/common/idempotency.h"
#include "services/common/ttl_cache.h"
#include "services/gate/gate.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks::checkout {

struct CheckoutServiceOptions {
  std::string db_path;
  const Clock* clock = nullptr;
  storage::WriterOptions writer;
  size_t cache_bytes = 64 << 20;
  GateOptions gate;
  // How long an authorization waits for its Confirm or Reverse (never longer than the campaigns
  // hold what it reserved).
  absl::Duration authorization_ttl = absl::Minutes(10);
  // The largest basket a till may authorize: 100,000 yuan.
  int64_t amount_fen_max = 10'000'000;
  // Test hook, called at each named step ("authorize.written", "authorize.reserved",
  // "authorize.paid" (from the card's balances), "confirm.begun" (nothing written yet, the commit
  // not sent), "confirm.committed", "confirm.saved", "reverse.written", "reverse.released",
  // "refund.saved"); a crash test ends the process there.
  std::function<void(std::string_view step)> at_step;
};

class CheckoutService final : public perks::v1::CheckoutService::CallbackService {
 public:
  static absl::StatusOr<std::unique_ptr<CheckoutService>> Open(const CheckoutServiceOptions& o);
  ~CheckoutService() override;

  const storage::Db& db() const { return *db_; }
  uint64_t LatestWrite() const { return db_->LatestSequence(); }
  // Stops delivering to the settlement service (what is undelivered stays for the next start).
  // Called before the server stops taking calls: a call on an in-process channel whose server
  // has shut down is not safe.
  void StopSending() {
    outbox_->Stop();
    returns_->Stop();
  }
  // For a clean stop: waits for the recovery and expiry steps under way, then for the outbox to
  // be delivered, `timeout` in all. False when something was left (it is kept for the next start).
  bool Drain(absl::Duration timeout);
  // Stops expiring and sending, finishes queued writes and closes the database.
  absl::Status Close();
  Gate& gate() { return gate_; }

  // Where the card, merchant, promotion and settlement services answer; then every checkout left
  // in the middle of a step is finished, and the outbox starts delivering to settlement. Until
  // connected, checkouts are refused with UNAVAILABLE.
  // A link with a local gate calls that service's locally served methods directly.
  void Connect(PeerLink cards, PeerLink merchants, PeerLink promotions, PeerLink settlement);
  // Waits until every confirmed discount and refund so far is delivered to the settlement
  // service, and every balance return so far is credited to its card; false if that takes longer
  // than `timeout`.
  bool WaitSettled(absl::Duration timeout);
  // How many checkouts the last Connect found in the middle of a step (or committed, with the
  // confirmation not yet written), and finished (tests).
  size_t Recovered() const;
  // Called with each checkout's id once it has expired (tests).
  void OnExpired(std::function<void(const std::string&)> expired) { expired_ = std::move(expired); }

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  Reactor* Quote(Ctx* ctx, const perks::v1::QuoteRequest* req,
                 perks::v1::QuoteResponse* resp) override;
  Reactor* Authorize(Ctx* ctx, const perks::v1::AuthorizeRequest* req,
                     perks::v1::Checkout* resp) override;
  Reactor* Confirm(Ctx* ctx, const perks::v1::ConfirmRequest* req,
                   perks::v1::Checkout* resp) override;
  Reactor* Reverse(Ctx* ctx, const perks::v1::ReverseRequest* req,
                   perks::v1::Checkout* resp) override;
  Reactor* Refund(Ctx* ctx, const perks::v1::RefundRequest* req,
                  perks::v1::RefundResult* resp) override;
  Reactor* GetCheckout(Ctx* ctx, const perks::v1::GetCheckoutRequest* req,
                       perks::v1::Checkout* resp) override;

  using Record = perks::storage::v1::CheckoutRecord;
  using Done = absl::AnyInvocable<void(absl::Status)>;
  using RecordDone = absl::AnyInvocable<void(absl::StatusOr<Record>)>;

 private:
  CheckoutService(std::unique_ptr<storage::Db> db, const CheckoutServiceOptions& o);

  // One step at a time per checkout: false when one is under way.
  bool Claim(const std::string& id);
  // Ends a claimed request: unclaims `id`, then answers the call with the record (or the error).
  RecordDone Answer(std::string id, perks::v1::Checkout* resp, Gate::Done done);
  // A record for till key `id`, in the till's city, merchant and store.
  static Record NewRecord(const perks::v1::Caller& till, const std::string& id);
  // The request id of a step's call to the promotion service: "checkout/<key>[/<step>]", the
  // same however often the step is driven.
  static std::string StepRequestId(const Record& rec, std::string_view step);
  // Writes down that `rec` is being released, to end in `to`.
  static void StartReverse(Record& rec, perks::v1::CheckoutState to, std::string reason);
  // The Reserve of `rec`'s basket (its authorization, or learning what it holds).
  std::shared_ptr<Gate::Outgoing<perks::v1::ReserveRequest, perks::v1::Reservation>> ReserveCall(
      const Record& rec) const;
  // The request's fingerprint, keyed with the installation's secret.
  std::string Fingerprint(const google::protobuf::Message& req) const;
  // On start, for a checkout authorized before it: a commit made when the process ended, before
  // its confirmation was written down, is finished as confirmed; otherwise its expiry is set.
  void RecoverAuthorized(Record rec);
  // Steps run by recovery and expiry, which no gRPC call waits for: Close waits for them.
  void BeginBackground();
  void EndBackground();
  void Unclaim(const std::string& id);

  absl::StatusOr<std::optional<Record>> Load(const std::string& id) const;
  // Writes `rec` (and whether it is pending) on the writer, with `event` into the outbox and
  // `returns` to the card's balances in the same write; `done` once durable.
  void Save(Record rec, RecordDone done,
            std::optional<perks::v1::SettlementEvent> event = std::nullopt,
            std::vector<perks::v1::CreditBalanceRequest> returns = {});

  // Takes what `paid` says from the card's balances of `rec` (debits through the card service,
  // under the checkout's own request ids: for the same checkout, again the same answer).
  struct Taken {
    std::vector<perks::v1::BalanceAmount> taken;  // debited
    absl::Status refused;                         // the first balance that refused, if any
  };
  using TakenDone = absl::AnyInvocable<void(absl::StatusOr<Taken>)>;  // error: not reached
  struct Taking;
  void TakeBalances(const Record& rec, std::vector<perks::v1::BalanceAmount> paid, TakenDone done);
  void TakeNext(std::shared_ptr<Taking> taking);
  // The credits that give `amounts` back to `rec`'s card, under request ids of till key `key`.
  static std::vector<perks::v1::CreditBalanceRequest> Returns(
      const Record& rec, absl::string_view key,
      const std::vector<perks::v1::BalanceAmount>& amounts, absl::string_view memo);

  // The basket of this card at this till: the card (active, in the till's city) and the merchant.
  using BasketDone =
      absl::AnyInvocable<void(absl::StatusOr<std::pair<perks::v1::Basket, perks::v1::Card>>)>;
  void MakeBasket(const perks::v1::Caller& till, const perks::v1::CardRef& card, int64_t amount_fen,
                  BasketDone done);
  // The till's merchant as the merchant service last said, asked again after the gate's
  // cache_ttl (the same delay a revoked terminal has): a checkout needs its category, region and
  // state, which change seldom, and asking once per checkout was a call per authorization.
  using MerchantPtr = std::shared_ptr<const perks::v1::Merchant>;
  using MerchantDone = absl::AnyInvocable<void(absl::StatusOr<MerchantPtr>)>;
  void WithMerchant(const std::string& merchant_id, MerchantDone done);

  // The steps after their record is written; each ends the step and answers with the record.
  void DriveAuthorize(Record rec, RecordDone done);
  void DriveConfirm(Record rec, RecordDone done);
  void DriveReverse(Record rec, RecordDone done);
  // Ends `rec` as confirmed by `committed`, its reservation's commit (made by this confirmation,
  // or found by a later reversal, expiry or restart): the discount goes to settlement in the same
  // write.
  void FinishCommitted(Record rec, const perks::v1::Reservation& committed, RecordDone done);
  // A step's record and what it answers, shared by the calls that finish it.
  using Step = std::pair<Record, RecordDone>;
  using ReservationDone = absl::AnyInvocable<void(absl::StatusOr<perks::v1::Reservation>)>;
  // Reads the reservation: committed, `step` is finished as confirmed (FinishCommitted) and
  // answered; otherwise `otherwise` has what was read, or why it could not be.
  void FinishIfCommitted(const std::string& reservation_id, std::shared_ptr<Step> step,
                         ReservationDone otherwise);
  // Finishes whatever step `rec` is in.
  void Drive(Record rec, RecordDone done);
  // From the expiry queue.
  void Expire(std::vector<std::string> ids);
  void AtStep(std::string_view step) const {
    if (options_.at_step) options_.at_step(step);
  }

  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  storage::Cf checkouts_, pending_;
  std::unique_ptr<SettlementOutbox> outbox_;
  std::unique_ptr<BalanceReturns> returns_;
  const Clock* clock_;
  CheckoutServiceOptions options_;
  Gate gate_;
  Peer<perks::v1::CardService> cards_;
  Peer<perks::v1::MerchantService> merchants_;
  Peer<perks::v1::PromotionService> promotions_;
  TtlCache<MerchantPtr> merchants_seen_;

  mutable std::mutex mu_;
  absl::flat_hash_set<std::string> busy_;
  std::vector<std::string> recovering_;  // found caught in a step by Open, for Connect
  int background_ = 0;
  std::condition_variable idle_;
  size_t recovered_ = 0;
  std::function<void(const std::string&)> expired_;
  ExpiryQueue expiry_;  // last: it calls back into the members above
};

}  // namespace perks::checkout

#endif  // PERKS_SERVICES_CHECKOUT_RPC_CHECKOUT_SERVICE_H_
