#include "services/checkout/rpc/checkout_service.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/checkout/domain/refund.h"
#include "services/common/calendar.h"
#include "services/common/grpc_status.h"
#include "services/common/idempotency.h"
#include "services/common/log.h"
#include "services/common/money.h"
#include "services/common/records.h"
#include "services/gate/policy.h"
#include "storage/keys.h"

namespace perks::checkout {
namespace {

using perks::storage::v1::CheckoutStep;
using perks::v1::Caller;
using perks::v1::CheckoutState;

constexpr char kCheckouts[] = "checkouts";
constexpr char kPending[] = "pending";
constexpr uint32_t kSchemaVersion = 1;

// Keys: checkouts/<till key> (a purchase, or a refund's answer), pending/<till key>.
storage::Key CheckoutKey(std::string_view id) { return storage::Key().Str("checkout").Str(id); }
storage::Key PendingKey(std::string_view id) { return storage::Key().Str("pending").Str(id); }

bool IsPending(const CheckoutService::Record& rec) {
  return rec.step() != perks::storage::v1::CHECKOUT_STEP_NONE ||
         rec.checkout().state() == perks::v1::CHECKOUT_STATE_AUTHORIZED;
}

// The trace number and date a till names a transaction by.
absl::Status CheckTrace(const perks::v1::TraceRef& t, const std::string& field = "trace") {
  const std::string& trace = t.trace();
  if (trace.empty() || trace.size() > 12 ||
      !std::all_of(trace.begin(), trace.end(), [](char c) { return absl::ascii_isdigit(c); })) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".trace must be the till's trace number, 1 to 12 digits; got \"", trace, "\""));
  }
  return ParseCompactDate(t.date(), field + ".date").status();
}

std::string CheckoutId(const std::string& terminal_id, const perks::v1::TraceRef& t) {
  return absl::StrCat(terminal_id, ":", t.date(), ":", t.trace());
}

std::string Describe(const perks::v1::TraceRef& t) {
  return absl::StrCat("trace ", t.trace(), " of ", t.date());
}

std::string LocalTime(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(unix_ms), ShanghaiZone());
}

absl::Status Busy(const std::string& id) {
  return absl::UnavailableError(absl::StrCat(
      "another step of checkout ", id, " is under way; send the same request again in a moment"));
}

absl::Status ConfirmedNotReversed(const perks::v1::TraceRef& t) {
  return absl::FailedPreconditionError(
      absl::StrCat(Describe(t), " is confirmed: a confirmed purchase is refunded, not reversed"));
}

// The answer to a confirmation with `bank_reference` of a checkout that is confirmed.
absl::StatusOr<CheckoutService::Record> AnswerConfirmed(CheckoutService::Record rec,
                                                        const perks::v1::TraceRef& t,
                                                        const std::string& bank_reference) {
  const std::string& confirmed_with = rec.checkout().bank_reference();
  if (!bank_reference.empty() && bank_reference != confirmed_with) {
    return absl::AlreadyExistsError(absl::StrCat(Describe(t), " was confirmed with bank reference ",
                                                 confirmed_with, ", not ", bank_reference));
  }
  return rec;
}

// What a till does when its purchase cannot be confirmed.
constexpr char kVoidOrAuthorizeAgain[] =
    "void the bank payment, or authorize again with a new trace number";

std::string ExpiredRefusal(const perks::v1::TraceRef& t, const perks::v1::Checkout& c) {
  return absl::StrCat("the authorization of ", Describe(t), " expired at ",
                      LocalTime(c.expires_at_unix_ms()), " (Asia/Shanghai); ",
                      kVoidOrAuthorizeAgain);
}

// A confirmation's answer once the reversal (or expiry) it found is finished: refused with
// `refusal` (or with the state it ended in), unless it ended confirmed (its commit had been made,
// by a process that ended before writing so).
CheckoutService::RecordDone ConfirmAnswer(perks::v1::TraceRef trace, std::string bank_reference,
                                          CheckoutService::RecordDone finish,
                                          std::string refusal = "") {
  return [trace = std::move(trace), bank_reference = std::move(bank_reference),
          finish = std::move(finish),
          refusal = std::move(refusal)](absl::StatusOr<CheckoutService::Record> r) mutable {
    if (!r.ok()) return finish(r.status());
    const CheckoutState state = r->checkout().state();
    if (state == perks::v1::CHECKOUT_STATE_CONFIRMED) {
      return finish(AnswerConfirmed(std::move(*r), trace, bank_reference));
    }
    if (refusal.empty()) {
      refusal = absl::StrCat(Describe(trace), " is ", perks::v1::CheckoutState_Name(state),
                             " and cannot be confirmed; ", kVoidOrAuthorizeAgain);
    }
    finish(absl::FailedPreconditionError(refusal));
  };
}

// A refusal that is the answer (retrying the same call gets the same one), as opposed to a
// failure to reach an answer.
bool Definitive(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnauthenticated:
      return true;
    default:
      return false;
  }
}

