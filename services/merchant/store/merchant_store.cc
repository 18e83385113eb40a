#include "services/merchant/store/merchant_store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/audit.h"
#include "services/common/personal.h"
#include "services/common/records.h"
#include "services/merchant/store/merchant_keys.h"

namespace perks::merchant {
namespace {

using perks::storage::v1::ApplicationRecord;
using perks::storage::v1::MerchantRecord;
using perks::storage::v1::StoreRecord;
using perks::storage::v1::TerminalRecord;

std::string NewId(std::string_view prefix) {
  return absl::StrCat(std::string(prefix), RandomHex(8));
}

absl::Status CheckText(std::string_view what, const std::string& value, size_t max_bytes) {
  if (value.empty())
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), " is empty"));
  if (value.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), " is over ", max_bytes, " bytes"));
  }
  return absl::OkStatus();
}

// A page token is the last key a page returned, in hex (tokens travel in proto strings, which must
// be UTF-8); a scan resumes just after that key.
std::string PageToken(const std::string& key) { return absl::BytesToHexString(key); }
std::string ResumeAfter(const std::string& token) { return absl::HexStringToBytes(token) + '\0'; }

}  // namespace

std::vector<std::string> MerchantStore::ColumnFamilies() {
  return {"applications", "merchants", "stores", "terminals", "idempotency", kAuditFamily};
}

MerchantStore::MerchantStore(storage::Db* db)
    : db_(db),
      applications_(db->Family("applications")),
      merchants_(db->Family("merchants")),
      stores_(db->Family("stores")),
      terminals_(db->Family("terminals")),
      idempotency_(db->Family("idempotency")) {}

absl::Status MerchantStore::Submit(storage::Txn& txn, const std::string& application_id,
                                   const perks::v1::MerchantProfile& profile, const Mutation& m,
                                   perks::v1::Application* out) {
  auto existing_merchant =
      txn.Get(merchants_, keys::CreditCode(profile.tenant_id(), profile.credit_code()).bytes());
  if (!existing_merchant.ok()) return existing_merchant.status();
  if (existing_merchant->has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("a merchant with this credit code is already a partner in ",
                     profile.tenant_id(), " (", **existing_merchant, ")"));
  }
  ApplicationRecord rec;
  perks::v1::Application& app = *rec.mutable_application();
  if (application_id.empty()) {
    app.set_application_id(NewId("A"));
  } else {
    auto found =
        GetRecord<ApplicationRecord>(txn, applications_, keys::Application(application_id));
    if (!found.ok()) return found.status();
    if (!found->has_value()) {
      return absl::NotFoundError(absl::StrCat("no application ", application_id));
    }
    rec = **found;
    if (!m.scope.Sees(app.profile().tenant_id(), "")) {
      return absl::NotFoundError(absl::StrCat("no application ", application_id));
    }
    if (app.profile().tenant_id() != profile.tenant_id()) {
      return absl::InvalidArgumentError(
          "a resubmission cannot move the application to another city");
    }
    if (absl::Status s = CanResubmit(app.state()); !s.ok()) return s;
    txn.Delete(applications_, keys::Queue(app.profile().tenant_id(), app.state(),
                                          app.submitted_at_unix_ms(), app.application_id())
                                  .bytes());
  }
  *app.mutable_profile() = profile;
  app.set_state(perks::v1::APPLICATION_STATE_SUBMITTED);
  app.set_submitted_at_unix_ms(m.now_unix_ms);
  perks::v1::ReviewStep* step = app.add_steps();
  step->set_at_unix_ms(m.now_unix_ms);
  step->set_actor(m.actor);
  step->set_to(perks::v1::APPLICATION_STATE_SUBMITTED);
  txn.Put(applications_, keys::Application(app.application_id()).bytes(), rec.SerializeAsString());
  txn.Put(
      applications_,
      keys::Queue(profile.tenant_id(), app.state(), m.now_unix_ms, app.application_id()).bytes(),
      "");
  *out = app;
  *out->mutable_profile() = MaskedProfile(app.profile());
  return absl::OkStatus();
}

