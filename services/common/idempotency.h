// Exactly-once mutations keyed by the caller's request id.
//
// MutateOnce runs `apply` on the group-commit writer and, in the same atomic write, records the
// request's fingerprint and its answer under (method, request_id). The same id again gets the
// recorded answer without running `apply`; the same id with a different request is refused with
// ALREADY_EXISTS. Only successful answers are recorded: a refused request changes nothing, so the
// caller may fix it and retry with the same id.
#ifndef PERKS_SERVICES_COMMON_IDEMPOTENCY_H_
#define PERKS_SERVICES_COMMON_IDEMPOTENCY_H_

#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "services/common/clock.h"
#include "storage/db.h"
#include "storage/writer.h"

namespace perks {

inline constexpr size_t kRequestIdBytesMax = 128;
// The card service asks the promotion service for what activating a card earns under the id
// "activate/<card id>"; the promotion service refuses these ids from anyone else.
inline constexpr char kActivationRequestPrefix[] = "activate/";

struct IdempotencyStore {
  storage::Db* db;
  storage::GroupCommitWriter* writer;
  storage::Cf cf;  // the service's idempotency family
  const Clock* clock;
};

absl::Status ValidateRequestId(std::string_view request_id);

// The request's request_id field; empty when it has none.
std::string RequestIdOf(const google::protobuf::Message& request);

// SHA-256 of `scope` and of the deterministic serialization of `request` with its `request_id`
// field cleared.
std::string RequestFingerprint(const google::protobuf::Message& request,
                               std::string_view scope = "");

// REQUIRES: `request` has a string field named request_id; `request` and `response` outlive `done`.
// `apply` fills `response` and writes through the Txn; `done` gets the final status after the
// write is durable. Runs `done` on the calling thread when the answer is known without the writer.
// `scope` names whose answer it is (a city, a merchant): the same request from another scope is
// refused like a different request, so a recorded answer is never shown outside its scope.
void MutateOnce(const IdempotencyStore& store, std::string_view method, std::string_view scope,
                const google::protobuf::Message& request, google::protobuf::Message* response,
                absl::AnyInvocable<absl::Status(storage::Txn&)> apply,
                absl::AnyInvocable<void(absl::Status)> done);

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_IDEMPOTENCY_H_