absl::Status CardUsable(const perks::v1::Card& card) {
  using perks::v1::CardState;
  const std::string& masked = card.card_number_masked();
  switch (card.state()) {
    case perks::v1::CARD_STATE_ACTIVE:
      return absl::OkStatus();
    case perks::v1::CARD_STATE_ISSUED:
      return absl::FailedPreconditionError(
          absl::StrCat("card ", masked, " is not activated yet: the member activates it first"));
    case perks::v1::CARD_STATE_FROZEN:
      return absl::FailedPreconditionError(absl::StrCat(
          "card ", masked, " is frozen: it earns no discounts until the union unfreezes it"));
    default:
      return absl::FailedPreconditionError(absl::StrCat("card ", masked, " is ",
                                                        CardState_Name(card.state()),
                                                        ": ask for the member's current card"));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<CheckoutService>> CheckoutService::Open(
    const CheckoutServiceOptions& o) {
  storage::DbOptions db_options;
  db_options.path = o.db_path;
  db_options.column_families = {kCheckouts, kPending, kOutboxFamily};
  db_options.schema_version = kSchemaVersion;
  db_options.block_cache_bytes = o.cache_bytes;
  auto db = storage::Db::Open(db_options);
  if (!db.ok()) return db.status();
  std::unique_ptr<CheckoutService> svc(new CheckoutService(std::move(*db), o));
  if (!svc->outbox_->Opened().ok()) return svc->outbox_->Opened();
  // Until Connect finishes them, the checkouts caught in a step are claimed: a till's retry is
  // asked to come back rather than racing the recovery.
  absl::Status s =
      ScanEach(*svc->db_, svc->pending_, "", "", [&](std::string_view key, std::string_view) {
        storage::KeyReader r(key);
        std::string kind, id;
        if (!r.Str(&kind) || !r.Str(&id)) {
          return absl::DataLossError("a pending checkout key is unreadable");
        }
        svc->busy_.insert(id);
        svc->recovering_.push_back(id);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return svc;
}

CheckoutService::CheckoutService(std::unique_ptr<storage::Db> db, const CheckoutServiceOptions& o)
    : db_(std::move(db)),
      writer_(std::make_unique<storage::GroupCommitWriter>(db_.get(), o.writer)),
      checkouts_(db_->Family(kCheckouts)),
      pending_(db_->Family(kPending)),
      outbox_(std::make_unique<SettlementOutbox>(db_.get(), writer_.get(), &gate_)),
      returns_(std::make_unique<BalanceReturns>(db_.get(), writer_.get(),
                                                db_->Family(kOutboxFamily), &gate_)),
      clock_(o.clock),
      options_(o),
      gate_("perks.v1.CheckoutService", o.gate),
      cards_(&gate_),
      merchants_(&gate_),
      promotions_(&gate_),
      merchants_seen_(o.gate.cache_ttl, 10'000),
      expiry_(o.clock, [this](std::vector<std::string> ids) { Expire(std::move(ids)); }) {}

CheckoutService::~CheckoutService() { (void)Close(); }

absl::Status CheckoutService::Close() {
  expiry_.Stop();
  {
    // Recovery and expiry steps still waiting for another service's answer: the gRPC server has
    // stopped by now and the services in this process no longer take direct calls
    // (Gate::StopServingLocally), so their calls end soon; a step under way in another service's
    // writer ends when that writer has written it.
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait_for(lock, std::chrono::seconds(30), [this] { return background_ == 0; });
  }
  outbox_->Stop();  // what it has not delivered stays for the next start
  returns_->Stop();
  if (writer_) writer_->Stop();
  return db_->Close();
}

bool CheckoutService::Drain(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!idle_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                        [this] { return background_ == 0; })) {
      return false;
    }
  }
  return WaitSettled(std::max(deadline - absl::Now(), absl::ZeroDuration()));
}

bool CheckoutService::WaitSettled(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  return outbox_->WaitDelivered(timeout) &&
         returns_->WaitDelivered(std::max(deadline - absl::Now(), absl::ZeroDuration()));
}

CheckoutService::RecordDone CheckoutService::Answer(std::string id, perks::v1::Checkout* resp,
                                                    Gate::Done done) {
  return [this, id = std::move(id), resp,
          done = std::make_shared<Gate::Done>(std::move(done))](absl::StatusOr<Record> r) {
    Unclaim(id);
    if (!r.ok()) return (*done)(r.status());
    *resp = r->checkout();
    (*done)(absl::OkStatus());
  };
}

CheckoutService::Record CheckoutService::NewRecord(const Caller& till, const std::string& id) {
  Record rec;
  perks::v1::Checkout& c = *rec.mutable_checkout();
  c.set_checkout_id(id);
  c.set_tenant_id(till.tenant_id());
  c.set_merchant_id(till.merchant_id());
  c.set_store_id(till.store_id());
  c.set_terminal_id(till.name());
  return rec;
}

std::string CheckoutService::StepRequestId(const Record& rec, std::string_view step) {
  return absl::StrCat("checkout/", rec.checkout().checkout_id(), step.empty() ? "" : "/",
                      std::string(step));
}

void CheckoutService::StartReverse(Record& rec, CheckoutState to, std::string reason) {
  rec.set_step(perks::storage::v1::CHECKOUT_STEP_REVERSING);
  rec.set_reversing_to(to);
  rec.mutable_checkout()->set_reason(std::move(reason));
}

std::shared_ptr<Gate::Outgoing<perks::v1::ReserveRequest, perks::v1::Reservation>>
CheckoutService::ReserveCall(const Record& rec) const {
  auto call = Gate::NewCall<perks::v1::ReserveRequest, perks::v1::Reservation>();
  call->req.set_request_id(StepRequestId(rec, ""));
  *call->req.mutable_basket() = rec.basket();
  return call;
}

std::string CheckoutService::Fingerprint(const google::protobuf::Message& req) const {
  // Keyed with the installation's secret: the request holds the full card number.
  return RequestFingerprint(req, options_.gate.internal_key);
}

bool CheckoutService::Claim(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return busy_.insert(id).second;
}

void CheckoutService::Unclaim(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  busy_.erase(id);
}

size_t CheckoutService::Recovered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return recovered_;
}

absl::StatusOr<std::optional<CheckoutService::Record>> CheckoutService::Load(
    const std::string& id) const {
  return GetRecord<Record>(*db_, checkouts_, CheckoutKey(id));
}

void CheckoutService::Save(Record rec, RecordDone done,
                           std::optional<perks::v1::SettlementEvent> event,
                           std::vector<perks::v1::CreditBalanceRequest> returns) {
  // The start of an authorization or a reversal is written down only so that a restart can finish
  // it; nobody has been answered on its strength, and the promotion service's holds expire by
  // themselves. After a power cut its loss is the step never having begun (the till's retry
  // begins it again, with the same request ids), so it need not wait for a sync. (A reversal
  // that finds the reservation committed ends confirmed, synced, like any confirmation.)
  // Not so when the card's balances may pay: their debits are durable at the card service and do
  // not expire, so the step that takes (or gives back) them must survive a power cut.
  const storage::Durability durability =
      (rec.step() == perks::storage::v1::CHECKOUT_STEP_AUTHORIZING ||
       rec.step() == perks::storage::v1::CHECKOUT_STEP_REVERSING) &&
              rec.card_balances().empty()
          ? storage::Durability::kUnsynced
          : storage::Durability::kSynced;
  auto saved = std::make_shared<Record>(std::move(rec));
  auto shared = std::make_shared<RecordDone>(std::move(done));
  const bool settles = event.has_value();
  const bool gives_back = !returns.empty();
  absl::Status queued = writer_->Submit(
      [this, saved, event = std::move(event), returns = std::move(returns)](storage::Txn& txn) {
        if (event) outbox_->Put(txn, *event);
        for (const perks::v1::CreditBalanceRequest& credit : returns) returns_->Put(txn, credit);
        const std::string& id = saved->checkout().checkout_id();
        txn.Put(checkouts_, CheckoutKey(id).bytes(), saved->SerializeAsString());
        if (IsPending(*saved)) {
          txn.Put(pending_, PendingKey(id).bytes(), "");
        } else {
          txn.Delete(pending_, PendingKey(id).bytes());
        }
        return absl::OkStatus();
      },
      [this, saved, shared, settles, gives_back](absl::Status s) mutable {
        if (!s.ok()) return (*shared)(s);
        if (settles) outbox_->Wake();
        if (gives_back) returns_->Wake();
        (*shared)(std::move(*saved));
      },
      durability);
  if (!queued.ok()) (*shared)(queued);
}

void CheckoutService::Connect(PeerLink cards, PeerLink merchants, PeerLink promotions,
                              PeerLink settlement) {
  outbox_->Connect(std::move(settlement.channel));
  returns_->Connect(cards.channel);
  cards_.Connect(std::move(cards));
  merchants_.Connect(std::move(merchants));
  promotions_.Connect(std::move(promotions));
  // Finish every checkout caught in a step; restore the expiry of those still authorized.
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ids.swap(recovering_);  // what Open found, never a live request's claim
  }
  for (const std::string& id : ids) {
    auto rec = Load(id);
    if (!rec.ok() || !rec->has_value()) {
      Log(LogLevel::kError, "checkout.recovery_failed",
          {{"checkout", id}, {"reason", rec.ok() ? "no record" : rec.status().ToString()}});
      Unclaim(id);
      continue;
    }
    if ((*rec)->step() == perks::storage::v1::CHECKOUT_STEP_NONE) {
      RecoverAuthorized(std::move(**rec));
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++recovered_;
    }
    BeginBackground();
    Drive(std::move(**rec), [this, id](absl::StatusOr<Record> r) {
      if (!r.ok()) {
        // Left as it is: the till's retry (or the next start) finishes it.
        Log(LogLevel::kWarning, "checkout.recovery_deferred",
            {{"checkout", id}, {"reason", r.status().ToString()}});
      }
      Unclaim(id);
      EndBackground();
    });
  }
}

