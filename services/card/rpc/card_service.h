// The card service over gRPC: decode, validate, call the store, encode. Nothing else.
// Uses gRPC's callback API: mutations are queued on the group-commit writer and the call finishes
// when its write is durable, so no gRPC thread waits on a disk sync.
#ifndef PERKS_SERVICES_CARD_RPC_CARD_SERVICE_H_
#define PERKS_SERVICES_CARD_RPC_CARD_SERVICE_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/promotion.grpc.pb.h"
#include "services/card/store/card_store.h"
#include "services/common/audit.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/gate/gate.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks::card {

struct CardServiceOptions {
  std::string db_path;
  std::string id_hash_key;  // the installation's secret for hashing ID numbers
  const Clock* clock = nullptr;
  storage::WriterOptions writer;
  size_t cache_bytes = 256 << 20;
  GateOptions gate;
};

class CardService final : public perks::v1::CardService::CallbackService {
 public:
  // Opens (or creates) the service's own database.
  static absl::StatusOr<std::unique_ptr<CardService>> Open(const CardServiceOptions& options);
  ~CardService() override;

  // An online backup of the service's database into `dir` (which must not exist).
  const storage::Db& db() const { return *db_; }
  uint64_t LatestWrite() const { return db_->LatestSequence(); }

  // Finishes queued writes and closes the database. Call after the gRPC server has shut down.
  absl::Status Close();
  Gate& gate() { return gate_; }
  // Where the promotion service answers: activating a card asks it for what activation earns
  // (e.g. transit credit). Unconnected, activation grants nothing.
  void ConnectPromotions(PeerLink promotions);

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  Reactor* CreateProgram(Ctx* ctx, const perks::v1::CreateProgramRequest* req,
                         perks::v1::Program* resp) override;
  Reactor* ListPrograms(Ctx* ctx, const perks::v1::ListProgramsRequest* req,
                        perks::v1::ListProgramsResponse* resp) override;
  Reactor* ImportMembers(Ctx* ctx, const perks::v1::ImportMembersRequest* req,
                         perks::v1::ImportMembersResponse* resp) override;
  Reactor* GetMember(Ctx* ctx, const perks::v1::GetMemberRequest* req,
                     perks::v1::Member* resp) override;
  Reactor* IssueCards(Ctx* ctx, const perks::v1::IssueCardsRequest* req,
                      perks::v1::IssueCardsResponse* resp) override;
  Reactor* ExportCards(Ctx* ctx, const perks::v1::ExportCardsRequest* req,
                       perks::v1::ExportCardsResponse* resp) override;
  Reactor* ChangeCardState(Ctx* ctx, const perks::v1::ChangeCardStateRequest* req,
                           perks::v1::Card* resp) override;
  Reactor* ReplaceCard(Ctx* ctx, const perks::v1::ReplaceCardRequest* req,
                       perks::v1::ReplaceCardResponse* resp) override;
  Reactor* LookupCard(Ctx* ctx, const perks::v1::LookupCardRequest* req,
                      perks::v1::Card* resp) override;
  Reactor* CreditBalance(Ctx* ctx, const perks::v1::CreditBalanceRequest* req,
                         perks::v1::BalanceChange* resp) override;
  Reactor* DebitBalance(Ctx* ctx, const perks::v1::DebitBalanceRequest* req,
                        perks::v1::BalanceChange* resp) override;
  Reactor* ListCardHistory(Ctx* ctx, const perks::v1::ListCardHistoryRequest* req,
                           perks::v1::ListCardHistoryResponse* resp) override;
  Reactor* ListAudit(Ctx* ctx, const perks::v1::ListAuditRequest* req,
                     perks::v1::ListAuditResponse* resp) override;

 private:
  CardService(std::unique_ptr<storage::Db> db, const CardServiceOptions& options);

  // Checks the request for the admitted caller (and may narrow the mutation's scope).
  using Check = absl::AnyInvocable<absl::Status(const perks::v1::Caller&, Mutation&)>;
  using Apply = absl::AnyInvocable<absl::Status(storage::Txn&, const Mutation&)>;
  // Admits the caller (the gate), runs `check`, then `apply` once per request id
  // (services/common/idempotency.h), and finishes the call.
  Reactor* Mutate(Ctx* ctx, std::string_view method, const google::protobuf::Message& req,
                  google::protobuf::Message* resp, Check check, Apply apply);
  // The handler Mutate runs behind the gate.
  Gate::Handler Mutating(std::string_view method, const google::protobuf::Message& req,
                         google::protobuf::Message* resp, Check check, Apply apply);
  // The handlers of the methods other services in this process call directly
  // (Gate::ServeLocally).
  Gate::Handler LookingUp(const perks::v1::LookupCardRequest* req, perks::v1::Card* resp);
  Gate::Handler Debiting(const perks::v1::DebitBalanceRequest* req, perks::v1::BalanceChange* resp);
  Gate::Handler Crediting(const perks::v1::CreditBalanceRequest* req,
                          perks::v1::BalanceChange* resp);
  // Admits the caller, then answers with `read`.
  Reactor* Read(Ctx* ctx, std::string_view method, const google::protobuf::Message& req,
                absl::AnyInvocable<absl::Status(const perks::v1::Caller&)> read);

  // After an activation: the promotion service grants what it earns, credited to `card`; then
  // `card` is read again to show it.
  void GrantOnActivation(const perks::v1::Caller& caller, perks::v1::Card* card, Gate::Done done);

  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  CardStore store_;
  const Clock* clock_;
  IdempotencyStore idempotency_;
  AuditLog audit_;
  Gate gate_;
  Peer<perks::v1::PromotionService> promotions_;
};

}  // namespace perks::card

#endif  // PERKS_SERVICES_CARD_RPC_CARD_SERVICE_H_
