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
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "perks/v1/auth.grpc.pb.h"
#include "perks/v1/merchant.grpc.pb.h"
#include "services/common/audit.h"
#include "services/common/clock.h"
#include "services/common/grpc_status.h"
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

  // What a call to another Perks service keeps alive until it is answered: its request and
  // response, and its context when it goes over gRPC (Peer::Call makes that).
  template <typename Req, typename Resp>
  struct Outgoing {
    std::unique_ptr<grpc::ClientContext> ctx;
    Req req;
    Resp resp;
  };
  template <typename Req, typename Resp>
  static std::shared_ptr<Outgoing<Req, Resp>> NewCall() {
    return std::make_shared<Outgoing<Req, Resp>>();
  }

  // Methods another Perks service in the same process calls directly (Peer::Call), with no gRPC
  // call in between: `make` builds the handler the gRPC method runs, for a request and its
  // answer. Only before serving; only methods the policy lets a service call.
  template <typename Req, typename Resp>
  void ServeLocally(std::string_view method, std::function<Handler(const Req*, Resp*)> make) {
    AddLocal(method, Req::descriptor(), Resp::descriptor(),
             [make = std::move(make)](const google::protobuf::Message& req,
                                      google::protobuf::Message* resp) {
               return make(static_cast<const Req*>(&req), static_cast<Resp*>(resp));
             });
  }
  // Runs `method` for another Perks service in this process, as a gRPC call from it would run:
  // `req` and `resp` must stay alive until `done`, which may run before this returns, on the
  // caller's thread or on the callee's writer thread. Unlike a gRPC call it has no deadline of its
  // own: it is answered when the callee's writer is done with it. Once StopServingLocally has
  // run, it is answered UNAVAILABLE at once. False, with `done` left untouched, when `method` is
  // not served locally.
  bool CallLocally(std::string_view method, const google::protobuf::Message& req,
                   google::protobuf::Message* resp, Done& done) const;
  // After the gRPC server has stopped: the services close one after another, and no call may
  // reach one that is closing.
  void StopServingLocally() { local_stopped_.store(true, std::memory_order_release); }
  // Told of every local call once answered, as the metrics are told of gRPC calls: its full
  // method ("/perks.v1.CardService/LookupCard"), its code and how long it took. Before serving.
  using Answered =
      std::function<void(const std::string& full_method, int code, std::chrono::nanoseconds)>;
  void OnLocalAnswer(Answered answered) { answered_ = std::move(answered); }

  // Checks, as this service, that every merchant in `merchant_ids` exists in `tenant_id`:
  // INVALID_ARGUMENT naming `field` and the first that does not. Asks the merchant service (one
  // call per id, at once); `done` runs once, on a gRPC thread.
  void CheckMerchantsExist(std::vector<std::string> merchant_ids, std::string tenant_id,
                           std::string field, Done done);

 private:
  using MakeHandler =
      std::function<Handler(const google::protobuf::Message&, google::protobuf::Message*)>;
  void AddLocal(std::string_view method, const google::protobuf::Descriptor* request,
                const google::protobuf::Descriptor* response, MakeHandler make);
  // Logs a refusal of `method` to `caller` as "<service>.refused".
  void LogRefused(std::string_view method, const perks::v1::Caller& caller,
                  const absl::Status& s) const;
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

  struct Local {
    std::string full_method;
    const google::protobuf::Descriptor* request;  // the types `make` casts to
    const google::protobuf::Descriptor* response;
    MakeHandler make;
  };
  absl::flat_hash_map<std::string, Local> local_;  // filled before serving, then only read
  Answered answered_;
  std::atomic<bool> local_stopped_{false};
};

// Where another Perks service answers: its gRPC channel and, when it runs in this process, its
// gate, whose locally served methods are then called directly.
struct PeerLink {
  PeerLink() = default;
  PeerLink(std::shared_ptr<grpc::Channel> channel, Gate* local = nullptr)  // NOLINT: implicit
      : channel(std::move(channel)), local(local) {}
  std::shared_ptr<grpc::Channel> channel;
  Gate* local = nullptr;
};

// Another Perks service this one calls, once connected. Safe to connect while calls are served.
template <typename Service>
class Peer {
 public:
  // `self` is the calling service's gate (it makes the internal calls' contexts).
  explicit Peer(const Gate* self) : self_(self) {}

  void Connect(PeerLink link) {
    auto stub =
        link.channel
            ? std::shared_ptr<typename Service::Stub>(Service::NewStub(std::move(link.channel)))
            : nullptr;
    std::lock_guard<std::mutex> lock(mu_);
    stub_ = std::move(stub);
    local_ = link.local;
  }
  bool connected() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stub_ != nullptr || local_ != nullptr;
  }
  template <typename Req, typename Resp>
  using Method = void (Service::Stub::async::*)(grpc::ClientContext*, const Req*, Resp*,
                                                std::function<void(grpc::Status)>);
  // Calls `method` (`name`: "LookupCard") with `call`'s request into its response, directly when
  // the service runs in this process and serves it locally, else over gRPC as this service (the
  // internal key, the internal calls' deadline). `done` gets the answer; it may run before Call
  // returns. UNAVAILABLE until connected.
  template <typename Req, typename Resp>
  void Call(std::string_view name, std::type_identity_t<Method<Req, Resp>> method,
            std::shared_ptr<Gate::Outgoing<Req, Resp>> call, Gate::Done done) const {
    std::shared_ptr<typename Service::Stub> stub;
    const Gate* local;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stub = stub_;
      local = local_;
    }
    if (local != nullptr) {
      Gate::Done answered = [call, done = std::move(done)](absl::Status s) mutable {
        done(std::move(s));
      };
      if (local->CallLocally(name, call->req, &call->resp, answered)) return;
      done = std::move(answered);  // not served locally: it goes over gRPC
    }
    if (!stub) {
      return done(absl::UnavailableError(
          absl::StrCat("the server is starting (", Service::service_full_name(),
                       " is not connected yet); send again shortly")));
    }
    call->ctx = self_->InternalCall();
    auto* ctx = call->ctx.get();
    const Req* req = &call->req;
    Resp* resp = &call->resp;
    (stub->async()->*method)(
        ctx, req, resp,
        [stub, call = std::move(call), done = std::make_shared<Gate::Done>(std::move(done))](
            grpc::Status s) { (*done)(FromGrpcStatus(s)); });
  }

 private:
  const Gate* self_;
  mutable std::mutex mu_;
  std::shared_ptr<typename Service::Stub> stub_;
  const Gate* local_ = nullptr;
};

// Who did it, for the records: "<name> (<token id>)", "terminal <id>", or "service".
std::string ActorName(const perks::v1::Caller& caller);

// Makes a client call as another Perks service.
void AddInternalKey(grpc::ClientContext& ctx, const std::string& internal_key);

}  // namespace perks

#endif  // PERKS_SERVICES_GATE_GATE_H_