void CheckoutService::RecoverAuthorized(Record rec) {
  const std::string id = rec.checkout().checkout_id();
  const absl::Time expires = absl::FromUnixMillis(rec.checkout().expires_at_unix_ms());
  if (rec.reservation_id().empty()) {
    expiry_.Add(id, expires);
    return Unclaim(id);
  }
  BeginBackground();
  auto end = [this, id] {
    Unclaim(id);
    EndBackground();
  };
  const std::string reservation_id = rec.reservation_id();
  auto step = std::make_shared<Step>(
      std::move(rec), [this, id, expires, end](absl::StatusOr<Record> saved) {
        if (saved.ok()) {
          std::lock_guard<std::mutex> lock(mu_);
          ++recovered_;
        } else {
          // Left as it is: its Confirm, its Reverse or its expiry finishes it.
          Log(LogLevel::kWarning, "checkout.recovery_deferred",
              {{"checkout", id}, {"reason", saved.status().ToString()}});
          expiry_.Add(id, expires);
        }
        end();
      });
  FinishIfCommitted(reservation_id, step,
                    [this, id, expires, end](absl::StatusOr<perks::v1::Reservation> r) {
                      if (!r.ok()) {
                        // Its expiry (or its Confirm or Reverse) finds a commit all the same.
                        Log(LogLevel::kWarning, "checkout.recovery_deferred",
                            {{"checkout", id}, {"reason", r.status().ToString()}});
                      }
                      expiry_.Add(id, expires);  // waits for its Confirm or Reverse
                      end();
                    });
}

void CheckoutService::BeginBackground() {
  std::lock_guard<std::mutex> lock(mu_);
  ++background_;
}

void CheckoutService::EndBackground() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--background_ == 0) idle_.notify_all();
}

void CheckoutService::Drive(Record rec, RecordDone done) {
  switch (rec.step()) {
    case perks::storage::v1::CHECKOUT_STEP_AUTHORIZING:
      return DriveAuthorize(std::move(rec), std::move(done));
    case perks::storage::v1::CHECKOUT_STEP_CONFIRMING:
      return DriveConfirm(std::move(rec), std::move(done));
    case perks::storage::v1::CHECKOUT_STEP_REVERSING:
      return DriveReverse(std::move(rec), std::move(done));
    default:
      return done(std::move(rec));
  }
}

void CheckoutService::WithMerchant(const std::string& merchant_id, MerchantDone done) {
  const absl::Time now = clock_->Now();
  if (auto seen = merchants_seen_.Get(merchant_id, now)) return done(std::move(seen->value));
  auto call = Gate::NewCall<perks::v1::GetMerchantRequest, perks::v1::Merchant>();
  call->req.set_merchant_id(merchant_id);
  merchants_.Call("GetMerchant", &perks::v1::MerchantService::Stub::async::GetMerchant, call,
                  [this, call, merchant_id, now,
                   done = std::make_shared<MerchantDone>(std::move(done))](absl::Status s) {
                    if (!s.ok()) return (*done)(s);
                    auto m = std::make_shared<const perks::v1::Merchant>(std::move(call->resp));
                    merchants_seen_.Put(merchant_id, m, now);
                    (*done)(std::move(m));
                  });
}

void CheckoutService::MakeBasket(const Caller& till, const perks::v1::CardRef& card,
                                 int64_t amount_fen, BasketDone done) {
  auto lookup = Gate::NewCall<perks::v1::LookupCardRequest, perks::v1::Card>();
  *lookup->req.mutable_card() = card;
  auto shared_done = std::make_shared<BasketDone>(std::move(done));
  cards_.Call(
      "LookupCard", &perks::v1::CardService::Stub::async::LookupCard, lookup,
      [this, lookup, till, amount_fen, shared_done](absl::Status s) {
        if (!s.ok()) return (*shared_done)(s);
        const perks::v1::Card& c = lookup->resp;
        if (c.tenant_id() != till.tenant_id()) {
          return (*shared_done)(absl::NotFoundError(
              absl::StrCat("no such card in ", till.tenant_id(), "; check the card number")));
        }
        if (absl::Status usable = CardUsable(c); !usable.ok()) return (*shared_done)(usable);
        WithMerchant(till.merchant_id(), [this, lookup, till, amount_fen,
                                          shared_done](absl::StatusOr<MerchantPtr> merchant) {
          if (!merchant.ok()) return (*shared_done)(merchant.status());
          const perks::v1::Card& c = lookup->resp;
          const perks::v1::Merchant& m = **merchant;
          if (m.state() == perks::v1::MERCHANT_STATE_SUSPENDED ||
              m.state() == perks::v1::MERCHANT_STATE_TERMINATED) {
            return (*shared_done)(absl::FailedPreconditionError(absl::StrCat(
                "merchant ", m.merchant_id(), " is ",
                m.state() == perks::v1::MERCHANT_STATE_SUSPENDED ? "suspended" : "terminated",
                ": its tills cannot take member cards until the union reinstates it")));
          }
          perks::v1::Basket b;
          b.set_tenant_id(c.tenant_id());
          b.set_program_id(c.program_id());
          b.set_member_id(c.member_id());
          for (const std::string& tag : c.member_tags()) b.add_member_tags(tag);
          b.set_merchant_id(till.merchant_id());
          b.set_store_id(till.store_id());
          b.set_category(m.profile().category());
          b.set_region(m.profile().region());
          for (const perks::v1::Store& store : m.stores()) {
            if (store.store_id() == till.store_id() && !store.region().empty()) {
              b.set_region(store.region());
            }
          }
          b.set_amount_fen(amount_fen);
          const int64_t now = absl::ToUnixMillis(clock_->Now());
          b.set_at_unix_ms(now);
          // The balances the card may pay from here: unexpired, and (vouchers) allowed at
          // merchants of this category.
          for (const perks::v1::Balance& balance : c.balances()) {
            const auto& allowed = balance.allowed_categories();
            if (balance.amount_fen() <= 0 ||
                (balance.expires_at_unix_ms() != 0 && now >= balance.expires_at_unix_ms()) ||
                (!allowed.empty() &&
                 std::find(allowed.begin(), allowed.end(), b.category()) == allowed.end())) {
              continue;
            }
            (*b.mutable_balances_fen())[balance.name()] = balance.amount_fen();
          }
          (*shared_done)(std::make_pair(std::move(b), c));
        });
      });
}

CheckoutService::Reactor* CheckoutService::Quote(Ctx* ctx, const perks::v1::QuoteRequest* req,
                                                 perks::v1::QuoteResponse* resp) {
  return gate_.Run(ctx, "Quote", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
    if (req->amount_fen() <= 0 || req->amount_fen() > options_.amount_fen_max) {
      return done(absl::InvalidArgumentError(absl::StrCat(
          "amount_fen must be 1 to ", options_.amount_fen_max, " (fen); got ", req->amount_fen())));
    }
    MakeBasket(caller, req->card(), req->amount_fen(),
               [this, resp, done = std::make_shared<Gate::Done>(std::move(done))](
                   absl::StatusOr<std::pair<perks::v1::Basket, perks::v1::Card>> b) {
                 if (!b.ok()) return (*done)(b.status());
                 auto call = Gate::NewCall<perks::v1::EvaluateRequest, perks::v1::Evaluation>();
                 *call->req.mutable_basket() = std::move(b->first);
                 call->req.set_explain(true);
                 resp->set_card_number_masked(b->second.card_number_masked());
                 promotions_.Call("Evaluate", &perks::v1::PromotionService::Stub::async::Evaluate,
                                  call, [call, resp, done](absl::Status s) {
                                    if (!s.ok()) return (*done)(s);
                                    *resp->mutable_evaluation() = std::move(call->resp);
                                    (*done)(absl::OkStatus());
                                  });
               });
  });
}

