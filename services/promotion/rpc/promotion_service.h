// The promotion service over gRPC: campaigns for admins, evaluation and reservations for
// checkouts. Changes go through the group-commit writer and are exactly-once per request id; each
// publish, pause, resume or end swaps in a newly compiled rule set, so evaluation never touches
// the disk.
#ifndef PERKS_SERVICES_PROMOTION_RPC_PROMOTION_SERVICE_H_
#define PERKS_SERVICES_PROMOTION_RPC_PROMOTION_SERVICE_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/promotion.grpc.pb.h"
#include "services/common/audit.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/gate/admitted.h"
#include "services/gate/gate.h"
#include "services/promotion/domain/engine.h"
#include "services/promotion/rpc/reservations.h"
#include "services/promotion/store/promotion_store.h"

namespace perks::promotion {

struct PromotionServiceOptions {
  std::string db_path;
  const Clock* clock = nullptr;
  storage::WriterOptions writer;
  size_t cache_bytes = 64 << 20;
  GateOptions gate;
};

class PromotionService final : public perks::v1::PromotionService::CallbackService {
 public:
  // Opens the database and compiles every published campaign.
  static absl::StatusOr<std::unique_ptr<PromotionService>> Open(const PromotionServiceOptions& o);
  ~PromotionService() override;

  const storage::Db& db() const { return *db_; }
  uint64_t LatestWrite() const { return db_->LatestSequence(); }
  absl::Status Close();
  Gate& gate() { return gate_; }
  // Where the card service answers (grants are credited there). Until connected, Grant answers
  // UNAVAILABLE.
  void ConnectCards(PeerLink cards);
  // The rule set checkouts are evaluated against now.
  std::shared_ptr<const RuleSet> rules() const;
  // For the metrics: the reservations held now (each awaiting its commit, release or expiry),
  // and the budgets of every campaign in the rule set.
  size_t ReservationsPending() const { return reservations_->ExpiriesPending(); }
  std::vector<perks::v1::CampaignBudgets> AllBudgets() const;

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  Reactor* ApplyCampaign(Ctx* ctx, const perks::v1::ApplyCampaignRequest* req,
                         perks::v1::Campaign* resp) override;
  Reactor* PreviewCampaign(Ctx* ctx, const perks::v1::PreviewCampaignRequest* req,
                           perks::v1::PreviewCampaignResponse* resp) override;
  Reactor* PublishCampaign(Ctx* ctx, const perks::v1::PublishCampaignRequest* req,
                           perks::v1::Campaign* resp) override;
  Reactor* SetCampaignState(Ctx* ctx, const perks::v1::SetCampaignStateRequest* req,
                            perks::v1::Campaign* resp) override;
  Reactor* GetCampaign(Ctx* ctx, const perks::v1::GetCampaignRequest* req,
                       perks::v1::Campaign* resp) override;
  Reactor* ListCampaigns(Ctx* ctx, const perks::v1::ListCampaignsRequest* req,
                         perks::v1::ListCampaignsResponse* resp) override;
  Reactor* GetCampaignVersion(Ctx* ctx, const perks::v1::GetCampaignVersionRequest* req,
                              perks::v1::CampaignVersion* resp) override;
  Reactor* Evaluate(Ctx* ctx, const perks::v1::EvaluateRequest* req,
                    perks::v1::Evaluation* resp) override;
  Reactor* Reserve(Ctx* ctx, const perks::v1::ReserveRequest* req,
                   perks::v1::Reservation* resp) override;
  Reactor* Commit(Ctx* ctx, const perks::v1::CommitRequest* req,
                  perks::v1::Reservation* resp) override;
  Reactor* Release(Ctx* ctx, const perks::v1::ReleaseRequest* req,
                   perks::v1::Reservation* resp) override;
  Reactor* GetReservation(Ctx* ctx, const perks::v1::GetReservationRequest* req,
                          perks::v1::Reservation* resp) override;
  Reactor* GetBudgets(Ctx* ctx, const perks::v1::GetBudgetsRequest* req,
                      perks::v1::CampaignBudgets* resp) override;
  Reactor* Grant(Ctx* ctx, const perks::v1::GrantRequest* req,
                 perks::v1::GrantResult* resp) override;
  Reactor* ListAudit(Ctx* ctx, const perks::v1::ListAuditRequest* req,
                     perks::v1::ListAuditResponse* resp) override;

  static constexpr int kPreviewBasketsMax = 1000;

 private:
  PromotionService(std::unique_ptr<storage::Db> db, const PromotionServiceOptions& o);
  using Apply = absl::AnyInvocable<absl::Status(storage::Txn&, const Mutation&)>;
  using Check = absl::AnyInvocable<absl::Status(const perks::v1::Caller&)>;
  // The steps of a change by an admitted caller: its Mutation, `check` before the writer, `apply`
  // on it.
  MutationSteps<Mutation> Steps(Check check, Apply apply);
  // Admits the caller, runs `check`, then `apply` once per request id; with `recompile`, a
  // successful change swaps in a new rule set before the caller is answered.
  Reactor* Mutate(Ctx* ctx, std::string_view method, const google::protobuf::Message& req,
                  google::protobuf::Message* resp, Check check, Apply apply, bool recompile);
  Reactor* Read(Ctx* ctx, std::string_view method, const google::protobuf::Message& req,
                absl::AnyInvocable<absl::Status(const perks::v1::Caller&)> read);
  // Credits each grant in `result` to its card, one after another, then answers `done`.
  void CreditGrants(perks::v1::GrantResult* result, int next, Gate::Done done);
  // The handlers of the methods a checkout in this process calls directly (Gate::ServeLocally).
  Gate::Handler Evaluating(const perks::v1::EvaluateRequest* req, perks::v1::Evaluation* resp);
  Gate::Handler Reserving(const perks::v1::ReserveRequest* req, perks::v1::Reservation* resp);
  Gate::Handler Committing(const perks::v1::CommitRequest* req, perks::v1::Reservation* resp);
  Gate::Handler Releasing(const perks::v1::ReleaseRequest* req, perks::v1::Reservation* resp);
  Gate::Handler GettingReservation(const perks::v1::GetReservationRequest* req,
                                   perks::v1::Reservation* resp);
  // Compiles every published campaign and makes it the rule set in use.
  absl::Status Recompile();

  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  PromotionStore store_;
  const Clock* clock_;
  IdempotencyStore idempotency_;
  AuditLog audit_;
  Gate gate_;
  std::unique_ptr<Reservations> reservations_;
  Peer<perks::v1::CardService> cards_;

  std::mutex compile_mu_;  // one recompile at a time, in commit order
  mutable std::mutex rules_mu_;
  std::shared_ptr<const RuleSet> rules_;
};

}  // namespace perks::promotion

#endif  // PERKS_SERVICES_PROMOTION_RPC_PROMOTION_SERVICE_H_