absl::StatusOr<perks::v1::Merchant> MerchantStore::CreateMerchant(
    storage::Txn& txn, const perks::v1::MerchantProfile& profile, const std::string& application_id,
    const Mutation& m) {
  MerchantRecord rec;
  perks::v1::Merchant& merchant = *rec.mutable_merchant();
  merchant.set_merchant_id(NewId("M"));
  *merchant.mutable_profile() = profile;
  merchant.set_state(perks::v1::MERCHANT_STATE_ACTIVE);
  merchant.set_application_id(application_id);
  merchant.set_created_at_unix_ms(m.now_unix_ms);
  merchant.set_updated_at_unix_ms(m.now_unix_ms);
  txn.Put(merchants_, keys::Merchant(merchant.merchant_id()).bytes(), rec.SerializeAsString());
  txn.Put(merchants_, keys::ByTenant(profile.tenant_id(), merchant.merchant_id()).bytes(), "");
  txn.Put(merchants_, keys::CreditCode(profile.tenant_id(), profile.credit_code()).bytes(),
          merchant.merchant_id());
  // Every merchant starts with the store its profile describes.
  StoreRecord store;
  store.set_tenant_id(profile.tenant_id());
  store.mutable_store()->set_store_id(NewId("S"));
  store.mutable_store()->set_merchant_id(merchant.merchant_id());
  store.mutable_store()->set_name(profile.name());
  store.mutable_store()->set_address(profile.address());
  store.mutable_store()->set_region(profile.region());
  store.mutable_store()->set_created_at_unix_ms(m.now_unix_ms);
  txn.Put(stores_, keys::Store(store.store().store_id()).bytes(), store.SerializeAsString());
  txn.Put(stores_, keys::MerchantStore(merchant.merchant_id(), store.store().store_id()).bytes(),
          "");
  perks::v1::Merchant answer = merchant;
  *answer.mutable_profile() = MaskedProfile(profile);
  *answer.add_stores() = store.store();
  return answer;
}

absl::Status MerchantStore::Review(storage::Txn& txn,
                                   const perks::v1::ReviewApplicationRequest& req,
                                   const Mutation& m, perks::v1::Application* out) {
  auto found =
      GetRecord<ApplicationRecord>(txn, applications_, keys::Application(req.application_id()));
  if (!found.ok()) return found.status();
  if (!found->has_value() || !m.scope.Sees((*found)->application().profile().tenant_id(), "")) {
    return absl::NotFoundError(absl::StrCat("no application ", req.application_id()));
  }
  ApplicationRecord rec = **found;
  perks::v1::Application& app = *rec.mutable_application();
  auto next = Decide(app.state(), req.decision(), req.reason());
  if (!next.ok()) return next.status();
  if (*next == perks::v1::APPLICATION_STATE_APPROVED) {
    auto taken =
        txn.Get(merchants_,
                keys::CreditCode(app.profile().tenant_id(), app.profile().credit_code()).bytes());
    if (!taken.ok()) return taken.status();
    if (taken->has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("a merchant with this credit code is already a partner (", **taken,
                       "); reject this application as a duplicate"));
    }
    auto merchant = CreateMerchant(txn, app.profile(), app.application_id(), m);
    if (!merchant.ok()) return merchant.status();
    app.set_merchant_id(merchant->merchant_id());
  }
  txn.Delete(applications_, keys::Queue(app.profile().tenant_id(), app.state(),
                                        app.submitted_at_unix_ms(), app.application_id())
                                .bytes());
  app.set_state(*next);
  txn.Put(applications_,
          keys::Queue(app.profile().tenant_id(), app.state(), app.submitted_at_unix_ms(),
                      app.application_id())
              .bytes(),
          "");
  perks::v1::ReviewStep* step = app.add_steps();
  step->set_at_unix_ms(m.now_unix_ms);
  step->set_actor(m.actor);
  step->set_to(*next);
  step->set_reason(req.reason());
  txn.Put(applications_, keys::Application(app.application_id()).bytes(), rec.SerializeAsString());
  *out = app;
  *out->mutable_profile() = MaskedProfile(app.profile());
  return absl::OkStatus();
}