CheckoutService::Reactor* CheckoutService::Authorize(Ctx* ctx,
                                                     const perks::v1::AuthorizeRequest* req,
                                                     perks::v1::Checkout* resp) {
  return gate_.Run(
      ctx, "Authorize", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
        if (absl::Status s = CheckTrace(req->trace()); !s.ok()) return done(s);
        if (req->amount_fen() <= 0 || req->amount_fen() > options_.amount_fen_max) {
          return done(absl::InvalidArgumentError(absl::StrCat(
              "amount_fen must be 1 to ", options_.amount_fen_max, " (fen, i.e. up to ",
              FormatYuan(options_.amount_fen_max), " yuan); got ", req->amount_fen())));
        }
        if (req->card().ref_case() == perks::v1::CardRef::REF_NOT_SET) {
          return done(
              absl::InvalidArgumentError("name the card: card.card_number or card.card_id"));
        }
        const std::string id = CheckoutId(caller.name(), req->trace());
        if (!Claim(id)) return done(Busy(id));
        RecordDone finish = Answer(id, resp, std::move(done));
        const std::string fingerprint = Fingerprint(*req);
        auto existing = Load(id);
        if (!existing.ok()) return finish(existing.status());
        if (existing->has_value()) {
          Record& rec = **existing;
          if (rec.has_refund()) {
            return finish(absl::AlreadyExistsError(absl::StrCat(
                Describe(req->trace()), " at this till is a refund; a new purchase needs a new ",
                "trace number")));
          }
          if (rec.reversed_unseen()) {
            return finish(absl::FailedPreconditionError(absl::StrCat(
                Describe(req->trace()), " was reversed before its authorization arrived, so it is ",
                "not taken; authorize again with a new trace number")));
          }
          if (rec.authorize_fingerprint() != fingerprint) {
            return finish(absl::AlreadyExistsError(absl::StrCat(
                Describe(req->trace()), " at this till is already the authorization of ",
                FormatYuan(rec.checkout().amount_fen()), " yuan on card ",
                rec.checkout().card_number_masked(), "; a new purchase needs a new trace number")));
          }
          if (!rec.refused().empty()) {
            // Refused after its step began: what it took is given back, and the answer stays.
            std::string refused = rec.refused();
            return Drive(std::move(rec),
                         [refused, finish = std::move(finish)](absl::StatusOr<Record> r) mutable {
                           if (!r.ok()) return finish(r.status());
                           finish(absl::FailedPreconditionError(refused));
                         });
          }
          return Drive(std::move(rec), std::move(finish));  // the same request: its answer
        }
        MakeBasket(caller, req->card(), req->amount_fen(),
                   [this, id, caller, fingerprint, finish = std::move(finish)](
                       absl::StatusOr<std::pair<perks::v1::Basket, perks::v1::Card>> b) mutable {
                     if (!b.ok()) return finish(b.status());
                     Record rec = NewRecord(caller, id);
                     perks::v1::Checkout& c = *rec.mutable_checkout();
                     c.set_state(perks::v1::CHECKOUT_STATE_PENDING);
                     c.set_card_id(b->second.card_id());
                     c.set_card_number_masked(b->second.card_number_masked());
                     c.set_amount_fen(b->first.amount_fen());
                     c.set_to_pay_fen(b->first.amount_fen());
                     c.set_authorized_at_unix_ms(b->first.at_unix_ms());
                     rec.set_step(perks::storage::v1::CHECKOUT_STEP_AUTHORIZING);
                     rec.set_authorize_fingerprint(fingerprint);
                     for (const perks::v1::Balance& balance : b->second.balances()) {
                       if (b->first.balances_fen().contains(balance.name())) {
                         *rec.add_card_balances() = balance;
                       }
                     }
                     *rec.mutable_basket() = std::move(b->first);
                     Save(std::move(rec),
                          [this, finish = std::move(finish)](absl::StatusOr<Record> saved) mutable {
                            if (!saved.ok()) return finish(saved.status());
                            DriveAuthorize(std::move(*saved), std::move(finish));
                          });
                   });
      });
}

