// Who may call what, enforced in one place for every service.
//
// Every handler of every service runs behind Gate::Run. The gate finds out who is calling:
//   - another Perks service: the installation's internal key in "perks-internal";
//   - a POS terminal: a signed call (services/common/terminal_auth.h), checked against the
//     terminal's keys, which the gate asks the merchant service for
//     (MerchantService.GetTerminalKeys);
//   - a person or back office: "authorization: Bearer pk.…", which the gate asks the auth service
//     about (AuthService.Authenticate);
// then looks the method up in the policy (policy.h) and runs the handler only for a caller whose
// role the method admits. The handler gets the caller and applies its scope (a city, a merchant, a
// store) to what it reads and writes. Nothing is written before the gate has said yes.
//
// Answers about tokens and terminals are reused for `cache_ttl`: a revoked token or terminal is
// refused by every service within that time (by the service that revoked it at once).
#ifndef PERKS_SERVICES_GATE_GATE_H_
#define PERKS_SERVICES_GATE_GATE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "perks/v1/auth.grpc.pb.h"
#include "perks/v1/merchant.grpc.pb.h"
#include "services/common/audit.h"
#include "services/common/clock.h"
#include "services/common/terminal_auth.h"
#include "services/common/ttl_cache.h"
#include "services/gate/policy.h"

namespace perks {

inline constexpr char kInternalKeyHeader[] = "perks-internal";

struct GateOptions {
  const Clock* clock = nullptr;
  std::string internal_key;  // what other Perks services present; at least 32 bytes
  absl::Duration skew_max = absl::Minutes(5);  // a terminal's clock may be this far off
  absl::Duration cache_ttl = absl::Seconds(5);
  size_t cache_entries_max = 200'000;
  // Calls this service works on at once, from outside (calls from other Perks services are part
  // of work already admitted, and are not counted); beyond it a call is refused at once with
  // RESOURCE_EXHAUSTED, so the admitted ones keep their latency. 0: no bound.
  int in_flight_max = 0;
};

// Another Perks service this one calls, once connected (until then, stub() is null). Safe to
// connect while calls are served.
template <typename Service>
class Peer {
 public:
  void Connect(std::shared_ptr<grpc::Channel> channel) {
    std::lock_guard<std::mutex> lock(mu_);
    stub_ = Service::NewStub(std::move(channel));
  }
  std::shared_ptr<typename Service::Stub> stub() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stub_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<typename Service::Stub> stub_;
};

class Gate {
 public:
  // `service` is the full service name, e.g. "perks.v1.CardService".
  Gate(std::string service, GateOptions options);

  // Where the auth and merchant services answer. Until connected, calls that need them are
  // refused with UNAVAILABLE (the server is starting).
  void Connect(std::shared_ptr<grpc::Channel> auth, std::shared_ptr<grpc::Channel> merchant);

  // Finishes the call with the handler's answer.
  using Done = absl::AnyInvocable<void(absl::Status)>;
  using Handler = absl::AnyInvocable<void(const perks::v1::Caller&, Done)>;

  // Admits the caller of `method` (e.g. "LookupCard") with `request`, then runs `handler`, which
  // calls its Done exactly once. Refusals are logged as "<service>.refused".
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx, std::string_view method,
                                const google::protobuf::Message& request, Handler handler);

  // The same for the synchronous API: blocks until the caller is known.
  absl::StatusOr<perks::v1::Caller> Admit(grpc::ServerContextBase& ctx, std::string_view method,
                                          const google::protobuf::Message& request);

  // Answers ListAudit from `audit`: the city the caller names (or its own), if it may read it.
  grpc::ServerUnaryReactor* ServeAudit(grpc::CallbackServerContext* ctx, const AuditLog& audit,
                                       const perks::v1::ListAuditRequest* req,
                                       perks::v1::ListAuditResponse* resp);

  const std::string& service() const { return service_; }

  // Calls from outside being worked on now, the most there have been at once, and how many
  // were refused for the in_flight_max bound.
  struct Load {
    int64_t in_flight = 0;
    int64_t in_flight_peak = 0;
    int64_t shed = 0;
  };
  Load load() const;

  // A client context for calling another Perks service as this one (the internal key), with the
  // deadline every internal call has.
  std::unique_ptr<grpc::ClientContext> InternalCall() const;

  // What an asynchronous call to another Perks service keeps alive until it is answered: its
  // context (as InternalCall makes it), request and response.
  template <typename Req, typename Resp>
  struct Outgoing {
    std::unique_ptr<grpc::ClientContext> ctx;
    Req req;
    Resp resp;
  };
  template <typename Req, typename Resp>
  std::shared_ptr<Outgoing<Req, Resp>> NewCall() const {
    auto call = std::make_shared<Outgoing<Req, Resp>>();
    call->ctx = InternalCall();
    return call;
  }

  // Checks, as this service, that every merchant in `merchant_ids` exists in `tenant_id`:
  // INVALID_ARGUMENT naming `field` and the first that does not. Asks the merchant service (one
  // call per id, at once); `done` runs once, on a gRPC thread.
  void CheckMerchantsExist(std::vector<std::string> merchant_ids, std::string tenant_id,
                           std::string field, Done done);

 private:
  using Identified = absl::AnyInvocable<void(absl::StatusOr<perks::v1::Caller>)>;
  void Identify(grpc::ServerContextBase& ctx, const std::string& full_method,
                const google::protobuf::Message& request, Identified done);
  void IdentifyBearer(const std::string& bearer, Identified done);
  void IdentifyTerminal(const TerminalClaim& claim, const std::string& full_method,
                        std::string body, Identified done);
  // A terminal as the gate keeps it: its keys, and the caller it becomes once verified. Built
  // once per fetch and shared, so a verified call copies nothing but the caller.
  struct Terminal {
    TerminalKeys keys;
    perks::v1::Caller caller;
  };
  using TerminalPtr = std::shared_ptr<const Terminal>;
  // Verifies against `terminal`'s keys and, on success, answers the terminal's caller.
  absl::StatusOr<perks::v1::Caller> VerifyWith(const TerminalClaim& claim,
                                               const std::string& full_method,
                                               const std::string& body, const Terminal& terminal);
  using KeysDone = absl::AnyInvocable<void(absl::StatusOr<TerminalPtr>)>;
  void FetchTerminalKeys(const std::string& terminal_id, KeysDone done);
  absl::Status Permit(const perks::v1::Caller& caller, std::string_view method) const;
  std::string ShortName() const;  // "card" for perks.v1.CardService, for log events

  std::string service_;
  GateOptions options_;
  std::atomic<int64_t> in_flight_{0}, in_flight_peak_{0}, shed_{0};
  const Policy& policy_;
  NonceWindow nonces_;

  std::mutex mu_;
  std::unique_ptr<perks::v1::AuthService::Stub> auth_;
  std::unique_ptr<perks::v1::MerchantService::Stub> merchant_;
  TtlCache<perks::v1::Caller> tokens_;
  TtlCache<TerminalPtr> terminals_;
};

// Who did it, for the records: "<name> (<token id>)", "terminal <id>", or "service".
std::string ActorName(const perks::v1::Caller& caller);

// Makes a client call as another Perks service.
void AddInternalKey(grpc::ClientContext& ctx, const std::string& internal_key);

}  // namespace perks

#endif  // PERKS_SERVICES_GATE_GATE_H_