absl::StatusOr<bool> MerchantStore::ImportMerchant(storage::Txn& txn,
                                                   const perks::v1::MerchantProfile& profile,
                                                   const Mutation& m) {
  auto taken =
      txn.Get(merchants_, keys::CreditCode(profile.tenant_id(), profile.credit_code()).bytes());
  if (!taken.ok()) return taken.status();
  if (taken->has_value()) return false;
  auto merchant = CreateMerchant(txn, profile, "", m);
  if (!merchant.ok()) return merchant.status();
  return true;
}

absl::Status MerchantStore::ChangeState(storage::Txn& txn,
                                        const perks::v1::ChangeMerchantStateRequest& req,
                                        const Mutation& m, perks::v1::Merchant* out) {
  auto found = GetRecord<MerchantRecord>(txn, merchants_, keys::Merchant(req.merchant_id()));
  if (!found.ok()) return found.status();
  if (!found->has_value() || !m.scope.Sees((*found)->merchant().profile().tenant_id(),
                                           (*found)->merchant().merchant_id())) {
    return absl::NotFoundError(absl::StrCat("no merchant ", req.merchant_id()));
  }
  MerchantRecord rec = **found;
  auto next = NextMerchantState(rec.merchant().state(), req.action());
  if (!next.ok()) return next.status();
  rec.mutable_merchant()->set_state(*next);
  rec.mutable_merchant()->set_updated_at_unix_ms(m.now_unix_ms);
  txn.Put(merchants_, keys::Merchant(req.merchant_id()).bytes(), rec.SerializeAsString());
  auto answer = MerchantWithStores(txn, req.merchant_id(), m.scope);
  if (!answer.ok()) return answer.status();
  *out = std::move(*answer);
  return absl::OkStatus();
}

absl::Status MerchantStore::AddStore(storage::Txn& txn, const perks::v1::AddStoreRequest& req,
                                     const Mutation& m, perks::v1::Store* out) {
  if (absl::Status s = CheckText("store name", req.name(), 100); !s.ok()) return s;
  if (absl::Status s = CheckText("store address", req.address(), 200); !s.ok()) return s;
  auto found = GetRecord<MerchantRecord>(txn, merchants_, keys::Merchant(req.merchant_id()));
  if (!found.ok()) return found.status();
  if (!found->has_value() || !m.scope.Sees((*found)->merchant().profile().tenant_id(),
                                           (*found)->merchant().merchant_id())) {
    return absl::NotFoundError(absl::StrCat("no merchant ", req.merchant_id()));
  }
  const perks::v1::Merchant& merchant = (*found)->merchant();
  if (merchant.state() != perks::v1::MERCHANT_STATE_ACTIVE) {
    return absl::FailedPreconditionError(
        absl::StrCat("merchant is ", std::string(MerchantStateName(merchant.state())),
                     "; only an active merchant can add stores"));
  }
  StoreRecord store;
  store.set_tenant_id(merchant.profile().tenant_id());
  store.mutable_store()->set_store_id(NewId("S"));
  store.mutable_store()->set_merchant_id(merchant.merchant_id());
  store.mutable_store()->set_name(req.name());
  store.mutable_store()->set_address(req.address());
  store.mutable_store()->set_region(req.region().empty() ? merchant.profile().region()
                                                         : req.region());
  store.mutable_store()->set_created_at_unix_ms(m.now_unix_ms);
  txn.Put(stores_, keys::Store(store.store().store_id()).bytes(), store.SerializeAsString());
  txn.Put(stores_, keys::MerchantStore(merchant.merchant_id(), store.store().store_id()).bytes(),
          "");
  *out = store.store();
  return absl::OkStatus();
}