void CheckoutService::DriveAuthorize(Record rec, RecordDone done) {
  AtStep("authorize.written");
  auto call = ReserveCall(rec);
  auto shared = std::make_shared<Step>(std::move(rec), std::move(done));
  promotions_.Call(
      "Reserve", &perks::v1::PromotionService::Stub::async::Reserve, call,
      [this, call, shared](absl::Status why) {
        Record& rec = shared->first;
        RecordDone& done = shared->second;
        const std::string id = rec.checkout().checkout_id();
        if (!why.ok()) {
          if (!Definitive(why.code())) {
            return done(absl::UnavailableError(
                absl::StrCat("the discount could not be held (", why.message(),
                             "); send the same authorization again")));
          }
          // Refused: nothing is held, and the checkout is forgotten.
          absl::Status queued = writer_->Submit(
              [this, id](storage::Txn& txn) {
                txn.Delete(checkouts_, CheckoutKey(id).bytes());
                txn.Delete(pending_, PendingKey(id).bytes());
                return absl::OkStatus();
              },
              [shared, why](absl::Status) mutable { shared->second(why); });
          if (!queued.ok()) done(why);
          return;
        }
        AtStep("authorize.reserved");
        const perks::v1::Reservation& r = call->resp;
        perks::v1::Checkout& c = *rec.mutable_checkout();
        rec.set_reservation_id(r.reservation_id());
        c.set_reservation_id(r.reservation_id());
        c.clear_discounts();
        for (const perks::v1::Discount& d : r.evaluation().discounts()) *c.add_discounts() = d;
        c.set_discount_fen(r.evaluation().discount_fen());
        c.set_from_balances_fen(r.evaluation().from_balances_fen());
        c.set_to_pay_fen(r.evaluation().to_pay_fen());
        const int64_t held_until = r.expires_at_unix_ms();
        TakeBalances(
            rec, BalancesPaid(c.discounts()),
            [this, shared, held_until](absl::StatusOr<Taken> taken) {
              Record& rec = shared->first;
              RecordDone& done = shared->second;
              if (!taken.ok()) {
                return done(absl::UnavailableError(absl::StrCat(
                    "the card's balance could not be charged (", taken.status().message(),
                    "); send the same authorization again")));
              }
              if (!taken->refused.ok()) {
                // A balance no longer holds what the evaluation paid from it (spent at another till
                // meanwhile): what was taken goes back, what is held is released, and the
                // authorization is refused, now and on every retry of it.
                std::string why = absl::StrCat(
                    "the card's balance no longer covers what was to be paid from it (",
                    taken->refused.message(), "); authorize again with a new trace number");
                rec.set_refused(why);
                StartReverse(rec, perks::v1::CHECKOUT_STATE_REVERSED, why);
                return Save(std::move(rec), [this, shared, why](absl::StatusOr<Record> saved) {
                  if (!saved.ok()) return shared->second(saved.status());
                  DriveReverse(std::move(*saved), [shared, why](absl::StatusOr<Record> r) {
                    if (!r.ok()) return shared->second(r.status());
                    shared->second(absl::FailedPreconditionError(why));
                  });
                });
              }
              AtStep("authorize.paid");
              perks::v1::Checkout& c = *rec.mutable_checkout();
              // Confirm is refused a little before the campaigns' hold ends, so a confirmation
              // never arrives at a reservation that has just expired.
              const int64_t now = absl::ToUnixMillis(clock_->Now());
              const int64_t held_ms = std::max<int64_t>(0, held_until - now);
              const int64_t margin_ms = std::min<int64_t>(30'000, held_ms / 4);
              c.set_expires_at_unix_ms(
                  std::min(now + absl::ToInt64Milliseconds(options_.authorization_ttl),
                           held_until - margin_ms));
              c.set_state(perks::v1::CHECKOUT_STATE_AUTHORIZED);
              rec.set_step(perks::storage::v1::CHECKOUT_STEP_NONE);
              Save(std::move(rec), [this, shared](absl::StatusOr<Record> saved) {
                if (saved.ok()) {
                  expiry_.Add(saved->checkout().checkout_id(),
                              absl::FromUnixMillis(saved->checkout().expires_at_unix_ms()));
                }
                shared->second(std::move(saved));
              });
            });
      });
}

struct CheckoutService::Taking {
  std::string checkout_request_id;  // StepRequestId(rec, "")
  std::string card_id, category, checkout_id;
  std::vector<perks::v1::BalanceAmount> paid;
  size_t next = 0;
  Taken result;
  TakenDone done;
};

void CheckoutService::TakeBalances(const Record& rec, std::vector<perks::v1::BalanceAmount> paid,
                                   TakenDone done) {
  if (paid.empty()) return done(Taken{});
  auto taking = std::make_shared<Taking>();
  taking->checkout_request_id = StepRequestId(rec, "");
  taking->card_id = rec.checkout().card_id();
  taking->category = rec.basket().category();
  taking->checkout_id = rec.checkout().checkout_id();
  taking->paid = std::move(paid);
  taking->done = std::move(done);
  TakeNext(std::move(taking));
}

void CheckoutService::TakeNext(std::shared_ptr<Taking> taking) {
  if (taking->next == taking->paid.size()) return taking->done(std::move(taking->result));
  const perks::v1::BalanceAmount& b = taking->paid[taking->next];
  auto call = Gate::NewCall<perks::v1::DebitBalanceRequest, perks::v1::BalanceChange>();
  // The same content every time it is driven: the card service answers it once.
  call->req.set_request_id(absl::StrCat(taking->checkout_request_id, "/debit/", b.balance_name()));
  call->req.mutable_card()->set_card_id(taking->card_id);
  call->req.set_balance_name(b.balance_name());
  call->req.set_amount_fen(b.amount_fen());
  call->req.set_merchant_category(taking->category);
  call->req.set_memo(absl::StrCat("paid at checkout ", taking->checkout_id));
  cards_.Call("DebitBalance", &perks::v1::CardService::Stub::async::DebitBalance, call,
              [this, taking](absl::Status why) {
                const perks::v1::BalanceAmount& b = taking->paid[taking->next];
                if (why.ok()) {
                  taking->result.taken.push_back(b);
                } else {
                  if (!Definitive(why.code())) return taking->done(why);
                  if (taking->result.refused.ok()) taking->result.refused = why;
                }
                ++taking->next;
                TakeNext(taking);
              });
}

std::vector<perks::v1::CreditBalanceRequest> CheckoutService::Returns(
    const Record& rec, absl::string_view key, const std::vector<perks::v1::BalanceAmount>& amounts,
    absl::string_view memo) {
  std::vector<perks::v1::CreditBalanceRequest> out;
  for (const perks::v1::BalanceAmount& a : amounts) {
    if (a.amount_fen() <= 0) continue;
    perks::v1::CreditBalanceRequest& credit = out.emplace_back();
    credit.set_request_id(absl::StrCat("checkout/", key, "/return/", a.balance_name()));
    credit.mutable_card()->set_card_id(rec.checkout().card_id());
    credit.set_balance_name(a.balance_name());
    credit.set_amount_fen(a.amount_fen());
    credit.set_memo(std::string(memo));
    // With the balance's own terms, so it is credited to the same balance.
    for (const perks::v1::Balance& b : rec.card_balances()) {
      if (b.name() != a.balance_name()) continue;
      credit.set_kind(b.kind());
      *credit.mutable_allowed_categories() = b.allowed_categories();
      credit.set_expires_at_unix_ms(b.expires_at_unix_ms());
    }
  }
  return out;
}

CheckoutService::Reactor* CheckoutService::Confirm(Ctx* ctx, const perks::v1::ConfirmRequest* req,
                                                   perks::v1::Checkout* resp) {
  return gate_.Run(ctx, "Confirm", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
    if (absl::Status s = CheckTrace(req->trace()); !s.ok()) return done(s);
    if (req->bank_reference().size() > 64) {
      return done(absl::InvalidArgumentError("bank_reference is longer than 64 bytes"));
    }
    const std::string id = CheckoutId(caller.name(), req->trace());
    if (!Claim(id)) return done(Busy(id));
    RecordDone finish = Answer(id, resp, std::move(done));
    auto loaded = Load(id);
    if (!loaded.ok()) return finish(loaded.status());
    if (!loaded->has_value() || (*loaded)->has_refund()) {
      return finish(absl::NotFoundError(absl::StrCat("this till has no authorization with ",
                                                     Describe(req->trace()), "; authorize first")));
    }
    Record rec = std::move(**loaded);
    const perks::v1::Checkout& c = rec.checkout();
    switch (rec.step()) {
      case perks::storage::v1::CHECKOUT_STEP_CONFIRMING:
        // Written by an older build, which wrote a confirmation down before its commit.
        if (!req->bank_reference().empty() && req->bank_reference() != c.bank_reference()) {
          return finish(absl::AlreadyExistsError(
              absl::StrCat(Describe(req->trace()), " is being confirmed with bank reference ",
                           c.bank_reference(), ", not ", req->bank_reference())));
        }
        return DriveConfirm(std::move(rec),
                            ConfirmAnswer(req->trace(), req->bank_reference(), std::move(finish)));
      case perks::storage::v1::CHECKOUT_STEP_AUTHORIZING:
        return finish(absl::UnavailableError(
            absl::StrCat("the authorization of ", Describe(req->trace()),
                         " has not finished: send the authorization again, then confirm")));
      case perks::storage::v1::CHECKOUT_STEP_REVERSING:
        // A reversal (or an expiry) was written down: it is finished, then answered for.
        return DriveReverse(std::move(rec),
                            ConfirmAnswer(req->trace(), req->bank_reference(), std::move(finish)));
      default:
        break;
    }
    switch (c.state()) {
      case perks::v1::CHECKOUT_STATE_CONFIRMED:
        return finish(AnswerConfirmed(std::move(rec), req->trace(), req->bank_reference()));
      case perks::v1::CHECKOUT_STATE_REVERSED:
        return finish(absl::FailedPreconditionError(absl::StrCat(
            Describe(req->trace()), " was reversed at ", LocalTime(c.settled_at_unix_ms()),
            " and cannot be confirmed; ", kVoidOrAuthorizeAgain)));
      case perks::v1::CHECKOUT_STATE_EXPIRED:
        return finish(absl::FailedPreconditionError(ExpiredRefusal(req->trace(), c)));
      case perks::v1::CHECKOUT_STATE_AUTHORIZED:
        break;
      default:
        return finish(absl::InternalError(absl::StrCat("checkout ", id, " is in no known state")));
    }
    if (absl::ToUnixMillis(clock_->Now()) >= c.expires_at_unix_ms()) {
      // Too late: it expires now, and the confirmation is refused.
      StartReverse(rec, perks::v1::CHECKOUT_STATE_EXPIRED, "not confirmed in time");
      RecordDone answer = ConfirmAnswer(req->trace(), req->bank_reference(), std::move(finish),
                                        ExpiredRefusal(req->trace(), c));
      return Save(std::move(rec),
                  [this, answer = std::move(answer)](absl::StatusOr<Record> saved) mutable {
                    if (!saved.ok()) return answer(saved.status());
                    DriveReverse(std::move(*saved), std::move(answer));
                  });
    }
    // Nothing is written before the commit: the promotion service's commit, which keeps the bank
    // reference, is what a restart or a later reversal reads to learn that it was made.
    // (Committed before with another bank reference, it is confirmed with that one, and the
    // till is told.)
    rec.mutable_checkout()->set_bank_reference(req->bank_reference());
    DriveConfirm(std::move(rec),
                 ConfirmAnswer(req->trace(), req->bank_reference(), std::move(finish)));
  });
}

