// The one place an absl::Status becomes a grpc::Status (the codes are the same numbers).
#ifndef PERKS_SERVICES_COMMON_GRPC_STATUS_H_
#define PERKS_SERVICES_COMMON_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"

namespace perks {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// Who is making the call, for the records of who did what. Until per-caller credentials exist it
// is the `perks-actor` metadata a client sends (perkctl sends the operator's login name).
std::string ActorOf(const grpc::ServerContextBase& context);

// Finishes a callback-API call at once with `status`.
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const absl::Status& status);

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_GRPC_STATUS_H_