absl::Status MerchantStore::RegisterTerminal(storage::Txn& txn,
                                             const perks::v1::RegisterTerminalRequest& req,
                                             const Mutation& m,
                                             perks::v1::TerminalCredential* out) {
  if (req.label().size() > 64) return absl::InvalidArgumentError("label is over 64 bytes");
  auto store = GetRecord<StoreRecord>(txn, stores_, keys::Store(req.store_id()));
  if (!store.ok()) return store.status();
  if (!store->has_value() ||
      !m.scope.Sees((*store)->tenant_id(), (*store)->store().merchant_id())) {
    return absl::NotFoundError(absl::StrCat("no store ", req.store_id()));
  }
  auto merchant =
      GetRecord<MerchantRecord>(txn, merchants_, keys::Merchant((*store)->store().merchant_id()));
  if (!merchant.ok()) return merchant.status();
  if (!merchant->has_value() ||
      (*merchant)->merchant().state() != perks::v1::MERCHANT_STATE_ACTIVE) {
    return absl::FailedPreconditionError("only an active merchant's stores can register terminals");
  }
  TerminalRecord rec;
  perks::v1::Terminal& t = *rec.mutable_terminal();
  t.set_terminal_id(NewId("T"));
  t.set_store_id(req.store_id());
  t.set_merchant_id((*store)->store().merchant_id());
  t.set_tenant_id((*store)->tenant_id());
  t.set_state(perks::v1::TERMINAL_STATE_ACTIVE);
  t.set_label(req.label());
  t.set_created_at_unix_ms(m.now_unix_ms);
  t.set_secret_rotated_at_unix_ms(m.now_unix_ms);
  std::string secret = RandomHex(32);
  rec.set_secret(secret);
  txn.Put(terminals_, keys::Terminal(t.terminal_id()).bytes(), rec.SerializeAsString());
  txn.Put(terminals_, keys::StoreTerminal(req.store_id(), t.terminal_id()).bytes(), "");
  *out->mutable_terminal() = t;
  out->set_secret(secret);
  return absl::OkStatus();
}

absl::Status MerchantStore::RotateSecret(storage::Txn& txn,
                                         const perks::v1::RotateTerminalSecretRequest& req,
                                         const Mutation& m, perks::v1::TerminalCredential* out) {
  int64_t grace_s = req.grace_seconds() == 0 ? kRotationGraceSecondsDefault : req.grace_seconds();
  if (grace_s < 0 || grace_s > kRotationGraceSecondsMax) {
    return absl::InvalidArgumentError(absl::StrCat("grace_seconds must be 0 (default ",
                                                   kRotationGraceSecondsDefault, ") to ",
                                                   kRotationGraceSecondsMax));
  }
  auto found = GetRecord<TerminalRecord>(txn, terminals_, keys::Terminal(req.terminal_id()));
  if (!found.ok()) return found.status();
  if (!found->has_value() ||
      !m.scope.Sees((*found)->terminal().tenant_id(), (*found)->terminal().merchant_id())) {
    return absl::NotFoundError(absl::StrCat("no terminal ", req.terminal_id()));
  }
  TerminalRecord rec = **found;
  if (rec.terminal().state() != perks::v1::TERMINAL_STATE_ACTIVE) {
    return absl::FailedPreconditionError("terminal is revoked; register a new one instead");
  }
  rec.set_previous_secret(rec.secret());
  rec.set_secret(RandomHex(32));
  rec.mutable_terminal()->set_secret_rotated_at_unix_ms(m.now_unix_ms);
  rec.mutable_terminal()->set_previous_secret_valid_until_unix_ms(m.now_unix_ms + grace_s * 1000);
  txn.Put(terminals_, keys::Terminal(req.terminal_id()).bytes(), rec.SerializeAsString());
  *out->mutable_terminal() = rec.terminal();
  out->set_secret(rec.secret());
  return absl::OkStatus();
}

absl::Status MerchantStore::Revoke(storage::Txn& txn, const perks::v1::RevokeTerminalRequest& req,
                                   const Mutation& m, perks::v1::Terminal* out) {
  auto found = GetRecord<TerminalRecord>(txn, terminals_, keys::Terminal(req.terminal_id()));
  if (!found.ok()) return found.status();
  if (!found->has_value() ||
      !m.scope.Sees((*found)->terminal().tenant_id(), (*found)->terminal().merchant_id())) {
    return absl::NotFoundError(absl::StrCat("no terminal ", req.terminal_id()));
  }
  TerminalRecord rec = **found;
  if (rec.terminal().state() == perks::v1::TERMINAL_STATE_REVOKED) {
    *out = rec.terminal();  // revoking twice is done, not an error
    return absl::OkStatus();
  }
  rec.mutable_terminal()->set_state(perks::v1::TERMINAL_STATE_REVOKED);
  rec.mutable_terminal()->set_previous_secret_valid_until_unix_ms(0);
  rec.clear_previous_secret();
  txn.Put(terminals_, keys::Terminal(req.terminal_id()).bytes(), rec.SerializeAsString());
  *out = rec.terminal();
  return absl::OkStatus();
}