void CheckoutService::DriveConfirm(Record rec, RecordDone done) {
  AtStep("confirm.begun");
  auto call = Gate::NewCall<perks::v1::CommitRequest, perks::v1::Reservation>();
  call->req.set_request_id(StepRequestId(rec, "commit"));
  call->req.set_reservation_id(rec.reservation_id());
  call->req.set_reference(rec.checkout().bank_reference());
  auto shared = std::make_shared<Step>(std::move(rec), std::move(done));
  promotions_.Call(
      "Commit", &perks::v1::PromotionService::Stub::async::Commit, call,
      [this, call, shared](absl::Status why) {
        Record& rec = shared->first;
        if (why.ok()) return FinishCommitted(std::move(rec), call->resp, std::move(shared->second));
        auto not_finished = [shared](const absl::Status& why) {
          shared->second(absl::UnavailableError(
              absl::StrCat("the confirmation is not finished (", why.message(),
                           "); send the same confirmation again")));
        };
        if (why.code() == absl::StatusCode::kAlreadyExists) {
          // Committed before, with another bank reference: it is confirmed with that one.
          const std::string reservation_id = rec.reservation_id();
          return FinishIfCommitted(
              reservation_id, shared,
              [shared, not_finished, reservation_id](absl::StatusOr<perks::v1::Reservation> r) {
                if (!r.ok()) return not_finished(r.status());
                Log(LogLevel::kError, "checkout.commit_conflict",
                    {{"checkout", shared->first.checkout().checkout_id()},
                     {"reservation", reservation_id}});
                shared->second(absl::InternalError(
                    absl::StrCat("the promotion service refused the commit of reservation ",
                                 reservation_id, " as a repeat with other content, and it is ",
                                 perks::v1::ReservationState_Name(r->state()),
                                 ": ask the operator to check its audit log")));
              });
        }
        // Only FAILED_PRECONDITION says the reservation is no longer held.
        if (why.code() != absl::StatusCode::kFailedPrecondition) return not_finished(why);
        // The campaigns no longer hold it: the authorization has expired.
        absl::Status refused = absl::FailedPreconditionError(
            absl::StrCat("the authorization of ", rec.checkout().checkout_id(),
                         " is no longer held (", why.message(), "); ", kVoidOrAuthorizeAgain));
        auto answer = [shared, refused](absl::StatusOr<Record> r) {
          if (!r.ok()) return shared->second(r.status());
          // (A reversal that found the reservation committed after all ends it confirmed.)
          if (r->checkout().state() == perks::v1::CHECKOUT_STATE_CONFIRMED) {
            return shared->second(std::move(r));
          }
          shared->second(refused);
        };
        if (rec.checkout().from_balances_fen() > 0) {
          // What the card's balances paid goes back: the expiry is finished as a reversal.
          StartReverse(rec, perks::v1::CHECKOUT_STATE_EXPIRED, std::string(why.message()));
          return Save(std::move(rec), [this, answer](absl::StatusOr<Record> saved) {
            if (!saved.ok()) return answer(saved.status());
            DriveReverse(std::move(*saved), answer);
          });
        }
        rec.mutable_checkout()->set_state(perks::v1::CHECKOUT_STATE_EXPIRED);
        rec.mutable_checkout()->set_reason(std::string(why.message()));
        rec.mutable_checkout()->set_settled_at_unix_ms(absl::ToUnixMillis(clock_->Now()));
        rec.set_step(perks::storage::v1::CHECKOUT_STEP_NONE);
        Save(std::move(rec), [this, answer](absl::StatusOr<Record> saved) {
          if (saved.ok()) expiry_.Remove(saved->checkout().checkout_id());
          answer(std::move(saved));
        });
      });
}

void CheckoutService::FinishCommitted(Record rec, const perks::v1::Reservation& committed,
                                      RecordDone done) {
  AtStep("confirm.committed");
  perks::v1::Checkout& c = *rec.mutable_checkout();
  c.set_state(perks::v1::CHECKOUT_STATE_CONFIRMED);
  // The payment the commit was made for (a reversal that found it knows no other). Only a commit
  // made by an older build, after its CONFIRMING record, may have kept none.
  if (!committed.reference().empty() ||
      rec.step() != perks::storage::v1::CHECKOUT_STEP_CONFIRMING) {
    c.set_bank_reference(committed.reference());
  }
  // As of the commit, which a restart or a reversal may find much later (its business day is
  // the commit's, as the bank's payment's is).
  c.set_settled_at_unix_ms(committed.settled_at_unix_ms() != 0 ? committed.settled_at_unix_ms()
                                                               : absl::ToUnixMillis(clock_->Now()));
  c.clear_reason();
  rec.set_step(perks::storage::v1::CHECKOUT_STEP_NONE);
  rec.clear_reversing_to();
  // A confirmed discount goes to settlement in the same write as the confirmation.
  std::optional<perks::v1::SettlementEvent> settles = ConfirmedEvent(c);
  Save(
      std::move(rec),
      [this, done = std::move(done)](absl::StatusOr<Record> saved) mutable {
        if (!saved.ok()) {
          // The commit stands: the retry (or a reversal, an expiry, the next start) writes it.
          return done(absl::UnavailableError(
              absl::StrCat("the confirmation is made but could not be written down yet (",
                           saved.status().message(), "); send the same request again")));
        }
        AtStep("confirm.saved");
        expiry_.Remove(saved->checkout().checkout_id());
        done(std::move(saved));
      },
      std::move(settles));
}

void CheckoutService::FinishIfCommitted(const std::string& reservation_id,
                                        std::shared_ptr<Step> step, ReservationDone otherwise) {
  auto call = Gate::NewCall<perks::v1::GetReservationRequest, perks::v1::Reservation>();
  call->req.set_reservation_id(reservation_id);
  promotions_.Call(
      "GetReservation", &perks::v1::PromotionService::Stub::async::GetReservation, call,
      [this, call, step,
       otherwise = std::make_shared<ReservationDone>(std::move(otherwise))](absl::Status s) {
        if (!s.ok()) return (*otherwise)(s);
        if (call->resp.state() == perks::v1::RESERVATION_STATE_COMMITTED) {
          return FinishCommitted(std::move(step->first), call->resp, std::move(step->second));
        }
        (*otherwise)(std::move(call->resp));
      });
}

