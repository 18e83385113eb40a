// What every client of the Perks services shares: channels, call contexts, request ids.
#ifndef PERKS_TOOLS_COMMON_CLIENT_H_
#define PERKS_TOOLS_COMMON_CLIENT_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"

namespace perks::tools {

// A channel to `server`: plain, or TLS when `tls_ca_file` names the PEM certificate of the CA that
// signed the server's certificate.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& server,
                                                           const std::string& tls_ca_file);
// A plain channel (tests and benchmarks on 127.0.0.1).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& server);

// The code's name as the gRPC documentation spells it ("NOT_FOUND"), for what a tool prints.
std::string StatusCodeName(grpc::StatusCode code);

// Where a client finds each service. `--server` is one address for all of them (perkd:
// "127.0.0.1:7400"), or one per service as "card=HOST:PORT,merchant=HOST:PORT,…" (the five
// processes; perks-launch prints this form), where a bare HOST:PORT entry answers for any service
// not named. The services are auth, card, merchant, promotion, checkout, settlement.
class Endpoints {
 public:
  static absl::StatusOr<Endpoints> Parse(std::string_view spec);
  // The address of `service`, or NOT_FOUND saying how to name it.
  absl::StatusOr<std::string> Of(std::string_view service) const;
  // Every distinct address (one per process), in order.
  std::vector<std::string> Addresses() const;
  // The same, each service's callers before the services they call: checkout, card, promotion,
  // settlement, merchant and auth. Online backups taken in this order never restore a caller
  // that believes in an effect its callee lacks: whatever a caller had recorded as done when it
  // was copied, the later copy of the service it called holds too, and a step it had only begun
  // is finished once by its request id. (The callee may hold effects of calls made after the
  // caller's copy: deploy/README.md, "Backups".)
  std::vector<std::string> AddressesCallersFirst() const;
  const std::string& spec() const { return spec_; }

 private:
  std::string spec_;
  std::string fallback_;
  std::map<std::string, std::string, std::less<>> by_service_;
};

// A context with a deadline and the caller's API token (if any) as "authorization: Bearer …".
std::unique_ptr<grpc::ClientContext> MakeContext(absl::Duration timeout,
                                                 const std::string& token = "");

// What a POS terminal signs its calls with: the id and secret it got when it was registered.
struct TerminalCredentials {
  std::string terminal_id;
  std::string secret;
};

// A till's credentials in a file only its owner may read (mode 0600), as two lines:
// "terminal_id=…" and "secret=…". Saving replaces the file's content (after a rotation).
absl::Status SaveTerminalCredentials(const std::string& path, const TerminalCredentials& t);
absl::StatusOr<TerminalCredentials> LoadTerminalCredentials(const std::string& path);

// Signs a call of `full_method` ("/perks.v1.CardService/LookupCard") with `request` as the
// terminal, at `now` with a fresh nonce (services/common/terminal_auth.h has the scheme).
void SignAsTerminal(grpc::ClientContext& ctx, const TerminalCredentials& terminal,
                    const std::string& full_method, const google::protobuf::Message& request,
                    absl::Time now);

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
// The name a Perks service answers its health check under: "card" -> "perks.v1.CardService".
std::string HealthServiceName(const std::string& service);

absl::StatusOr<std::string> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service, absl::Duration timeout);

}  // namespace perks::tools

#endif  // PERKS_TOOLS_COMMON_CLIENT_H_
