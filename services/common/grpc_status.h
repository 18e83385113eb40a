// The one place an absl::Status becomes a grpc::Status (the codes are the same numbers).
#ifndef PERKS_SERVICES_COMMON_GRPC_STATUS_H_
#define PERKS_SERVICES_COMMON_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"

namespace perks {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// A message's deterministic serialization (map entries in key order): the bytes that request
// fingerprints and terminal signatures are computed over.
std::string DeterministicBytes(const google::protobuf::Message& message);

// Finishes a callback-API call at once with `status`.
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const absl::Status& status);

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_GRPC_STATUS_H_