absl::StatusOr<perks::v1::Application> MerchantStore::GetApplication(const std::string& id,
                                                                     const Scope& scope) const {
  auto found = GetRecord<ApplicationRecord>(*db_, applications_, keys::Application(id));
  if (!found.ok()) return found.status();
  if (!found->has_value() || !scope.Sees((*found)->application().profile().tenant_id(), "")) {
    return absl::NotFoundError(absl::StrCat("no application ", id));
  }
  perks::v1::Application app = (*found)->application();
  *app.mutable_profile() = MaskedProfile(app.profile());
  return app;
}

absl::Status MerchantStore::ListApplications(const perks::v1::ListApplicationsRequest& req,
                                             perks::v1::ListApplicationsResponse* out) const {
  if (req.page_size() < 0 || req.page_size() > kPageSizeMax) {
    return absl::InvalidArgumentError(absl::StrCat("page_size must be 0 to ", kPageSizeMax));
  }
  size_t page = req.page_size() == 0 ? kPageSizeMax : static_cast<size_t>(req.page_size());
  storage::Key prefix = req.state() == perks::v1::APPLICATION_STATE_UNSPECIFIED
                            ? keys::QueuePrefix(req.tenant_id())
                            : keys::QueueStatePrefix(req.tenant_id(), req.state());
  std::string start = req.page_token().empty() ? prefix.bytes() : ResumeAfter(req.page_token());
  if (start.compare(0, prefix.bytes().size(), prefix.bytes()) != 0) {
    return absl::InvalidArgumentError("page_token does not belong to this listing");
  }
  std::vector<std::pair<std::string, std::string>> found;  // (queue key, application id)
  auto n =
      db_->Scan(applications_, start, prefix.PrefixEnd(), page + 1,
                [&](std::string_view key, std::string_view) {
                  storage::KeyReader r(key);
                  std::string kind, tenant, id;
                  uint64_t state, at;
                  if (r.Str(&kind) && r.Str(&tenant) && r.U64(&state) && r.U64(&at) && r.Str(&id)) {
                    found.emplace_back(std::string(key), id);
                  }
                  return true;
                });
  if (!n.ok()) return n.status();
  bool more = found.size() > page;
  if (more) found.pop_back();
  for (const auto& [key, id] : found) {
    auto app = GetApplication(id, Scope{req.tenant_id(), ""});
    if (!app.ok()) return app.status();
    *out->add_applications() = std::move(*app);
  }
  if (more) out->set_next_page_token(PageToken(found.back().first));
  return absl::OkStatus();
}

template <typename Reader>
absl::StatusOr<perks::v1::Merchant> MerchantStore::MerchantWithStores(Reader& r,
                                                                      const std::string& id,
                                                                      const Scope& scope) const {
  auto found = GetRecord<MerchantRecord>(r, merchants_, keys::Merchant(id));
  if (!found.ok()) return found.status();
  if (!found->has_value() ||
      !scope.Sees((*found)->merchant().profile().tenant_id(), (*found)->merchant().merchant_id())) {
    return absl::NotFoundError(absl::StrCat("no merchant ", id));
  }
  perks::v1::Merchant merchant = (*found)->merchant();
  *merchant.mutable_profile() = MaskedProfile(merchant.profile());
  // Stores are read from committed state: a merchant's stores change only through AddStore.
  storage::Key prefix = keys::MerchantStorePrefix(id);
  std::vector<std::string> store_ids;
  auto n = db_->Scan(stores_, prefix.bytes(), prefix.PrefixEnd(), storage::kScanLimitMax,
                     [&](std::string_view key, std::string_view) {
                       storage::KeyReader kr(key);
                       std::string kind, merchant_id, store_id;
                       if (kr.Str(&kind) && kr.Str(&merchant_id) && kr.Str(&store_id)) {
                         store_ids.push_back(store_id);
                       }
                       return true;
                     });
  if (!n.ok()) return n.status();
  for (const auto& sid : store_ids) {
    auto store = GetRecord<StoreRecord>(r, stores_, keys::Store(sid));
    if (!store.ok()) return store.status();
    if (store->has_value()) *merchant.add_stores() = (*store)->store();
  }
  return merchant;
}