CheckoutService::Reactor* CheckoutService::Reverse(Ctx* ctx, const perks::v1::ReverseRequest* req,
                                                   perks::v1::Checkout* resp) {
  return gate_.Run(ctx, "Reverse", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
    if (absl::Status s = CheckTrace(req->trace()); !s.ok()) return done(s);
    if (req->reason().size() > 200) {
      return done(absl::InvalidArgumentError("reason is longer than 200 bytes"));
    }
    const std::string id = CheckoutId(caller.name(), req->trace());
    if (!Claim(id)) return done(Busy(id));
    RecordDone finish = Answer(id, resp, std::move(done));
    auto loaded = Load(id);
    if (!loaded.ok()) return finish(loaded.status());
    if (loaded->has_value() && (*loaded)->has_refund()) {
      return finish(absl::FailedPreconditionError(absl::StrCat(
          Describe(req->trace()), " at this till is a refund, and a refund is not reversed; ",
          "send the same refund again to learn its answer")));
    }
    const std::string reason = req->reason().empty() ? "reversed by the till" : req->reason();
    if (!loaded->has_value()) {
      // Not seen yet: answered as done, and remembered, so its late authorization is refused.
      Record rec = NewRecord(caller, id);
      perks::v1::Checkout& c = *rec.mutable_checkout();
      c.set_state(perks::v1::CHECKOUT_STATE_REVERSED);
      c.set_settled_at_unix_ms(absl::ToUnixMillis(clock_->Now()));
      c.set_reason(reason);
      rec.set_reversed_unseen(true);
      return Save(std::move(rec), std::move(finish));
    }
    Record rec = std::move(**loaded);
    // A reversal that finds its checkout's commit made (nothing was written down after it) ends
    // it confirmed, and is refused.
    auto reversed = [trace = req->trace(),
                     finish = std::move(finish)](absl::StatusOr<Record> r) mutable {
      if (r.ok() && r->checkout().state() == perks::v1::CHECKOUT_STATE_CONFIRMED) {
        return finish(ConfirmedNotReversed(trace));
      }
      finish(std::move(r));
    };
    if (rec.step() == perks::storage::v1::CHECKOUT_STEP_REVERSING) {
      return DriveReverse(std::move(rec), std::move(reversed));
    }
    if (rec.step() == perks::storage::v1::CHECKOUT_STEP_CONFIRMING) {
      // Its confirmation was written down (by an older build): it is finished first, then
      // answered for.
      return DriveConfirm(std::move(rec), [this, id, reversed = std::move(reversed)](
                                              absl::StatusOr<Record> r) mutable {
        auto now = Load(id);
        if (!now.ok() || !now->has_value()) return reversed(r.status());
        const CheckoutState state = (*now)->checkout().state();
        if (state == perks::v1::CHECKOUT_STATE_EXPIRED ||
            state == perks::v1::CHECKOUT_STATE_CONFIRMED) {
          return reversed(std::move(**now));
        }
        reversed(r.status());  // not finished: the till sends the reversal again
      });
    }
    const CheckoutState state = rec.checkout().state();
    if (state == perks::v1::CHECKOUT_STATE_CONFIRMED ||
        state == perks::v1::CHECKOUT_STATE_REVERSED || state == perks::v1::CHECKOUT_STATE_EXPIRED) {
      return reversed(std::move(rec));  // done already
    }
    StartReverse(rec, perks::v1::CHECKOUT_STATE_REVERSED, reason);
    Save(std::move(rec),
         [this, reversed = std::move(reversed)](absl::StatusOr<Record> saved) mutable {
           if (!saved.ok()) return reversed(saved.status());
           DriveReverse(std::move(*saved), std::move(reversed));
         });
  });
}

void CheckoutService::DriveReverse(Record rec, RecordDone done) {
  AtStep("reverse.written");
  auto shared = std::make_shared<Step>(std::move(rec), std::move(done));
  auto not_finished = [shared](const absl::Status& why) {
    shared->second(absl::UnavailableError(
        absl::StrCat("the reversal is not finished (", why.message(), "); send it again")));
  };
  // What the card's balances paid goes back in the same write as the end of the reversal.
  auto finish = [this, shared](std::vector<perks::v1::BalanceAmount> taken) {
    AtStep("reverse.released");
    Record& rec = shared->first;
    rec.mutable_checkout()->set_state(rec.reversing_to());
    rec.mutable_checkout()->set_settled_at_unix_ms(absl::ToUnixMillis(clock_->Now()));
    rec.set_step(perks::storage::v1::CHECKOUT_STEP_NONE);
    auto returns = Returns(rec, rec.checkout().checkout_id(), taken,
                           absl::StrCat("given back: checkout ", rec.checkout().checkout_id(), " ",
                                        perks::v1::CheckoutState_Name(rec.reversing_to())));
    Save(
        std::move(rec),
        [this, shared](absl::StatusOr<Record> saved) {
          if (saved.ok()) expiry_.Remove(saved->checkout().checkout_id());
          shared->second(std::move(saved));
        },
        std::nullopt, std::move(returns));
  };
  // Learns what the balances paid (taking it now if the authorization stopped short of that:
  // it all goes back), then releases the reservation.
  auto release = [this, shared, finish, not_finished](
                     std::string reservation_id,
                     const google::protobuf::RepeatedPtrField<perks::v1::Discount>& discounts) {
    TakeBalances(
        shared->first, BalancesPaid(discounts),
        [this, shared, finish, not_finished,
         reservation_id = std::move(reservation_id)](absl::StatusOr<Taken> taken) mutable {
          if (!taken.ok()) return not_finished(taken.status());
          if (taken->refused.code() == absl::StatusCode::kAlreadyExists) {
            // A debit of this checkout was made with other content: what it took is
            // not known here, so nothing is given back on a guess.
            Log(LogLevel::kError, "checkout.balance_debit_conflict",
                {{"checkout", shared->first.checkout().checkout_id()},
                 {"reason", taken->refused.ToString()}});
            return not_finished(absl::InternalError(absl::StrCat(
                "what the card's balance paid cannot be read back (", taken->refused.message(),
                "); ask the operator to check the card's history")));
          }
          auto call = Gate::NewCall<perks::v1::ReleaseRequest, perks::v1::Reservation>();
          call->req.set_request_id(StepRequestId(shared->first, "release"));
          call->req.set_reservation_id(std::move(reservation_id));
          call->req.set_reason(shared->first.checkout().reason());
          promotions_.Call(
              "Release", &perks::v1::PromotionService::Stub::async::Release, call,
              [this, call, shared, finish, not_finished,
               taken = std::move(taken->taken)](absl::Status why) mutable {
                if (why.ok()) return finish(std::move(taken));
                if (!Definitive(why.code())) return not_finished(why);
                // Made just now by this reversal: nothing else can have committed it.
                if (shared->first.reservation_id().empty()) {
                  return finish(std::move(taken));
                }
                // Refused: committed (a confirmation's commit was made, and the
                // process ended before writing it down), so the checkout is
                // confirmed and keeps what the card's balances paid; or no longer
                // held, or not there, and nothing is held.
                FinishIfCommitted(
                    call->req.reservation_id(), shared,
                    [finish, not_finished, why,
                     taken = std::move(taken)](absl::StatusOr<perks::v1::Reservation> r) mutable {
                      if (!r.ok() && r.status().code() != absl::StatusCode::kNotFound) {
                        return not_finished(r.status());
                      }
                      if (r.ok() && r->state() == perks::v1::RESERVATION_STATE_HELD) {
                        return not_finished(why);
                      }
                      finish(std::move(taken));
                    });
              });
        });
  };
  const Record& held = shared->first;
  if (!held.reservation_id().empty()) {
    return release(held.reservation_id(), held.checkout().discounts());
  }
  // Its authorization never finished: the reservation (made now, if it never was) is released.
  auto call = ReserveCall(held);
  promotions_.Call("Reserve", &perks::v1::PromotionService::Stub::async::Reserve, call,
                   [call, release, finish, not_finished](absl::Status why) {
                     if (why.ok()) {
                       return release(call->resp.reservation_id(),
                                      call->resp.evaluation().discounts());
                     }
                     if (Definitive(why.code())) return finish({});  // nothing held, nothing paid
                     not_finished(why);
                   });
}

