// The merchant service's state in its own RocksDB: the only code that knows its keys.
// Methods taking a Txn run on the group-commit writer and write nothing on error; the others read
// committed state from any thread.
#ifndef PERKS_SERVICES_MERCHANT_STORE_MERCHANT_STORE_H_
#define PERKS_SERVICES_MERCHANT_STORE_MERCHANT_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "perks/storage/v1/merchant_records.pb.h"
#include "perks/v1/merchant.pb.h"
#include "services/merchant/domain/merchant_rules.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks::merchant {

// What a caller may see: one city (empty: every city) and one merchant (empty: every merchant of
// that city). Things outside the scope are answered as not found, never shown.
struct Scope {
  std::string tenant_id;
  std::string merchant_id;
  bool Sees(std::string_view tenant, std::string_view merchant) const {
    return (tenant_id.empty() || tenant_id == tenant) &&
           (merchant_id.empty() || merchant_id == merchant);
  }
};

struct Mutation {
  std::string actor;
  int64_t now_unix_ms = 0;
  Scope scope;
};

class MerchantStore {
 public:
  static constexpr uint32_t kSchemaVersion = 1;
  static std::vector<std::string> ColumnFamilies();

  explicit MerchantStore(storage::Db* db);
  storage::Cf idempotency_family() const { return idempotency_; }

  // REQUIRES: `profile` passed NormalizeProfile.
  absl::Status Submit(storage::Txn& txn, const std::string& application_id,
                      const perks::v1::MerchantProfile& profile, const Mutation& m,
                      perks::v1::Application* out);
  absl::Status Review(storage::Txn& txn, const perks::v1::ReviewApplicationRequest& req,
                      const Mutation& m, perks::v1::Application* out);
  // Creates the merchant unless one with that credit code exists in the tenant. Returns whether
  // it created one.
  absl::StatusOr<bool> ImportMerchant(storage::Txn& txn, const perks::v1::MerchantProfile& profile,
                                      const Mutation& m);
  absl::Status ChangeState(storage::Txn& txn, const perks::v1::ChangeMerchantStateRequest& req,
                           const Mutation& m, perks::v1::Merchant* out);
  absl::Status AddStore(storage::Txn& txn, const perks::v1::AddStoreRequest& req, const Mutation& m,
                        perks::v1::Store* out);
  absl::Status RegisterTerminal(storage::Txn& txn, const perks::v1::RegisterTerminalRequest& req,
                                const Mutation& m, perks::v1::TerminalCredential* out);
  absl::Status RotateSecret(storage::Txn& txn, const perks::v1::RotateTerminalSecretRequest& req,
                            const Mutation& m, perks::v1::TerminalCredential* out);
  absl::Status Revoke(storage::Txn& txn, const perks::v1::RevokeTerminalRequest& req,
                      const Mutation& m, perks::v1::Terminal* out);

  absl::StatusOr<perks::v1::Application> GetApplication(const std::string& id,
                                                        const Scope& scope) const;
  absl::Status ListApplications(const perks::v1::ListApplicationsRequest& req,
                                perks::v1::ListApplicationsResponse* out) const;
  absl::StatusOr<perks::v1::Merchant> GetMerchant(const std::string& id, const Scope& scope) const;
  absl::Status ListMerchants(const perks::v1::ListMerchantsRequest& req,
                             perks::v1::ListMerchantsResponse* out) const;
  absl::Status ListTerminals(const std::string& store_id, const Scope& scope,
                             perks::v1::ListTerminalsResponse* out) const;
  // A terminal with its secrets, for the code that checks a terminal's signatures.
  absl::StatusOr<perks::storage::v1::TerminalRecord> GetTerminal(const std::string& id) const;

 private:
  absl::StatusOr<perks::v1::Merchant> CreateMerchant(storage::Txn& txn,
                                                     const perks::v1::MerchantProfile& profile,
                                                     const std::string& application_id,
                                                     const Mutation& m);
  template <typename Reader>
  absl::StatusOr<perks::v1::Merchant> MerchantWithStores(Reader& r, const std::string& id,
                                                         const Scope& scope) const;

  storage::Db* db_;
  storage::Cf applications_, merchants_, stores_, terminals_, idempotency_;
};

}  // namespace perks::merchant

#endif  // PERKS_SERVICES_MERCHANT_STORE_MERCHANT_STORE_H_
