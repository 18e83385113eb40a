// The auth service over gRPC: API tokens. Callers present their own token as
// "authorization: Bearer pk.…" metadata.
#ifndef PERKS_SERVICES_AUTH_RPC_AUTH_SERVICE_H_
#define PERKS_SERVICES_AUTH_RPC_AUTH_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "perks/v1/auth.grpc.pb.h"
#include "services/auth/store/auth_store.h"
#include "services/common/audit.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/gate/gate.h"

namespace perks::auth {

struct AuthServiceOptions {
  std::string db_path;
  const Clock* clock = nullptr;
  storage::WriterOptions writer;
  GateOptions gate;
};

class AuthService final : public perks::v1::AuthService::CallbackService {
 public:
  static absl::StatusOr<std::unique_ptr<AuthService>> Open(const AuthServiceOptions& o);
  ~AuthService() override;

  // On a new installation (no token ever made), makes the first installation-admin token and
  // returns it; otherwise returns an empty string. The caller prints it once.
  absl::StatusOr<std::string> Bootstrap();

  const storage::Db& db() const { return *db_; }
  uint64_t LatestWrite() const { return db_->LatestSequence(); }
  absl::Status Close();
  Gate& gate() { return gate_; }

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  Reactor* CreateToken(Ctx* ctx, const perks::v1::CreateTokenRequest* req,
                       perks::v1::CreatedToken* resp) override;
  Reactor* RevokeToken(Ctx* ctx, const perks::v1::RevokeTokenRequest* req,
                       perks::v1::ApiToken* resp) override;
  Reactor* ListTokens(Ctx* ctx, const perks::v1::ListTokensRequest* req,
                      perks::v1::ListTokensResponse* resp) override;
  Reactor* Authenticate(Ctx* ctx, const perks::v1::AuthenticateRequest* req,
                        perks::v1::Caller* resp) override;
  Reactor* ListAudit(Ctx* ctx, const perks::v1::ListAuditRequest* req,
                     perks::v1::ListAuditResponse* resp) override;

 private:
  AuthService(std::unique_ptr<storage::Db> db, const AuthServiceOptions& o);

  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  AuthStore store_;
  const Clock* clock_;
  IdempotencyStore idempotency_;
  AuditLog audit_;
  Gate gate_;
};

}  // namespace perks::auth

#endif  // PERKS_SERVICES_AUTH_RPC_AUTH_SERVICE_H_
