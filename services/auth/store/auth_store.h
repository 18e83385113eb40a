// API tokens in the auth service's own RocksDB. Keys:
//   tokens       token/<token_id>                TokenRecord (the secret only as its SHA-256)
//   tokens       bytenant/<tenant>/<token_id>    (empty)
//   idempotency  idem/<method>/<request_id>      IdempotencyRecord
#ifndef PERKS_SERVICES_AUTH_STORE_AUTH_STORE_H_
#define PERKS_SERVICES_AUTH_STORE_AUTH_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "perks/storage/v1/auth_records.pb.h"
#include "perks/v1/auth.pb.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks::auth {

class AuthStore {
 public:
  static constexpr uint32_t kSchemaVersion = 1;
  static std::vector<std::string> ColumnFamilies();
  explicit AuthStore(storage::Db* db);
  storage::Cf idempotency_family() const { return idempotency_; }

  // REQUIRES: ValidateTokenCaller(caller) and CanCreateToken already passed.
  absl::Status Create(storage::Txn& txn, const perks::v1::Caller& caller,
                      const std::string& created_by, int64_t now_unix_ms,
                      perks::v1::CreatedToken* out);
  absl::Status Revoke(storage::Txn& txn, const perks::v1::Caller& by, const std::string& token_id,
                      int64_t now_unix_ms, perks::v1::ApiToken* out);
  // Whether any token was ever made: a new installation has none.
  absl::StatusOr<bool> Empty() const;

  absl::StatusOr<perks::v1::Caller> Authenticate(const std::string& bearer_token) const;
  absl::Status List(const perks::v1::Caller& by, const std::string& tenant_id,
                    perks::v1::ListTokensResponse* out) const;

 private:
  storage::Db* db_;
  storage::Cf tokens_, idempotency_;
};

}  // namespace perks::auth

#endif  // PERKS_SERVICES_AUTH_STORE_AUTH_STORE_H_
