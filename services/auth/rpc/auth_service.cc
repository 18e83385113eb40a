#include "services/auth/rpc/auth_service.h"

#include "absl/strings/str_cat.h"
#include "services/auth/domain/auth_rules.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"

namespace perks::auth {

absl::StatusOr<std::unique_ptr<AuthService>> AuthService::Open(const AuthServiceOptions& o) {
  storage::DbOptions db_options;
  db_options.path = o.db_path;
  db_options.column_families = AuthStore::ColumnFamilies();
  db_options.schema_version = AuthStore::kSchemaVersion;
  db_options.block_cache_bytes = 8 << 20;
  db_options.write_buffer_bytes = 4 << 20;
  auto db = storage::Db::Open(db_options);
  if (!db.ok()) return db.status();
  return std::unique_ptr<AuthService>(new AuthService(std::move(*db), o));
}

AuthService::AuthService(std::unique_ptr<storage::Db> db, const AuthServiceOptions& o)
    : db_(std::move(db)),
      writer_(std::make_unique<storage::GroupCommitWriter>(db_.get(), o.writer)),
      store_(db_.get()),
      clock_(o.clock),
      idempotency_{db_.get(), writer_.get(), store_.idempotency_family(), o.clock},
      audit_(db_.get(), "auth"),
      gate_("perks.v1.AuthService", o.gate) {}

AuthService::~AuthService() { (void)Close(); }

absl::Status AuthService::Close() {
  if (writer_) writer_->Stop();
  return db_->Close();
}

absl::StatusOr<std::string> AuthService::Bootstrap() {
  auto empty = store_.Empty();
  if (!empty.ok()) return empty.status();
  if (!*empty) return std::string();
  perks::v1::Caller admin;
  admin.set_role(perks::v1::ROLE_INSTALLATION_ADMIN);
  admin.set_name("installation admin (bootstrap)");
  perks::v1::CreatedToken created;
  int64_t now = absl::ToUnixMillis(clock_->Now());
  absl::Status s = writer_->Run(
      [&](storage::Txn& txn) { return store_.Create(txn, admin, "bootstrap", now, &created); });
  if (!s.ok()) return s;
  Log(LogLevel::kInfo, "auth.bootstrap", {{"token_id", created.token().token_id()}});
  return created.secret_token();
}

AuthService::Reactor* AuthService::CreateToken(Ctx* ctx, const perks::v1::CreateTokenRequest* req,
                                               perks::v1::CreatedToken* resp) {
  return gate_.Run(ctx, "CreateToken", *req,
                   [this, req, resp](const perks::v1::Caller& by, Gate::Done done) {
                     if (absl::Status s = ValidateTokenCaller(req->caller()); !s.ok()) {
                       return done(s);
                     }
                     if (absl::Status s = CanCreateToken(by, req->caller()); !s.ok()) {
                       return done(s);
                     }
                     int64_t now = absl::ToUnixMillis(clock_->Now());
                     MutateAndAudit(
                         idempotency_, audit_, by, ActorName(by), "CreateToken", *req, resp, now,
                         [this, req, resp, created_by = ActorName(by), now](storage::Txn& txn) {
                           return store_.Create(txn, req->caller(), created_by, now, resp);
                         },
                         std::move(done));
                   });
}

AuthService::Reactor* AuthService::RevokeToken(Ctx* ctx, const perks::v1::RevokeTokenRequest* req,
                                               perks::v1::ApiToken* resp) {
  return gate_.Run(ctx, "RevokeToken", *req,
                   [this, req, resp](const perks::v1::Caller& by, Gate::Done done) {
                     int64_t now = absl::ToUnixMillis(clock_->Now());
                     MutateAndAudit(
                         idempotency_, audit_, by, ActorName(by), "RevokeToken", *req, resp, now,
                         [this, req, resp, by, now](storage::Txn& txn) {
                           return store_.Revoke(txn, by, req->token_id(), now, resp);
                         },
                         std::move(done));
                   });
}

AuthService::Reactor* AuthService::ListTokens(Ctx* ctx, const perks::v1::ListTokensRequest* req,
                                              perks::v1::ListTokensResponse* resp) {
  return gate_.Run(ctx, "ListTokens", *req,
                   [this, req, resp](const perks::v1::Caller& by, Gate::Done done) {
                     done(store_.List(by, req->tenant_id(), resp));
                   });
}

AuthService::Reactor* AuthService::Authenticate(Ctx* ctx, const perks::v1::AuthenticateRequest* req,
                                                perks::v1::Caller* resp) {
  // Asked by every other service's gate: answered from the store directly, not through a gate of
  // its own (the token in the request is the credential).
  auto caller = store_.Authenticate(req->bearer_token());
  if (caller.ok()) *resp = std::move(*caller);
  return FinishNow(ctx, caller.status());
}

AuthService::Reactor* AuthService::ListAudit(Ctx* ctx, const perks::v1::ListAuditRequest* req,
                                             perks::v1::ListAuditResponse* resp) {
  return gate_.ServeAudit(ctx, audit_, req, resp);
}

}  // namespace perks::auth
