// The audit log of administrative changes. Every change made with an API token (by a person or a
// back office: not a till's signed call, not another service) is recorded by the service that
// made it, in its own "audit" column family, in the same atomic write as the change itself: there
// is no change without its entry and no entry without its change. Entries are never edited.
//
// Readable per city, oldest first, by that city's admins (ListAudit on each service).
#ifndef PERKS_SERVICES_COMMON_AUDIT_H_
#define PERKS_SERVICES_COMMON_AUDIT_H_

#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "perks/v1/auth.pb.h"
#include "perks/v1/common.pb.h"
#include "services/common/idempotency.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks {

inline constexpr char kAuditFamily[] = "audit";
inline constexpr int kAuditPageSizeMax = 1000;

class AuditLog {
 public:
  // `service`: the short name entries carry, e.g. "merchant".
  AuditLog(const storage::Db* db, std::string service)
      : db_(db), cf_(db->Family(kAuditFamily)), service_(std::move(service)) {}

  // Whether changes by `caller` are recorded: everyone holding an API token.
  static bool Records(const perks::v1::Caller& caller);

  // Adds the entry for a change `method` made for `caller`, answering `response` to `request`.
  // The entry's city is the one the change belongs to (a tenant_id in the answer), else the
  // caller's; its target the first id the answer names (never a card number or ID number).
  void Record(storage::Txn& txn, const perks::v1::Caller& caller, std::string_view actor,
              std::string_view method, const google::protobuf::Message& request,
              const google::protobuf::Message& response, int64_t at_unix_ms) const;

  // One city's entries at or after req.since_unix_ms, oldest first. `tenant_id` is the city the
  // caller may read (the caller's gate and scope decide it).
  absl::Status List(const std::string& tenant_id, const perks::v1::ListAuditRequest& req,
                    perks::v1::ListAuditResponse* out) const;

 private:
  const storage::Db* db_;
  storage::Cf cf_;
  std::string service_;
};

// MutateOnce (idempotency.h) that, when `apply` succeeds, records the change in `audit` in the
// same write. `actor` names the caller for the record.
void MutateAndAudit(const IdempotencyStore& store, const AuditLog& audit,
                    const perks::v1::Caller& caller, std::string actor, std::string_view method,
                    const google::protobuf::Message& request, google::protobuf::Message* response,
                    int64_t now_unix_ms, absl::AnyInvocable<absl::Status(storage::Txn&)> apply,
                    absl::AnyInvocable<void(absl::Status)> done);

// The first field named "tenant_id" in `m` or the messages it holds (two levels deep); "" if none.
std::string TenantIdIn(const google::protobuf::Message& m);
// "<field> <value>" of the first field whose name ends in "_id" (other than request_id and
// tenant_id) in `m` or the messages it holds (two levels deep); "" if none.
std::string TargetIn(const google::protobuf::Message& m);

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_AUDIT_H_
