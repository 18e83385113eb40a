#include "services/common/grpc_status.h"

#include "absl/strings/ascii.h"

namespace perks {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

std::string ActorOf(const grpc::ServerContextBase& context) {
  constexpr size_t kActorBytesMax = 64;
  const auto& md = context.client_metadata();
  auto it = md.find("perks-actor");
  if (it == md.end() || it->second.empty()) return "anonymous";
  std::string actor;
  for (char c : it->second) {
    if (actor.size() >= kActorBytesMax) break;
    actor.push_back(absl::ascii_isprint(static_cast<unsigned char>(c)) ? c : '?');
  }
  return actor;
}

}  // namespace perks
