#include "services/merchant/rpc/merchant_service.h"

#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "services/gate/admitted.h"

namespace perks::merchant {
namespace {

using perks::v1::Caller;

Scope ScopeOf(const Caller& caller) {
  switch (caller.role()) {
    case perks::v1::ROLE_INSTALLATION_ADMIN:
    case perks::v1::ROLE_SERVICE:
      return Scope{};
    case perks::v1::ROLE_MERCHANT_MANAGER:
    case perks::v1::ROLE_TERMINAL:
      return Scope{caller.tenant_id(), caller.merchant_id()};
    default:
      return Scope{caller.tenant_id(), ""};
  }
}

// The city a listing covers: the caller's own, or the one it names if the caller may see it.
absl::StatusOr<std::string> ListingTenant(const Caller& caller, const std::string& requested) {
  auto tenant = TenantFor(caller, requested);
  if (tenant.ok() && tenant->empty()) {
    return absl::InvalidArgumentError("name the city (tenant_id) to list, e.g. jieshou");
  }
  return tenant;
}

}  // namespace

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
      idempotency_{db_.get(), writer_.get(), store_.idempotency_family(), o.clock},
      audit_(db_.get(), "merchant"),
      gate_("perks.v1.MerchantService", o.gate) {}

MerchantService::~MerchantService() { (void)Close(); }

absl::Status MerchantService::Close() {
  if (writer_) writer_->Stop();
  return db_->Close();
}

MerchantService::Reactor* MerchantService::Mutate(
    Ctx* ctx, std::string_view method, const google::protobuf::Message& req,
    google::protobuf::Message* resp, absl::AnyInvocable<absl::Status(const Caller&)> check,
    Apply apply) {
  MutationSteps<Mutation> steps;
  steps.make = [this](const Caller& caller) {
    return Mutation{ActorName(caller), absl::ToUnixMillis(clock_->Now()), ScopeOf(caller)};
  };
  steps.check = [check = std::move(check)](const Caller& caller, Mutation&) mutable {
    return check(caller);
  };
  steps.apply = std::move(apply);
  return AdmitAndMutate(gate_, idempotency_, audit_, ctx, method, req, resp, std::move(steps));
}

MerchantService::Reactor* MerchantService::Mutate(Ctx* ctx, std::string_view method,
                                                  const google::protobuf::Message& req,
                                                  google::protobuf::Message* resp, Apply apply) {
  return Mutate(
      ctx, method, req, resp, [](const Caller&) { return absl::OkStatus(); }, std::move(apply));
}

MerchantService::Reactor* MerchantService::Read(
    Ctx* ctx, std::string_view method, const google::protobuf::Message& req,
    absl::AnyInvocable<absl::Status(const Caller&)> read) {
  return AdmitAndRead(gate_, ctx, method, req, std::move(read));
}

MerchantService::Reactor* MerchantService::SubmitApplication(
    Ctx* ctx, const perks::v1::SubmitApplicationRequest* req, perks::v1::Application* resp) {
  auto profile = std::make_shared<perks::v1::MerchantProfile>();
  return Mutate(
      ctx, "SubmitApplication", *req, resp,
      [req, profile](const Caller& caller) {
        auto normal = NormalizeProfile(req->profile());
        if (!normal.ok()) return normal.status();
        if (!SeesTenant(caller, normal->tenant_id())) {
          return absl::PermissionDeniedError(absl::StrCat("your token is for ", caller.tenant_id(),
                                                          "; apply to ", normal->tenant_id(),
                                                          " through that city's union"));
        }
        *profile = std::move(*normal);
        return absl::OkStatus();
      },
      [this, req, resp, profile](storage::Txn& txn, const Mutation& m) {
        return store_.Submit(txn, req->application_id(), *profile, m, resp);
      });
}

MerchantService::Reactor* MerchantService::GetApplication(
    Ctx* ctx, const perks::v1::GetApplicationRequest* req, perks::v1::Application* resp) {
  return Read(ctx, "GetApplication", *req, [this, req, resp](const Caller& caller) {
    auto app = store_.GetApplication(req->application_id(), ScopeOf(caller));
    if (app.ok()) *resp = std::move(*app);
    return app.status();
  });
}

MerchantService::Reactor* MerchantService::ListApplications(
    Ctx* ctx, const perks::v1::ListApplicationsRequest* req,
    perks::v1::ListApplicationsResponse* resp) {
  return Read(ctx, "ListApplications", *req, [this, req, resp](const Caller& caller) {
    auto tenant = ListingTenant(caller, req->tenant_id());
    if (!tenant.ok()) return tenant.status();
    perks::v1::ListApplicationsRequest scoped = *req;
    scoped.set_tenant_id(*tenant);
    return store_.ListApplications(scoped, resp);
  });
}

MerchantService::Reactor* MerchantService::ReviewApplication(
    Ctx* ctx, const perks::v1::ReviewApplicationRequest* req, perks::v1::Application* resp) {
  return Mutate(
      ctx, "ReviewApplication", *req, resp,
      [req](const Caller&) {
        if (req->reason().size() > 500) {
          return absl::InvalidArgumentError("reason is over 500 bytes");
        }
        return absl::OkStatus();
      },
      [this, req, resp](storage::Txn& txn, const Mutation& m) {
        return store_.Review(txn, *req, m, resp);
      });
}

MerchantService::Reactor* MerchantService::ImportMerchants(
    Ctx* ctx, const perks::v1::ImportMerchantsRequest* req,
    perks::v1::ImportMerchantsResponse* resp) {
  auto good = std::make_shared<std::vector<perks::v1::MerchantProfile>>();
  auto rejected = std::make_shared<std::vector<perks::v1::RowRejection>>();
  return Mutate(
      ctx, "ImportMerchants", *req, resp,
      [req, good, rejected](const Caller& caller) {
        if (req->rows_size() > static_cast<int>(kImportRowsMax)) {
          return absl::InvalidArgumentError(
              absl::StrCat(req->rows_size(), " rows in one call; send at most ", kImportRowsMax));
        }
        for (const auto& row : req->rows()) {
          auto p = NormalizeProfile(row.profile());
          if (p.ok() && !SeesTenant(caller, p->tenant_id())) {
            p = absl::PermissionDeniedError(absl::StrCat(
                "the merchant is in ", p->tenant_id(), "; your token is for ", caller.tenant_id()));
          }
          if (p.ok()) {
            good->push_back(std::move(*p));
          } else {
            perks::v1::RowRejection r;
            r.set_line(row.line());
            r.set_reason(std::string(p.status().message()));
            rejected->push_back(std::move(r));
          }
        }
        return absl::OkStatus();
      },
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
  return Read(ctx, "GetMerchant", *req, [this, req, resp](const Caller& caller) {
    auto merchant = store_.GetMerchant(req->merchant_id(), ScopeOf(caller));
    if (merchant.ok()) *resp = std::move(*merchant);
    return merchant.status();
  });
}

MerchantService::Reactor* MerchantService::ListMerchants(Ctx* ctx,
                                                         const perks::v1::ListMerchantsRequest* req,
                                                         perks::v1::ListMerchantsResponse* resp) {
  return Read(ctx, "ListMerchants", *req, [this, req, resp](const Caller& caller) {
    auto tenant = ListingTenant(caller, req->tenant_id());
    if (!tenant.ok()) return tenant.status();
    perks::v1::ListMerchantsRequest scoped = *req;
    scoped.set_tenant_id(*tenant);
    return store_.ListMerchants(scoped, resp);
  });
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
  return Read(ctx, "ListTerminals", *req, [this, req, resp](const Caller& caller) {
    return store_.ListTerminals(req->store_id(), ScopeOf(caller), resp);
  });
}

MerchantService::Reactor* MerchantService::GetTerminalKeys(
    Ctx* ctx, const perks::v1::GetTerminalKeysRequest* req, perks::v1::TerminalKeys* resp) {
  return Read(ctx, "GetTerminalKeys", *req, [this, req, resp](const Caller&) {
    auto t = store_.GetTerminal(req->terminal_id());
    if (!t.ok()) return t.status();
    *resp->mutable_terminal() = t->terminal();
    resp->set_secret(t->secret());
    resp->set_previous_secret(t->previous_secret());
    return absl::OkStatus();
  });
}

MerchantService::Reactor* MerchantService::ListAudit(Ctx* ctx,
                                                     const perks::v1::ListAuditRequest* req,
                                                     perks::v1::ListAuditResponse* resp) {
  return gate_.ServeAudit(ctx, audit_, req, resp);
}

}  // namespace perks::merchant