void CheckoutService::Expire(std::vector<std::string> ids) {
  const absl::Time now = clock_->Now();
  for (std::string& id : ids) {
    if (!Claim(id)) {
      expiry_.Add(id, now + absl::Seconds(1));  // a step is under way: look again soon
      continue;
    }
    auto loaded = Load(id);
    const bool found = loaded.ok() && loaded->has_value();
    // An expiry whose release failed is finished; an authorization whose time has come expires.
    const bool reversing =
        found && (*loaded)->step() == perks::storage::v1::CHECKOUT_STEP_REVERSING;
    const bool due = found && (*loaded)->step() == perks::storage::v1::CHECKOUT_STEP_NONE &&
                     (*loaded)->checkout().state() == perks::v1::CHECKOUT_STATE_AUTHORIZED &&
                     absl::ToUnixMillis(now) >= (*loaded)->checkout().expires_at_unix_ms();
    if (!reversing && !due) {
      if (!loaded.ok()) expiry_.Add(id, now + absl::Seconds(5));
      Unclaim(id);
      continue;
    }
    Record rec = std::move(**loaded);
    if (due) {
      StartReverse(rec, perks::v1::CHECKOUT_STATE_EXPIRED,
                   "neither confirmed nor reversed in time");
    }
    BeginBackground();
    // When a write or the release fails, it is looked at again a little later.
    auto again = [this, id](const absl::Status& why) {
      Log(LogLevel::kWarning, "checkout.expiry_deferred",
          {{"checkout", id}, {"reason", why.ToString()}});
      expiry_.Add(id, clock_->Now() + absl::Seconds(5));
      Unclaim(id);
      EndBackground();
    };
    Save(std::move(rec), [this, id, again](absl::StatusOr<Record> saved) {
      if (!saved.ok()) return again(saved.status());
      DriveReverse(std::move(*saved), [this, id, again](absl::StatusOr<Record> r) {
        if (!r.ok()) return again(r.status());
        Unclaim(id);
        if (expired_ && r->checkout().state() != perks::v1::CHECKOUT_STATE_CONFIRMED) expired_(id);
        EndBackground();
      });
    });
  }
}

CheckoutService::Reactor* CheckoutService::Refund(Ctx* ctx, const perks::v1::RefundRequest* req,
                                                  perks::v1::RefundResult* resp) {
  return gate_.Run(ctx, "Refund", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
    if (absl::Status s = CheckTrace(req->trace()); !s.ok()) return done(s);
    if (req->checkout_id().empty()) {
      return done(absl::InvalidArgumentError("name the purchase refunded: checkout_id"));
    }
    if (req->amount_fen() <= 0 || req->amount_fen() > options_.amount_fen_max) {
      return done(absl::InvalidArgumentError(
          absl::StrCat("amount_fen must be at least 1 (fen) and at most the purchase; got ",
                       req->amount_fen())));
    }
    const std::string refund_id = CheckoutId(caller.name(), req->trace());
    const std::string fingerprint = Fingerprint(*req);
    const int64_t now = absl::ToUnixMillis(clock_->Now());
    auto answer = std::make_shared<Gate::Done>(std::move(done));
    absl::Status queued = writer_->Submit(
        [this, req, resp, caller, refund_id, fingerprint, now](storage::Txn& txn) -> absl::Status {
          // The refund's own key: a retry of it, or already another transaction.
          auto seen = GetRecord<Record>(txn, checkouts_, CheckoutKey(refund_id));
          if (!seen.ok()) return seen.status();
          if (seen->has_value()) {
            if (!(*seen)->has_refund()) {
              return absl::AlreadyExistsError(absl::StrCat(
                  Describe(req->trace()), " at this till is already a purchase (or its ",
                  "reversal); a refund needs a new trace number"));
            }
            if ((*seen)->refund().fingerprint() != fingerprint) {
              return absl::AlreadyExistsError(absl::StrCat(
                  Describe(req->trace()), " at this till is already another refund; a new ",
                  "refund needs a new trace number"));
            }
            *resp = (*seen)->refund().result();
            return absl::OkStatus();
          }
          auto loaded = GetRecord<Record>(txn, checkouts_, CheckoutKey(req->checkout_id()));
          if (!loaded.ok()) return loaded.status();
          if (!loaded->has_value() || (*loaded)->has_refund() ||
              (*loaded)->checkout().merchant_id() != caller.merchant_id() ||
              (*loaded)->reversed_unseen()) {
            return absl::NotFoundError(absl::StrCat("this merchant has no purchase ",
                                                    req->checkout_id(), "; check the receipt"));
          }
          Record& rec = **loaded;
          perks::v1::Checkout& c = *rec.mutable_checkout();
          if (c.state() != perks::v1::CHECKOUT_STATE_CONFIRMED ||
              rec.step() != perks::storage::v1::CHECKOUT_STEP_NONE) {
            return absl::FailedPreconditionError(absl::StrCat(
                "purchase ", c.checkout_id(), " is ", perks::v1::CheckoutState_Name(c.state()),
                ": only a confirmed purchase is refunded (an authorization is reversed)"));
          }
          auto split = SplitRefund(c, req->amount_fen());
          if (!split.ok()) return split.status();
          perks::v1::Refund* r = c.add_refunds();
          r->set_refund_id(refund_id);
          r->set_amount_fen(req->amount_fen());
          r->set_discount_fen(split->discount_fen);
          for (perks::v1::FundedShare& f : split->funding) *r->add_funding() = std::move(f);
          for (perks::v1::BalanceAmount& b : split->to_balances) *r->add_to_balances() = b;
          for (perks::v1::FundedShare& f : split->balance_funding) {
            *r->add_balance_funding() = std::move(f);
          }
          r->set_at_unix_ms(now);
          c.set_refunded_fen(c.refunded_fen() + req->amount_fen());
          c.set_refunded_discount_fen(c.refunded_discount_fen() + split->discount_fen);
          *resp->mutable_refund() = *r;
          *resp->mutable_checkout() = c;
          Record answer;
          answer.mutable_refund()->set_fingerprint(fingerprint);
          *answer.mutable_refund()->mutable_result() = *resp;
          txn.Put(checkouts_, CheckoutKey(c.checkout_id()).bytes(), rec.SerializeAsString());
          txn.Put(checkouts_, CheckoutKey(refund_id).bytes(), answer.SerializeAsString());
          // The funders' shares back go to settlement, and what the card's balances paid back
          // to them, in the same write.
          if (auto e = RefundedEvent(c, *r)) outbox_->Put(txn, *e);
          for (const perks::v1::CreditBalanceRequest& credit :
               Returns(rec, refund_id, split->to_balances,
                       absl::StrCat("refund ", refund_id, " of checkout ", c.checkout_id()))) {
            returns_->Put(txn, credit);
          }
          return absl::OkStatus();
        },
        [this, answer](absl::Status s) {
          if (s.ok()) AtStep("refund.saved");
          if (s.ok()) {
            outbox_->Wake();
            returns_->Wake();
          }
          (*answer)(s);
        });
    if (!queued.ok()) (*answer)(queued);
  });
}

CheckoutService::Reactor* CheckoutService::GetCheckout(Ctx* ctx,
                                                       const perks::v1::GetCheckoutRequest* req,
                                                       perks::v1::Checkout* resp) {
  return gate_.Run(
      ctx, "GetCheckout", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
        std::string id = req->checkout_id();
        if (id.empty()) {
          if (caller.role() != perks::v1::ROLE_TERMINAL) {
            return done(absl::InvalidArgumentError("name the checkout: checkout_id"));
          }
          if (absl::Status s = CheckTrace(req->trace()); !s.ok()) return done(s);
          id = CheckoutId(caller.name(), req->trace());
        }
        auto loaded = Load(id);
        if (!loaded.ok()) return done(loaded.status());
        const bool visible = loaded->has_value() && !(*loaded)->has_refund() &&
                             SeesTenant(caller, (*loaded)->checkout().tenant_id()) &&
                             (!BoundToMerchant(caller) ||
                              (*loaded)->checkout().merchant_id() == caller.merchant_id());
        if (!visible) return done(absl::NotFoundError(absl::StrCat("no checkout ", id)));
        *resp = (*loaded)->checkout();
        done(absl::OkStatus());
      });
}

}  // namespace perks::checkout
