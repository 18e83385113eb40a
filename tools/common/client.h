// What every client of the Perks services shares: channels, call contexts, request ids.
#ifndef PERKS_TOOLS_COMMON_CLIENT_H_
#define PERKS_TOOLS_COMMON_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace perks::tools {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& server);

// A context with a deadline, the caller's name for the records, and its API token (if any) as
// "authorization: Bearer …".
std::unique_ptr<grpc::ClientContext> MakeContext(const std::string& actor, absl::Duration timeout,
                                                 const std::string& token = "");

// The API token for a command-line tool: the first line of `token_file` if given, else the
// PERKS_TOKEN environment variable, else empty. Never a command-line argument, so it stays out of
// shell history and process lists.
absl::StatusOr<std::string> LoadToken(const std::string& token_file);

// A fresh request id: "<prefix>-<16 random hex>".
std::string NewRequestId(const std::string& prefix);

// Whether a failed call may be sent again unchanged with the same request id (the server may
// not have seen it, or may be restarting).
bool Retryable(const grpc::Status& status);

// Asks the standard gRPC health service (grpc.health.v1.Health/Check) about `service` ("" for
// the whole server). Returns the serving status name: SERVING, NOT_SERVING, SERVICE_UNKNOWN, ...
absl::StatusOr<std::string> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service, absl::Duration timeout);

}  // namespace perks::tools

#endif  // PERKS_TOOLS_COMMON_CLIENT_H_
