// The merchant service over gRPC: decode, validate, call the store, encode. Changes go through the
// group-commit writer (callback API) and are exactly-once per request id.
#ifndef PERKS_SERVICES_MERCHANT_RPC_MERCHANT_SERVICE_H_
#define PERKS_SERVICES_MERCHANT_RPC_MERCHANT_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "perks/v1/merchant.grpc.pb.h"
#include "services/common/audit.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/gate/gate.h"
#include "services/merchant/store/merchant_store.h"

namespace perks::merchant {

struct MerchantServiceOptions {
  std::string db_path;
  const Clock* clock = nullptr;
  storage::WriterOptions writer;
  size_t cache_bytes = 64 << 20;
  GateOptions gate;
};

class MerchantService final : public perks::v1::MerchantService::CallbackService {
 public:
  static absl::StatusOr<std::unique_ptr<MerchantService>> Open(const MerchantServiceOptions& o);
  ~MerchantService() override;

  const storage::Db& db() const { return *db_; }
  uint64_t LatestWrite() const { return db_->LatestSequence(); }
  absl::Status Close();
  const MerchantStore& store() const { return store_; }
  Gate& gate() { return gate_; }

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  Reactor* SubmitApplication(Ctx* ctx, const perks::v1::SubmitApplicationRequest* req,
                             perks::v1::Application* resp) override;
  Reactor* GetApplication(Ctx* ctx, const perks::v1::GetApplicationRequest* req,
                          perks::v1::Application* resp) override;
  Reactor* ListApplications(Ctx* ctx, const perks::v1::ListApplicationsRequest* req,
                            perks::v1::ListApplicationsResponse* resp) override;
  Reactor* ReviewApplication(Ctx* ctx, const perks::v1::ReviewApplicationRequest* req,
                             perks::v1::Application* resp) override;
  Reactor* ImportMerchants(Ctx* ctx, const perks::v1::ImportMerchantsRequest* req,
                           perks::v1::ImportMerchantsResponse* resp) override;
  Reactor* GetMerchant(Ctx* ctx, const perks::v1::GetMerchantRequest* req,
                       perks::v1::Merchant* resp) override;
  Reactor* ListMerchants(Ctx* ctx, const perks::v1::ListMerchantsRequest* req,
                         perks::v1::ListMerchantsResponse* resp) override;
  Reactor* ChangeMerchantState(Ctx* ctx, const perks::v1::ChangeMerchantStateRequest* req,
                               perks::v1::Merchant* resp) override;
  Reactor* AddStore(Ctx* ctx, const perks::v1::AddStoreRequest* req,
                    perks::v1::Store* resp) override;
  Reactor* RegisterTerminal(Ctx* ctx, const perks::v1::RegisterTerminalRequest* req,
                            perks::v1::TerminalCredential* resp) override;
  Reactor* RotateTerminalSecret(Ctx* ctx, const perks::v1::RotateTerminalSecretRequest* req,
                                perks::v1::TerminalCredential* resp) override;
  Reactor* RevokeTerminal(Ctx* ctx, const perks::v1::RevokeTerminalRequest* req,
                          perks::v1::Terminal* resp) override;
  Reactor* ListTerminals(Ctx* ctx, const perks::v1::ListTerminalsRequest* req,
                         perks::v1::ListTerminalsResponse* resp) override;
  Reactor* GetTerminalKeys(Ctx* ctx, const perks::v1::GetTerminalKeysRequest* req,
                           perks::v1::TerminalKeys* resp) override;
  Reactor* ListAudit(Ctx* ctx, const perks::v1::ListAuditRequest* req,
                     perks::v1::ListAuditResponse* resp) override;

 private:
  MerchantService(std::unique_ptr<storage::Db> db, const MerchantServiceOptions& o);
  using Apply = absl::AnyInvocable<absl::Status(storage::Txn&, const Mutation&)>;
  // Admits the caller, then runs `check` (which may refuse) and `apply` once per request id.
  Reactor* Mutate(Ctx* ctx, std::string_view method, const google::protobuf::Message& req,
                  google::protobuf::Message* resp,
                  absl::AnyInvocable<absl::Status(const perks::v1::Caller&)> check, Apply apply);
  Reactor* Mutate(Ctx* ctx, std::string_view method, const google::protobuf::Message& req,
                  google::protobuf::Message* resp, Apply apply);
  // Admits the caller, then answers with `read`.
  Reactor* Read(Ctx* ctx, std::string_view method, const google::protobuf::Message& req,
                absl::AnyInvocable<absl::Status(const perks::v1::Caller&)> read);

  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  MerchantStore store_;
  const Clock* clock_;
  IdempotencyStore idempotency_;
  AuditLog audit_;
  Gate gate_;
};

}  // namespace perks::merchant

#endif  // PERKS_SERVICES_MERCHANT_RPC_MERCHANT_SERVICE_H_
