// The promotion service's state in its own RocksDB: the only code that knows its keys.
// Methods taking a Txn run on the group-commit writer and write nothing on error; the others read
// committed state from any thread.
#ifndef PERKS_SERVICES_PROMOTION_STORE_PROMOTION_STORE_H_
#define PERKS_SERVICES_PROMOTION_STORE_PROMOTION_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "perks/storage/v1/promotion_records.pb.h"
#include "perks/v1/promotion.pb.h"
#include "services/promotion/domain/engine.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks::promotion {

struct Mutation {
  std::string actor;
  int64_t now_unix_ms = 0;
  std::string tenant_id;    // the caller's city; empty: every city
  std::string merchant_id;  // a till's merchant: it settles its own reservations only
};

// A campaign's state now, from its record: DRAFT until published, then SCHEDULED, ACTIVE and
// ENDED by its dates, unless paused or ended by an admin.
perks::v1::CampaignState StateOf(const perks::storage::v1::CampaignRecord& rec,
                                 int64_t now_unix_ms);

class PromotionStore {
 public:
  static constexpr uint32_t kSchemaVersion = 1;
  static constexpr size_t kCampaignsListedMax = storage::kScanLimitMax;
  static std::vector<std::string> ColumnFamilies();

  explicit PromotionStore(storage::Db* db);
  storage::Cf idempotency_family() const { return idempotency_; }

  // Creates the campaign, or replaces its draft with `spec`.
  // REQUIRES: ValidateSpec(spec).ok().
  absl::Status Apply(storage::Txn& txn, const perks::v1::CampaignSpec& spec, const Mutation& m,
                     perks::v1::Campaign* out);
  // Freezes the draft as the next version and makes it the one checkouts use.
  absl::Status Publish(storage::Txn& txn, const perks::v1::PublishCampaignRequest& req,
                       const Mutation& m, perks::v1::Campaign* out);
  absl::Status SetState(storage::Txn& txn, const perks::v1::SetCampaignStateRequest& req,
                        const Mutation& m, perks::v1::Campaign* out);

  // NOT_FOUND also for a campaign of a city outside `tenant_id` (empty: every city).
  absl::StatusOr<perks::v1::Campaign> Get(const std::string& campaign_id,
                                          const std::string& tenant_id, int64_t now_ms) const;
  absl::Status List(const std::string& tenant_id, int64_t now_ms,
                    perks::v1::ListCampaignsResponse* out) const;
  // Version 0: the published one.
  absl::StatusOr<perks::v1::CampaignVersion> GetVersion(const std::string& campaign_id,
                                                        int32_t version,
                                                        const std::string& tenant_id) const;
  // Every published campaign of every city, for the rule set.
  absl::StatusOr<std::vector<RuleSet::Input>> Published() const;

 private:
  template <typename Reader>
  absl::StatusOr<perks::storage::v1::CampaignRecord> Load(Reader& r, const std::string& id,
                                                          const std::string& tenant_id) const;

  storage::Db* db_;
  storage::Cf campaigns_, versions_, idempotency_;
};

}  // namespace perks::promotion

#endif  // PERKS_SERVICES_PROMOTION_STORE_PROMOTION_STORE_H_