absl::StatusOr<perks::v1::Merchant> MerchantStore::GetMerchant(const std::string& id,
                                                               const Scope& scope) const {
  return MerchantWithStores(*db_, id, scope);
}

absl::Status MerchantStore::ListMerchants(const perks::v1::ListMerchantsRequest& req,
                                          perks::v1::ListMerchantsResponse* out) const {
  if (req.page_size() < 0 || req.page_size() > kPageSizeMax) {
    return absl::InvalidArgumentError(absl::StrCat("page_size must be 0 to ", kPageSizeMax));
  }
  size_t page = req.page_size() == 0 ? kPageSizeMax : static_cast<size_t>(req.page_size());
  storage::Key prefix = keys::ByTenantPrefix(req.tenant_id());
  std::string start = req.page_token().empty() ? prefix.bytes() : ResumeAfter(req.page_token());
  if (start.compare(0, prefix.bytes().size(), prefix.bytes()) != 0) {
    return absl::InvalidArgumentError("page_token does not belong to this listing");
  }
  std::vector<std::pair<std::string, std::string>> found;
  auto n = db_->Scan(merchants_, start, prefix.PrefixEnd(), page + 1,
                     [&](std::string_view key, std::string_view) {
                       storage::KeyReader r(key);
                       std::string kind, tenant, id;
                       if (r.Str(&kind) && r.Str(&tenant) && r.Str(&id)) {
                         found.emplace_back(std::string(key), id);
                       }
                       return true;
                     });
  if (!n.ok()) return n.status();
  bool more = found.size() > page;
  if (more) found.pop_back();
  for (const auto& [key, id] : found) {
    auto merchant = GetMerchant(id, Scope{req.tenant_id(), ""});
    if (!merchant.ok()) return merchant.status();
    *out->add_merchants() = std::move(*merchant);
  }
  if (more) out->set_next_page_token(PageToken(found.back().first));
  return absl::OkStatus();
}

absl::Status MerchantStore::ListTerminals(const std::string& store_id, const Scope& scope,
                                          perks::v1::ListTerminalsResponse* out) const {
  auto store = GetRecord<StoreRecord>(*db_, stores_, keys::Store(store_id));
  if (!store.ok()) return store.status();
  if (!store->has_value() || !scope.Sees((*store)->tenant_id(), (*store)->store().merchant_id())) {
    return absl::NotFoundError(absl::StrCat("no store ", store_id));
  }
  storage::Key prefix = keys::StoreTerminalPrefix(store_id);
  std::vector<std::string> ids;
  auto n = db_->Scan(terminals_, prefix.bytes(), prefix.PrefixEnd(), storage::kScanLimitMax,
                     [&](std::string_view key, std::string_view) {
                       storage::KeyReader r(key);
                       std::string kind, sid, tid;
                       if (r.Str(&kind) && r.Str(&sid) && r.Str(&tid)) ids.push_back(tid);
                       return true;
                     });
  if (!n.ok()) return n.status();
  for (const auto& id : ids) {
    auto t = GetTerminal(id);
    if (!t.ok()) return t.status();
    *out->add_terminals() = t->terminal();  // never the secrets
  }
  return absl::OkStatus();
}

absl::StatusOr<TerminalRecord> MerchantStore::GetTerminal(const std::string& id) const {
  auto found = GetRecord<TerminalRecord>(*db_, terminals_, keys::Terminal(id));
  if (!found.ok()) return found.status();
  if (!found->has_value()) return absl::NotFoundError(absl::StrCat("no terminal ", id));
  return std::move(**found);
}

}  // namespace perks::merchant
