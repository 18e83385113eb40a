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

struct IdempotencyStore {
  storage::Db* db;
  storage::GroupCommitWriter* writer;
  storage::Cf cf;  // the service's idempotency family
  const Clock* clock;
};

absl::Status ValidateRequestId(std::string_view request_id);

// SHA-256 of the deterministic serialization of `request` with its `request_id` field cleared.
std::string RequestFingerprint(const google::protobuf::Message& request);

// REQUIRES: `request` has a string field named request_id; `request` and `response` outlive `done`.
// `apply` fills `response` and writes through the Txn; `done` gets the final status after the
// write is durable. Runs `done` on the calling thread when the answer is known without the writer.
void MutateOnce(const IdempotencyStore& store, std::string_view method,
                const google::protobuf::Message& request, google::protobuf::Message* response,
                absl::AnyInvocable<absl::Status(storage::Txn&)> apply,
                absl::AnyInvocable<void(absl::Status)> done);

// MutateOnce for a gRPC callback-API call: finishes the call with the outcome, and logs refusals
// as "<service>.refused" with the method, the caller and the reason.
grpc::ServerUnaryReactor* MutateAndFinish(grpc::CallbackServerContext* ctx,
                                          const IdempotencyStore& store, std::string_view service,
                                          std::string_view method,
                                          const google::protobuf::Message& request,
                                          google::protobuf::Message* response,
                                          absl::AnyInvocable<absl::Status(storage::Txn&)> apply);

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_IDEMPOTENCY_H_
