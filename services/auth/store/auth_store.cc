#include "services/auth/store/auth_store.h"

#include <openssl/crypto.h>

#include "absl/strings/str_cat.h"
#include "services/auth/domain/auth_rules.h"
#include "services/common/audit.h"
#include "services/common/personal.h"
#include "services/common/records.h"
#include "storage/keys.h"

namespace perks::auth {
namespace {

using perks::storage::v1::TokenRecord;

storage::Key TokenKey(std::string_view id) {
  return std::move(storage::Key().Str("token").Str(id));
}
storage::Key ByTenantPrefix(std::string_view tenant) {
  return std::move(storage::Key().Str("bytenant").Str(tenant));
}

}  // namespace

std::vector<std::string> AuthStore::ColumnFamilies() {
  return {"tokens", "idempotency", kAuditFamily};
}

AuthStore::AuthStore(storage::Db* db)
    : db_(db), tokens_(db->Family("tokens")), idempotency_(db->Family("idempotency")) {}

absl::Status AuthStore::Create(storage::Txn& txn, const perks::v1::Caller& caller,
                               const std::string& created_by, int64_t now_unix_ms,
                               perks::v1::CreatedToken* out) {
  std::string id = RandomHex(8), secret = RandomHex(32);
  TokenRecord rec;
  perks::v1::ApiToken& token = *rec.mutable_token();
  token.set_token_id(id);
  *token.mutable_caller() = caller;
  token.mutable_caller()->set_token_id(id);
  token.set_created_by(created_by);
  token.set_created_at_unix_ms(now_unix_ms);
  rec.set_secret_sha256(Sha256(secret));
  txn.Put(tokens_, TokenKey(id).bytes(), rec.SerializeAsString());
  txn.Put(tokens_, ByTenantPrefix(caller.tenant_id()).Str(id).bytes(), "");
  *out->mutable_token() = token;
  out->set_secret_token(absl::StrCat("pk.", id, ".", secret));
  return absl::OkStatus();
}

absl::Status AuthStore::Revoke(storage::Txn& txn, const perks::v1::Caller& by,
                               const std::string& token_id, int64_t now_unix_ms,
                               perks::v1::ApiToken* out) {
  auto found = GetRecord<TokenRecord>(txn, tokens_, TokenKey(token_id));
  if (!found.ok()) return found.status();
  // Another city's token is as good as absent to a union admin.
  if (!found->has_value() || !CanCreateToken(by, (*found)->token().caller()).ok()) {
    return absl::NotFoundError(absl::StrCat("no token ", token_id));
  }
  TokenRecord rec = **found;
  if (rec.token().revoked_at_unix_ms() == 0) {
    rec.mutable_token()->set_revoked_at_unix_ms(now_unix_ms);
    txn.Put(tokens_, TokenKey(token_id).bytes(), rec.SerializeAsString());
  }
  *out = rec.token();
  return absl::OkStatus();
}

absl::StatusOr<bool> AuthStore::Empty() const {
  storage::Key prefix;
  prefix.Str("token");
  auto n = db_->Scan(tokens_, prefix.bytes(), prefix.PrefixEnd(), 1,
                     [](std::string_view, std::string_view) { return true; });
  if (!n.ok()) return n.status();
  return *n == 0;
}

absl::StatusOr<perks::v1::Caller> AuthStore::Authenticate(const std::string& bearer_token) const {
  auto parts = ParseBearer(bearer_token);
  if (!parts.ok()) return parts.status();
  auto found = GetRecord<TokenRecord>(*db_, tokens_, TokenKey(parts->token_id));
  if (!found.ok()) return found.status();
  std::string hash = Sha256(parts->secret);
  if (!found->has_value() || (*found)->secret_sha256().size() != hash.size() ||
      CRYPTO_memcmp((*found)->secret_sha256().data(), hash.data(), hash.size()) != 0) {
    return absl::UnauthenticatedError("unknown API token; ask your administrator for a new one");
  }
  if ((*found)->token().revoked_at_unix_ms() != 0) {
    return absl::UnauthenticatedError("this API token has been revoked");
  }
  return (*found)->token().caller();
}

absl::Status AuthStore::List(const perks::v1::Caller& by, const std::string& tenant_id,
                             perks::v1::ListTokensResponse* out) const {
  if (tenant_id.empty() && by.role() != perks::v1::ROLE_INSTALLATION_ADMIN) {
    return absl::PermissionDeniedError("name your city (tenant) to list its tokens");
  }
  if (!tenant_id.empty() && !CanAdministerTenant(by, tenant_id)) {
    return absl::PermissionDeniedError(absl::StrCat("you may not list the tokens of ", tenant_id));
  }
  storage::Key prefix =
      tenant_id.empty() ? std::move(storage::Key().Str("token")) : ByTenantPrefix(tenant_id);
  std::vector<std::string> values;
  auto n = db_->Scan(tokens_, prefix.bytes(), prefix.PrefixEnd(), storage::kScanLimitMax,
                     [&](std::string_view key, std::string_view value) {
                       if (tenant_id.empty()) {
                         values.emplace_back(value);
                       } else {
                         storage::KeyReader r(key);
                         std::string kind, tenant, id;
                         if (r.Str(&kind) && r.Str(&tenant) && r.Str(&id)) values.push_back(id);
                       }
                       return true;
                     });
  if (!n.ok()) return n.status();
  for (const auto& v : values) {
    TokenRecord rec;
    if (tenant_id.empty()) {
      if (!rec.ParseFromString(v)) return absl::DataLossError("a token record is unreadable");
    } else {
      auto found = GetRecord<TokenRecord>(*db_, tokens_, TokenKey(v));
      if (!found.ok()) return found.status();
      if (!found->has_value()) continue;
      rec = **found;
    }
    *out->add_tokens() = rec.token();
  }
  return absl::OkStatus();
}

}  // namespace perks::auth
