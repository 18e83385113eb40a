#include "tools/common/client.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/generic/generic_stub.h"
#include "services/common/grpc_status.h"
#include "services/common/personal.h"

namespace perks::tools {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& server) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 << 20);
  args.SetMaxSendMessageSize(16 << 20);
  return grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<grpc::ClientContext> MakeContext(const std::string& actor, absl::Duration timeout,
                                                 const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  if (!actor.empty()) ctx->AddMetadata("perks-actor", actor);
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

absl::StatusOr<std::string> LoadToken(const std::string& token_file) {
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read the token file ", token_file));
    std::string token;
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) return absl::InvalidArgumentError(absl::StrCat(token_file, " is empty"));
    return token;
  }
  const char* env = std::getenv("PERKS_TOKEN");
  return std::string(env ? env : "");
}

std::string NewRequestId(const std::string& prefix) {
  unsigned char raw[8];
  RAND_bytes(raw, sizeof(raw));
  return absl::StrCat(prefix, "-", HexEncode(std::string(reinterpret_cast<char*>(raw), 8)));
}

bool Retryable(const grpc::Status& status) {
  // A server shutting down answers CANCELLED for calls it received but never handed to a handler
  // (grpc/grpc#41785). Every change carries a request id, so sending it again is safe.
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::CANCELLED ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
         status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

absl::StatusOr<std::string> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service, absl::Duration timeout) {
  // HealthCheckRequest { string service = 1; } written by hand: the health protos are not
  // installed with Debian's gRPC, and the message is one field.
  std::string request_bytes;
  if (!service.empty()) {
    request_bytes.push_back(0x0a);
    request_bytes.push_back(static_cast<char>(service.size()));  // names are < 128 bytes
    request_bytes += service;
  }
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::GenericStub stub(channel);
  auto ctx = MakeContext("", timeout);
  std::promise<grpc::Status> done;
  stub.UnaryCall(ctx.get(), "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return FromGrpcStatus(status);
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return absl::DataLossError("unreadable health answer");
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  // HealthCheckResponse { ServingStatus status = 1; }
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  uint32_t value = 0;
  while (uint32_t tag = in.ReadTag()) {
    if (tag == 0x08) {
      if (!in.ReadVarint32(&value)) break;
    } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      break;
    }
  }
  static constexpr const char* kNames[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
  return std::string(value < 4 ? kNames[value] : "UNKNOWN");
}

}  // namespace perks::tools
