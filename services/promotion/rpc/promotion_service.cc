#include "services/promotion/rpc/promotion_service.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/card/domain/card_rules.h"
#include "services/common/grpc_status.h"
#include "services/common/money.h"
#include "services/promotion/domain/spec.h"

namespace perks::promotion {
namespace {

using perks::v1::Caller;

// The city a caller's reads and changes are confined to; empty for callers of every city.
std::string ScopeTenant(const Caller& caller) {
  switch (caller.role()) {
    case perks::v1::ROLE_INSTALLATION_ADMIN:
    case perks::v1::ROLE_SERVICE:
      return "";
    default:
      return caller.tenant_id();
  }
}

absl::Status MayActIn(const Caller& caller, const std::string& tenant_id) {
  if (SeesTenant(caller, tenant_id)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("your token is for ", caller.tenant_id(),
                                                  "; campaigns of ", tenant_id,
                                                  " are run by that city's union"));
}

// Fills in what a basket may leave out (its city, its moment) and refuses what it may not say.
absl::Status CheckBasket(const Caller& caller, absl::Time now, perks::v1::Basket& b) {
  if (b.tenant_id().empty()) b.set_tenant_id(caller.tenant_id());
  if (b.at_unix_ms() == 0) b.set_at_unix_ms(absl::ToUnixMillis(now));
  if (b.amount_fen() <= 0 || b.amount_fen() > kAmountFenMax) {
    return absl::InvalidArgumentError(absl::StrCat("amount_fen must be 1 to ", kAmountFenMax,
                                                   " (fen); this basket says ", b.amount_fen()));
  }
  if (b.at_unix_ms() < 0) return absl::InvalidArgumentError("at_unix_ms must not be negative");
  if (b.merchant_id().empty() && b.category().empty()) {
    return absl::InvalidArgumentError("name the merchant_id or the category of the purchase");
  }
  if (absl::Status s = MayActIn(caller, b.tenant_id()); !s.ok()) return s;
  if (BoundToMerchant(caller)) {
    if (b.merchant_id() != caller.merchant_id()) {
      return absl::PermissionDeniedError("a till evaluates baskets of its own merchant only");
    }
    if (!caller.store_id().empty() && !b.store_id().empty() && b.store_id() != caller.store_id()) {
      return absl::PermissionDeniedError("a till evaluates baskets of its own store only");
    }
  }
  return absl::OkStatus();
}

// A card may be granted to while it can take credit: issued, active or frozen; what activation
// earns only once it is active.
absl::Status CardTakesGrants(const perks::v1::Card& card, perks::v1::GrantEvent event) {
  using perks::v1::CardState;
  CardState state = card.state();
  if (event == perks::v1::GRANT_EVENT_CARD_ACTIVATED && state != perks::v1::CARD_STATE_ACTIVE) {
    return absl::FailedPreconditionError(
        absl::StrCat("card ", card.card_number_masked(), " is ", perks::v1::CardState_Name(state),
                     ", not active: activation grants follow its activation"));
  }
  if (state != perks::v1::CARD_STATE_ISSUED && state != perks::v1::CARD_STATE_ACTIVE &&
      state != perks::v1::CARD_STATE_FROZEN) {
    return absl::FailedPreconditionError(
        absl::StrCat("card ", card.card_number_masked(), " is ", perks::v1::CardState_Name(state),
                     " and takes no credit; grant to the member's live card instead"));
  }
  return absl::OkStatus();
}

// The credit that puts grant `g` of `result` on its card. The card service credits once per
// request id: a repeated Grant finishes, never doubles. The grant's own id (kept in its first
// answer) keeps the id short whatever the caller's was.
perks::v1::CreditBalanceRequest CreditFor(const perks::v1::GrantResult& result,
                                          const perks::v1::GrantedBalance& g) {
  perks::v1::CreditBalanceRequest req;
  req.set_request_id(absl::StrCat("grant/", result.grant_id(), "/", g.campaign_id()));
  req.mutable_card()->set_card_id(result.card_id());
  req.set_balance_name(g.balance_name());
  req.set_kind(static_cast<perks::v1::BalanceKind>(g.balance_kind()));
  req.set_amount_fen(g.amount_fen());
  *req.mutable_allowed_categories() = g.allowed_categories();
  req.set_expires_at_unix_ms(g.expires_at_unix_ms());
  req.set_memo(absl::StrCat("campaign ", g.campaign_id(), " version ", g.version()));
  return req;
}

// Whether the card takes `result`'s credits: by the card service's own rule, a balance of the
// same name keeps its kind, categories and expiry.
absl::Status CardTakesCredits(const perks::v1::Card& card, const perks::v1::GrantResult& result) {
  for (const perks::v1::GrantedBalance& g : result.grants()) {
    for (const perks::v1::Balance& b : card.balances()) {
      if (b.name() != g.balance_name() || card::SameCreditTerms(b, CreditFor(result, g))) continue;
      return absl::FailedPreconditionError(
          absl::StrCat("card ", card.card_number_masked(), " already has a balance '", b.name(),
                       "' of another kind, categories or expiry than campaign ", g.campaign_id(),
                       " grants; rename the campaign's balance_name (e.g. with the year) and "
                       "publish it again"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PromotionService>> PromotionService::Open(
    const PromotionServiceOptions& o) {
  storage::DbOptions db_options;
  db_options.path = o.db_path;
  db_options.column_families = PromotionStore::ColumnFamilies();
  db_options.schema_version = PromotionStore::kSchemaVersion;
  db_options.block_cache_bytes = o.cache_bytes;
  auto db = storage::Db::Open(db_options);
  if (!db.ok()) return db.status();
  auto service = std::unique_ptr<PromotionService>(new PromotionService(std::move(*db), o));
  if (absl::Status s = service->Recompile(); !s.ok()) return s;
  if (absl::Status s = service->reservations_->Restore(); !s.ok()) return s;
  return service;
}

PromotionService::PromotionService(std::unique_ptr<storage::Db> db,
                                   const PromotionServiceOptions& o)
    : db_(std::move(db)),
      writer_(std::make_unique<storage::GroupCommitWriter>(db_.get(), o.writer)),
      store_(db_.get()),
      clock_(o.clock),
      idempotency_{db_.get(), writer_.get(), store_.idempotency_family(), o.clock},
      audit_(db_.get(), "promotion"),
      gate_("perks.v1.PromotionService", o.gate),
      reservations_(std::make_unique<Reservations>(db_.get(), writer_.get(), o.clock,
                                                   [this] { return rules(); })),
      cards_(&gate_) {
  // What a checkout in this process asks for at every till, called without gRPC.
  gate_.ServeLocally<perks::v1::EvaluateRequest, perks::v1::Evaluation>(
      "Evaluate", [this](auto* req, auto* resp) { return Evaluating(req, resp); });
  gate_.ServeLocally<perks::v1::ReserveRequest, perks::v1::Reservation>(
      "Reserve", [this](auto* req, auto* resp) { return Reserving(req, resp); });
  gate_.ServeLocally<perks::v1::CommitRequest, perks::v1::Reservation>(
      "Commit", [this](auto* req, auto* resp) { return Committing(req, resp); });
  gate_.ServeLocally<perks::v1::ReleaseRequest, perks::v1::Reservation>(
      "Release", [this](auto* req, auto* resp) { return Releasing(req, resp); });
  gate_.ServeLocally<perks::v1::GetReservationRequest, perks::v1::Reservation>(
      "GetReservation", [this](auto* req, auto* resp) { return GettingReservation(req, resp); });
}

PromotionService::~PromotionService() { (void)Close(); }

absl::Status PromotionService::Close() {
  if (reservations_) reservations_->Stop();
  if (writer_) writer_->Stop();
  return db_->Close();
}

std::shared_ptr<const RuleSet> PromotionService::rules() const {
  std::lock_guard<std::mutex> lock(rules_mu_);
  return rules_;
}

absl::Status PromotionService::Recompile() {
  std::lock_guard<std::mutex> compile_lock(compile_mu_);
  auto published = store_.Published();
  if (!published.ok()) return published.status();
  auto set = RuleSet::Compile(std::move(*published));
  if (!set.ok()) {
    return absl::InternalError(
        absl::StrCat("the published campaigns do not compile: ", set.status().message()));
  }
  std::lock_guard<std::mutex> lock(rules_mu_);
  rules_ = std::move(*set);
  return absl::OkStatus();
}

MutationSteps<Mutation> PromotionService::Steps(Check check, Apply apply) {
  MutationSteps<Mutation> steps;
  steps.make = [this](const Caller& caller) {
    return Mutation{ActorName(caller), absl::ToUnixMillis(clock_->Now()), ScopeTenant(caller),
                    BoundToMerchant(caller) ? caller.merchant_id() : ""};
  };
  steps.check = [check = std::move(check)](const Caller& caller, Mutation&) mutable {
    return check(caller);
  };
  steps.apply = std::move(apply);
  return steps;
}

PromotionService::Reactor* PromotionService::Mutate(Ctx* ctx, std::string_view method,
                                                    const google::protobuf::Message& req,
                                                    google::protobuf::Message* resp, Check check,
                                                    Apply apply, bool recompile) {
  MutationSteps<Mutation> steps = Steps(std::move(check), std::move(apply));
  if (recompile) steps.after = [this] { return Recompile(); };
  return AdmitAndMutate(gate_, idempotency_, audit_, ctx, method, req, resp, std::move(steps));
}

PromotionService::Reactor* PromotionService::Read(
    Ctx* ctx, std::string_view method, const google::protobuf::Message& req,
    absl::AnyInvocable<absl::Status(const Caller&)> read) {
  return AdmitAndRead(gate_, ctx, method, req, std::move(read));
}

PromotionService::Reactor* PromotionService::ApplyCampaign(
    Ctx* ctx, const perks::v1::ApplyCampaignRequest* req, perks::v1::Campaign* resp) {
  return gate_.Run(
      ctx, "ApplyCampaign", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
        if (absl::Status s = ValidateSpec(req->spec()); !s.ok()) return done(s);
        if (absl::Status s = MayActIn(caller, req->spec().tenant_id()); !s.ok()) return done(s);
        // A campaign may name only merchants the city has: the merchant service says which.
        const auto& ids = req->spec().eligibility().merchant_ids();
        gate_.CheckMerchantsExist(
            {ids.begin(), ids.end()}, req->spec().tenant_id(), "eligibility.merchant_ids",
            [this, req, resp, caller, done = std::move(done)](absl::Status s) mutable {
              if (!s.ok()) return done(s);
              MutateAdmitted(idempotency_, audit_, caller, "ApplyCampaign", *req, resp,
                             Steps([](const Caller&) { return absl::OkStatus(); },
                                   [this, req, resp](storage::Txn& txn, const Mutation& m) {
                                     return store_.Apply(txn, req->spec(), m, resp);
                                   }),
                             std::move(done));
            });
      });
}

PromotionService::Reactor* PromotionService::PublishCampaign(
    Ctx* ctx, const perks::v1::PublishCampaignRequest* req, perks::v1::Campaign* resp) {
  return Mutate(
      ctx, "PublishCampaign", *req, resp, [](const Caller&) { return absl::OkStatus(); },
      [this, req, resp](storage::Txn& txn, const Mutation& m) {
        return store_.Publish(txn, *req, m, resp);
      },
      /*recompile=*/true);
}

PromotionService::Reactor* PromotionService::SetCampaignState(
    Ctx* ctx, const perks::v1::SetCampaignStateRequest* req, perks::v1::Campaign* resp) {
  return Mutate(
      ctx, "SetCampaignState", *req, resp, [](const Caller&) { return absl::OkStatus(); },
      [this, req, resp](storage::Txn& txn, const Mutation& m) {
        return store_.SetState(txn, *req, m, resp);
      },
      /*recompile=*/true);
}

PromotionService::Reactor* PromotionService::GetCampaign(Ctx* ctx,
                                                         const perks::v1::GetCampaignRequest* req,
                                                         perks::v1::Campaign* resp) {
  return Read(ctx, "GetCampaign", *req, [this, req, resp](const Caller& caller) {
    auto c = store_.Get(req->campaign_id(), ScopeTenant(caller), absl::ToUnixMillis(clock_->Now()));
    if (!c.ok()) return c.status();
    *resp = std::move(*c);
    return absl::OkStatus();
  });
}

PromotionService::Reactor* PromotionService::ListCampaigns(
    Ctx* ctx, const perks::v1::ListCampaignsRequest* req, perks::v1::ListCampaignsResponse* resp) {
  return Read(ctx, "ListCampaigns", *req, [this, req, resp](const Caller& caller) {
    auto tenant = TenantFor(caller, req->tenant_id());
    if (!tenant.ok()) return tenant.status();
    if (tenant->empty()) {
      return absl::InvalidArgumentError("name the city (tenant_id) to list, e.g. bozhou");
    }
    return store_.List(*tenant, absl::ToUnixMillis(clock_->Now()), resp);
  });
}

PromotionService::Reactor* PromotionService::GetCampaignVersion(
    Ctx* ctx, const perks::v1::GetCampaignVersionRequest* req, perks::v1::CampaignVersion* resp) {
  return Read(ctx, "GetCampaignVersion", *req, [this, req, resp](const Caller& caller) {
    auto v = store_.GetVersion(req->campaign_id(), req->version(), ScopeTenant(caller));
    if (!v.ok()) return v.status();
    *resp = std::move(*v);
    return absl::OkStatus();
  });
}

PromotionService::Reactor* PromotionService::PreviewCampaign(
    Ctx* ctx, const perks::v1::PreviewCampaignRequest* req,
    perks::v1::PreviewCampaignResponse* resp) {
  return Read(ctx, "PreviewCampaign", *req, [this, req, resp](const Caller& caller) {
    if (absl::Status s = ValidateSpec(req->spec()); !s.ok()) return s;
    if (absl::Status s = MayActIn(caller, req->spec().tenant_id()); !s.ok()) return s;
    if (req->baskets_size() > kPreviewBasketsMax) {
      return absl::InvalidArgumentError(
          absl::StrCat("at most ", kPreviewBasketsMax, " baskets per preview"));
    }
    auto set = RuleSet::Compile({RuleSet::Input::Of(req->spec())});
    if (!set.ok()) return set.status();
    EvalResult result;
    for (perks::v1::Basket basket : req->baskets()) {
      if (basket.tenant_id().empty()) basket.set_tenant_id(req->spec().tenant_id());
      if (absl::Status s = CheckBasket(caller, clock_->Now(), basket); !s.ok()) return s;
      (*set)->Evaluate(basket, nullptr, /*explain=*/true, result);
      (*set)->ToProto(basket, result, resp->add_evaluations());
    }
    resp->set_content_sha256(SpecSha256(req->spec()));
    return absl::OkStatus();
  });
}

PromotionService::Reactor* PromotionService::Evaluate(Ctx* ctx,
                                                      const perks::v1::EvaluateRequest* req,
                                                      perks::v1::Evaluation* resp) {
  return gate_.Run(ctx, "Evaluate", *req, Evaluating(req, resp));
}

Gate::Handler PromotionService::Evaluating(const perks::v1::EvaluateRequest* req,
                                           perks::v1::Evaluation* resp) {
  return ReadHandler([this, req, resp](const Caller& caller) {
    perks::v1::Basket basket = req->basket();
    if (absl::Status s = CheckBasket(caller, clock_->Now(), basket); !s.ok()) return s;
    std::shared_ptr<const RuleSet> set = rules();
    EvalResult result;
    set->Evaluate(basket, nullptr, req->explain(), result);
    set->ToProto(basket, result, resp);
    return absl::OkStatus();
  });
}

PromotionService::Reactor* PromotionService::Reserve(Ctx* ctx, const perks::v1::ReserveRequest* req,
                                                     perks::v1::Reservation* resp) {
  return gate_.Run(ctx, "Reserve", *req, Reserving(req, resp));
}

Gate::Handler PromotionService::Reserving(const perks::v1::ReserveRequest* req,
                                          perks::v1::Reservation* resp) {
  // The basket with its defaults filled in, and what the reservation held (for undo).
  auto basket = std::make_shared<perks::v1::Basket>(req->basket());
  auto held = std::make_shared<std::vector<Hold>>();
  MutationSteps<Mutation> steps = Steps(
      [this, basket](const Caller& caller) { return CheckBasket(caller, clock_->Now(), *basket); },
      [this, basket, held, resp](storage::Txn& txn, const Mutation& m) {
        return reservations_->Reserve(txn, *basket, m, resp, held.get());
      });
  steps.after = [this, resp] {
    reservations_->Reserved(*resp);
    return absl::OkStatus();
  };
  steps.undo = [this, held] { reservations_->Undo(*held); };
  return MutateHandler(idempotency_, audit_, "Reserve", *req, resp, std::move(steps));
}

PromotionService::Reactor* PromotionService::Commit(Ctx* ctx, const perks::v1::CommitRequest* req,
                                                    perks::v1::Reservation* resp) {
  return gate_.Run(ctx, "Commit", *req, Committing(req, resp));
}

Gate::Handler PromotionService::Committing(const perks::v1::CommitRequest* req,
                                           perks::v1::Reservation* resp) {
  auto settled = std::make_shared<std::vector<Hold>>();
  MutationSteps<Mutation> steps =
      Steps([](const Caller&) { return absl::OkStatus(); },
            [this, req, resp, settled](storage::Txn& txn, const Mutation& m) {
              return reservations_->Commit(txn, *req, m, resp, settled.get());
            });
  steps.after = [this, req, settled] {
    reservations_->Committed(req->reservation_id(), *settled);
    return absl::OkStatus();
  };
  return MutateHandler(idempotency_, audit_, "Commit", *req, resp, std::move(steps));
}

PromotionService::Reactor* PromotionService::Release(Ctx* ctx, const perks::v1::ReleaseRequest* req,
                                                     perks::v1::Reservation* resp) {
  return gate_.Run(ctx, "Release", *req, Releasing(req, resp));
}

Gate::Handler PromotionService::Releasing(const perks::v1::ReleaseRequest* req,
                                          perks::v1::Reservation* resp) {
  auto settled = std::make_shared<std::vector<Hold>>();
  MutationSteps<Mutation> steps = Steps(
      [req](const Caller&) {
        return req->reason().size() > 500
                   ? absl::InvalidArgumentError("the reason is longer than 500 bytes")
                   : absl::OkStatus();
      },
      [this, req, resp, settled](storage::Txn& txn, const Mutation& m) {
        return reservations_->Release(txn, *req, m, resp, settled.get());
      });
  steps.after = [this, req, settled] {
    reservations_->Released(req->reservation_id(), *settled);
    return absl::OkStatus();
  };
  return MutateHandler(idempotency_, audit_, "Release", *req, resp, std::move(steps));
}

PromotionService::Reactor* PromotionService::GetReservation(
    Ctx* ctx, const perks::v1::GetReservationRequest* req, perks::v1::Reservation* resp) {
  return gate_.Run(ctx, "GetReservation", *req, GettingReservation(req, resp));
}

Gate::Handler PromotionService::GettingReservation(const perks::v1::GetReservationRequest* req,
                                                   perks::v1::Reservation* resp) {
  return ReadHandler([this, req, resp](const Caller& caller) {
    Mutation scope{"", 0, ScopeTenant(caller), BoundToMerchant(caller) ? caller.merchant_id() : ""};
    auto r = reservations_->Get(req->reservation_id(), scope);
    if (!r.ok()) return r.status();
    *resp = std::move(*r);
    return absl::OkStatus();
  });
}

PromotionService::Reactor* PromotionService::GetBudgets(Ctx* ctx,
                                                        const perks::v1::GetBudgetsRequest* req,
                                                        perks::v1::CampaignBudgets* resp) {
  return Read(ctx, "GetBudgets", *req, [this, req, resp](const Caller& caller) {
    auto c = store_.Get(req->campaign_id(), ScopeTenant(caller), absl::ToUnixMillis(clock_->Now()));
    if (!c.ok()) return c.status();
    perks::v1::CampaignSpec spec = c->draft();
    if (c->published_version() > 0) {
      auto v = store_.GetVersion(req->campaign_id(), 0, ScopeTenant(caller));
      if (!v.ok()) return v.status();
      spec = v->spec();
    }
    *resp = reservations_->Budgets(spec);
    return absl::OkStatus();
  });
}

std::vector<perks::v1::CampaignBudgets> PromotionService::AllBudgets() const {
  std::vector<perks::v1::CampaignBudgets> out;
  auto rules = this->rules();
  for (uint32_t i = 0; i < rules->size(); ++i) {
    out.push_back(reservations_->Budgets(rules->campaign(i).spec()));
    out.back().set_campaign_id(rules->campaign(i).id());
  }
  return out;
}

void PromotionService::ConnectCards(PeerLink cards) { cards_.Connect(std::move(cards)); }

PromotionService::Reactor* PromotionService::Grant(Ctx* ctx, const perks::v1::GrantRequest* req,
                                                   perks::v1::GrantResult* resp) {
  return gate_.Run(ctx, "Grant", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
    if (req->event() == perks::v1::GRANT_EVENT_UNSPECIFIED) {
      return done(absl::InvalidArgumentError(
          "event: CARD_ACTIVATED, ISSUE_BATCH or MEDICAL_CLAIM (what the member is granted for)"));
    }
    if (req->card().ref_case() == perks::v1::CardRef::REF_NOT_SET) {
      return done(absl::InvalidArgumentError("card: the card to credit (its number or id)"));
    }
    // The card service grants activations under these ids; nobody else may take one first.
    if (absl::StartsWith(req->request_id(), kActivationRequestPrefix) &&
        caller.role() != perks::v1::ROLE_SERVICE) {
      return done(absl::InvalidArgumentError(
          absl::StrCat("request_id: ids starting with \"", kActivationRequestPrefix,
                       "\" are the card service's, for activations; choose another")));
    }
    if (req->claim_fen() < 0 || req->claim_fen() > kAmountFenMax) {
      return done(absl::InvalidArgumentError(
          absl::StrCat("claim_fen must be 0 to ", kAmountFenMax, " (fen)")));
    }
    if (req->event() == perks::v1::GRANT_EVENT_MEDICAL_CLAIM && req->claim_fen() == 0) {
      return done(absl::InvalidArgumentError(
          "claim_fen: a medical claim needs the member's out-of-pocket amount"));
    }
    // Who the member is comes from the card service: city, program, member and tags.
    auto lookup = Gate::NewCall<perks::v1::LookupCardRequest, perks::v1::Card>();
    *lookup->req.mutable_card() = req->card();
    cards_.Call("LookupCard", &perks::v1::CardService::Stub::async::LookupCard, lookup,
                [this, req, resp, caller, lookup,
                 done = std::make_shared<Gate::Done>(std::move(done))](absl::Status s) mutable {
                  if (!s.ok()) return (*done)(s);
                  const perks::v1::Card& card = lookup->resp;
                  if (!SeesTenant(caller, card.tenant_id())) {
                    return (*done)(absl::NotFoundError("no such card in your city"));
                  }
                  if (absl::Status usable = CardTakesGrants(card, req->event()); !usable.ok()) {
                    return (*done)(usable);
                  }
                  auto member = std::make_shared<perks::v1::Basket>();
                  member->set_tenant_id(card.tenant_id());
                  member->set_program_id(card.program_id());
                  member->set_member_id(card.member_id());
                  *member->mutable_member_tags() = card.member_tags();
                  member->set_at_unix_ms(absl::ToUnixMillis(clock_->Now()));
                  auto held = std::make_shared<std::vector<Hold>>();
                  MutationSteps<Mutation> steps =
                      Steps([](const Caller&) { return absl::OkStatus(); },
                            [this, req, member, resp, held, card = lookup->resp](
                                storage::Txn& txn, const Mutation& m) {
                              absl::Status s =
                                  reservations_->Grant(txn, *req, *member, m, resp, held.get());
                              if (!s.ok()) return s;
                              resp->set_card_id(card.card_id());
                              // A credit the card would refuse is refused here, before the budget
                              // is used.
                              return CardTakesCredits(card, *resp);
                            });
                  steps.after = [this, held] {
                    reservations_->Committed("", *held);
                    return absl::OkStatus();
                  };
                  steps.undo = [this, held] { reservations_->Undo(*held); };
                  MutateAdmitted(idempotency_, audit_, caller, "Grant", *req, resp,
                                 std::move(steps), [this, resp, done](absl::Status s) mutable {
                                   if (!s.ok()) return (*done)(s);
                                   CreditGrants(resp, 0, std::move(*done));
                                 });
                });
  });
}

void PromotionService::CreditGrants(perks::v1::GrantResult* result, int next, Gate::Done done) {
  if (next >= result->grants_size()) return done(absl::OkStatus());
  perks::v1::GrantedBalance* g = result->mutable_grants(next);
  auto credit = Gate::NewCall<perks::v1::CreditBalanceRequest, perks::v1::BalanceChange>();
  credit->req = CreditFor(*result, *g);
  cards_.Call(
      "CreditBalance", &perks::v1::CardService::Stub::async::CreditBalance, credit,
      [this, result, next, credit,
       done = std::make_shared<Gate::Done>(std::move(done))](absl::Status why) mutable {
        if (!why.ok()) {
          return (*done)(absl::Status(
              why.code(), absl::StrCat("granted, but crediting the card failed: ", why.message(),
                                       "; send the same Grant again (same request_id) to finish")));
        }
        result->mutable_grants(next)->set_card_history_seq(credit->resp.history_seq());
        CreditGrants(result, next + 1, std::move(*done));
      });
}

PromotionService::Reactor* PromotionService::ListAudit(Ctx* ctx,
                                                       const perks::v1::ListAuditRequest* req,
                                                       perks::v1::ListAuditResponse* resp) {
  return gate_.ServeAudit(ctx, audit_, req, resp);
}

}  // namespace perks::promotion
