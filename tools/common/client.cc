#include "tools/common/client.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <iterator>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/generic/generic_stub.h"
#include "services/common/grpc_status.h"
#include "services/common/personal.h"
#include "services/common/terminal_auth.h"

namespace perks::tools {

namespace {
grpc::ChannelArguments ChannelArgs() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 << 20);
  args.SetMaxSendMessageSize(16 << 20);
  return args;
}
}  // namespace

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& server) {
  return grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), ChannelArgs());
}

std::string StatusCodeName(grpc::StatusCode code) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i]
                                                           : "CODE_" + std::to_string(i);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& server,
                                                           const std::string& tls_ca_file) {
  if (tls_ca_file.empty()) return MakeChannel(server);
  std::ifstream in(tls_ca_file);
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in || pem.find("BEGIN CERTIFICATE") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read a PEM certificate from ", tls_ca_file,
        "; give the CA certificate that signed perkd's (README: TLS with a local CA)"));
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pem;
  return grpc::CreateCustomChannel(server, grpc::SslCredentials(ssl), ChannelArgs());
}

absl::StatusOr<Endpoints> Endpoints::Parse(std::string_view spec) {
  static const std::set<std::string, std::less<>> kServices = {
      "auth", "card", "merchant", "promotion", "checkout", "settlement"};
  Endpoints e;
  e.spec_ = std::string(spec);
  // Debian's Abseil has its own string_view.
  for (absl::string_view entry :
       absl::StrSplit(absl::string_view(spec.data(), spec.size()), ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    auto eq = entry.find('=');
    absl::string_view name =
        absl::StripAsciiWhitespace(eq == absl::string_view::npos ? "" : entry.substr(0, eq));
    absl::string_view address =
        absl::StripAsciiWhitespace(eq == absl::string_view::npos ? entry : entry.substr(eq + 1));
    if (eq != absl::string_view::npos && name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", entry, "' in --server names no service before '='; write card=HOST:PORT"));
    }
    if (address.find(':') == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", entry, "' in --server is not HOST:PORT or SERVICE=HOST:PORT (e.g. 127.0.0.1:7400, ",
          "or card=127.0.0.1:7401,merchant=127.0.0.1:7402,…)"));
    }
    if (name.empty()) {
      if (!e.fallback_.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--server gives two addresses for every service (", e.fallback_, " and ",
                         address, "); name the services of one of them, as card=HOST:PORT"));
      }
      e.fallback_ = std::string(address);
      continue;
    }
    if (!kServices.contains(std::string(name))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--server names an unknown service '", name,
          "'; the services are auth, card, merchant, promotion, checkout, settlement"));
    }
    if (!e.by_service_.emplace(std::string(name), std::string(address)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--server names the ", name, " service twice"));
    }
  }
  if (e.fallback_.empty() && e.by_service_.empty()) {
    return absl::InvalidArgumentError("--server is empty; give HOST:PORT, e.g. 127.0.0.1:7400");
  }
  return e;
}

absl::StatusOr<std::string> Endpoints::Of(std::string_view service) const {
  if (auto it = by_service_.find(service); it != by_service_.end()) return it->second;
  if (!fallback_.empty()) return fallback_;
  return absl::NotFoundError(absl::StrCat("--server does not say where the ", std::string(service),
                                          " service answers: add ", std::string(service),
                                          "=HOST:PORT"));
}

std::vector<std::string> Endpoints::Addresses() const {
  std::vector<std::string> out;
  auto add = [&out](const std::string& a) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  };
  if (!fallback_.empty()) add(fallback_);
  for (const auto& [name, address] : by_service_) add(address);
  return out;
}

std::vector<std::string> Endpoints::AddressesCallersFirst() const {
  std::vector<std::string> out;
  for (const char* service : {"checkout", "card", "promotion", "settlement", "merchant", "auth"}) {
    auto address = Of(service);
    if (address.ok() && std::find(out.begin(), out.end(), *address) == out.end()) {
      out.push_back(*address);
    }
  }
  for (const auto& a : Addresses()) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  return out;
}

std::string HealthServiceName(const std::string& service) {
  std::string name = service;
  if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return absl::StrCat("perks.v1.", name, "Service");
}

std::unique_ptr<grpc::ClientContext> MakeContext(absl::Duration timeout, const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

absl::Status SaveTerminalCredentials(const std::string& path, const TerminalCredentials& t) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  std::string text = absl::StrCat("terminal_id=", t.terminal_id, "\nsecret=", t.secret, "\n");
  bool ok = fchmod(fd, 0600) == 0 &&
            write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = (close(fd) == 0) && ok;
  if (!ok) return absl::DataLossError(absl::StrCat("writing ", path, " failed (disk full?)"));
  return absl::OkStatus();
}

absl::StatusOr<TerminalCredentials> LoadTerminalCredentials(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the terminal file ", path));
  TerminalCredentials t;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("terminal_id=", 0) == 0) t.terminal_id = line.substr(12);
    if (line.rfind("secret=", 0) == 0) t.secret = line.substr(7);
  }
  if (t.terminal_id.empty() || t.secret.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     " is not a terminal file: it needs the lines terminal_id=… and secret=… "
                     "(perkctl terminals register --save writes one)"));
  }
  return t;
}

void SignAsTerminal(grpc::ClientContext& ctx, const TerminalCredentials& terminal,
                    const std::string& full_method, const google::protobuf::Message& request,
                    absl::Time now) {
  unsigned char raw[16];
  RAND_bytes(raw, sizeof(raw));
  std::string nonce = HexEncode(std::string(reinterpret_cast<char*>(raw), sizeof(raw)));
  int64_t ts = absl::ToUnixMillis(now);
  ctx.AddMetadata(kTerminalHeader, terminal.terminal_id);
  ctx.AddMetadata(kTimestampHeader, std::to_string(ts));
  ctx.AddMetadata(kNonceHeader, nonce);
  ctx.AddMetadata(kSignatureHeader, SignTerminalCall(terminal.secret, full_method, ts, nonce,
                                                     DeterministicBytes(request)));
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
  auto ctx = MakeContext(timeout);
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
