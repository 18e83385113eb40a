#include "services/merchant/rpc/merchant_service.h"

#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"

namespace perks::merchant {

absl::StatusOr<std::unique_ptr<MerchantService>> MerchantService::Open(
    const MerchantServiceOptions& o) {
  storage::DbOptions db_options;
  db_options.path = o.db_path;
  db_options.column_families = MerchantStore::ColumnFamilies();
  db_options.schema_version = MerchantStore::kSchemaVersion;
  db_options.block_cache_bytes = o.cache_bytes;
  auto db = storage::Db::Open(db_options);
  if (!db.ok()) return db.status();
  return std::unique_ptr<MerchantService>(new MerchantService(std::move(*db), o));
}

MerchantService::MerchantService(std::unique_ptr<storage::Db> db, const MerchantServiceOptions& o)
    : db_(std::move(db)),
      writer_(std::make_unique<storage::GroupCommitWriter>(db_.get(), o.writer)),
      store_(db_.get()),
      clock_(o.clock),
      idempotency_{db_.get(), writer_.get(), store_.idempotency_family(), o.clock} {}

MerchantService::~MerchantService() { (void)Close(); }

absl::Status MerchantService::Close() {
  if (writer_) writer_->Stop();
  return db_->Close();
}

MerchantService::Reactor* MerchantService::Mutate(
    Ctx* ctx, std::string_view method, const google::protobuf::Message& req,
    google::protobuf::Message* resp,
    absl::AnyInvocable<absl::Status(storage::Txn&, const Mutation&)> apply) {
  Mutation m{ActorOf(*ctx), absl::ToUnixMillis(clock_->Now())};
  return MutateAndFinish(
      ctx, idempotency_, "merchant", method, req, resp,
      [m, apply = std::move(apply)](storage::Txn& txn) mutable { return apply(txn, m); });
}

MerchantService::Reactor* MerchantService::SubmitApplication(
    Ctx* ctx, const perks::v1::SubmitApplicationRequest* req, perks::v1::Application* resp) {
  auto profile = NormalizeProfile(req->profile());
  if (!profile.ok()) return FinishNow(ctx, profile.status());
  return Mutate(ctx, "SubmitApplication", *req, resp,
                [this, req, resp, profile = *profile](storage::Txn& txn, const Mutation& m) {
                  return store_.Submit(txn, req->application_id(), profile, m, resp);
                });
}

MerchantService::Reactor* MerchantService::GetApplication(
    Ctx* ctx, const perks::v1::GetApplicationRequest* req, perks::v1::Application* resp) {
  auto app = store_.GetApplication(req->application_id());
  if (app.ok()) *resp = std::move(*app);
  return FinishNow(ctx, app.status());
}

MerchantService::Reactor* MerchantService::ListApplications(
    Ctx* ctx, const perks::v1::ListApplicationsRequest* req,
    perks::v1::ListApplicationsResponse* resp) {
  return FinishNow(ctx, store_.ListApplications(*req, resp));
}

MerchantService::Reactor* MerchantService::ReviewApplication(
    Ctx* ctx, const perks::v1::ReviewApplicationRequest* req, perks::v1::Application* resp) {
  if (req->reason().size() > 500) {
    return FinishNow(ctx, absl::InvalidArgumentError("reason is over 500 bytes"));
  }
  return Mutate(ctx, "ReviewApplication", *req, resp,
                [this, req, resp](storage::Txn& txn, const Mutation& m) {
                  return store_.Review(txn, *req, m, resp);
                });
}

MerchantService::Reactor* MerchantService::ImportMerchants(
    Ctx* ctx, const perks::v1::ImportMerchantsRequest* req,
    perks::v1::ImportMerchantsResponse* resp) {
  if (req->rows_size() > static_cast<int>(kImportRowsMax)) {
    return FinishNow(ctx,
                     absl::InvalidArgumentError(absl::StrCat(
                         req->rows_size(), " rows in one call; send at most ", kImportRowsMax)));
  }
  auto good = std::make_shared<std::vector<perks::v1::MerchantProfile>>();
  auto rejected = std::make_shared<std::vector<perks::v1::RowRejection>>();
  for (const auto& row : req->rows()) {
    auto p = NormalizeProfile(row.profile());
    if (p.ok()) {
      good->push_back(std::move(*p));
    } else {
      perks::v1::RowRejection r;
      r.set_line(row.line());
      r.set_reason(std::string(p.status().message()));
      rejected->push_back(std::move(r));
    }
  }
  return Mutate(ctx, "ImportMerchants", *req, resp,
                [this, resp, good, rejected](storage::Txn& txn, const Mutation& m) {
                  resp->Clear();
                  for (const auto& r : *rejected) *resp->add_rejected() = r;
                  for (const auto& p : *good) {
                    auto created = store_.ImportMerchant(txn, p, m);
                    if (!created.ok()) return created.status();
                    *created ? resp->set_created(resp->created() + 1)
                             : resp->set_unchanged(resp->unchanged() + 1);
                  }
                  return absl::OkStatus();
                });
}

MerchantService::Reactor* MerchantService::GetMerchant(Ctx* ctx,
                                                       const perks::v1::GetMerchantRequest* req,
                                                       perks::v1::Merchant* resp) {
  auto merchant = store_.GetMerchant(req->merchant_id());
  if (merchant.ok()) *resp = std::move(*merchant);
  return FinishNow(ctx, merchant.status());
}

MerchantService::Reactor* MerchantService::ListMerchants(Ctx* ctx,
                                                         const perks::v1::ListMerchantsRequest* req,
                                                         perks::v1::ListMerchantsResponse* resp) {
  return FinishNow(ctx, store_.ListMerchants(*req, resp));
}

MerchantService::Reactor* MerchantService::ChangeMerchantState(
    Ctx* ctx, const perks::v1::ChangeMerchantStateRequest* req, perks::v1::Merchant* resp) {
  return Mutate(ctx, "ChangeMerchantState", *req, resp,
                [this, req, resp](storage::Txn& txn, const Mutation& m) {
                  return store_.ChangeState(txn, *req, m, resp);
                });
}

MerchantService::Reactor* MerchantService::AddStore(Ctx* ctx, const perks::v1::AddStoreRequest* req,
                                                    perks::v1::Store* resp) {
  return Mutate(ctx, "AddStore", *req, resp,
                [this, req, resp](storage::Txn& txn, const Mutation& m) {
                  return store_.AddStore(txn, *req, m, resp);
                });
}

MerchantService::Reactor* MerchantService::RegisterTerminal(
    Ctx* ctx, const perks::v1::RegisterTerminalRequest* req, perks::v1::TerminalCredential* resp) {
  return Mutate(ctx, "RegisterTerminal", *req, resp,
                [this, req, resp](storage::Txn& txn, const Mutation& m) {
                  return store_.RegisterTerminal(txn, *req, m, resp);
                });
}

MerchantService::Reactor* MerchantService::RotateTerminalSecret(
    Ctx* ctx, const perks::v1::RotateTerminalSecretRequest* req,
    perks::v1::TerminalCredential* resp) {
  return Mutate(ctx, "RotateTerminalSecret", *req, resp,
                [this, req, resp](storage::Txn& txn, const Mutation& m) {
                  return store_.RotateSecret(txn, *req, m, resp);
                });
}

MerchantService::Reactor* MerchantService::RevokeTerminal(
    Ctx* ctx, const perks::v1::RevokeTerminalRequest* req, perks::v1::Terminal* resp) {
  return Mutate(ctx, "RevokeTerminal", *req, resp,
                [this, req, resp](storage::Txn& txn, const Mutation& m) {
                  return store_.Revoke(txn, *req, m, resp);
                });
}

MerchantService::Reactor* MerchantService::ListTerminals(Ctx* ctx,
                                                         const perks::v1::ListTerminalsRequest* req,
                                                         perks::v1::ListTerminalsResponse* resp) {
  return FinishNow(ctx, store_.ListTerminals(req->store_id(), resp));
}

}  // namespace perks::merchant
