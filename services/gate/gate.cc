#include "services/gate/gate.h"

#include <openssl/crypto.h>

#include <cstdint>
#include <cstdlib>
#include <future>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/auth/domain/auth_rules.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"

namespace perks {
namespace {

using perks::v1::Caller;

constexpr absl::Duration kInternalCallTimeout = absl::Seconds(5);
// A signature that fails against cached keys is checked once against fresh ones (the terminal may
// have rotated its secret), but not more often than this, so forged calls cannot hammer the
// merchant service.
constexpr absl::Duration kRefetchAfter = absl::Seconds(1);

std::optional<std::string> Header(const grpc::ServerContextBase& ctx, const char* name) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(name);
  if (it == md.end()) return std::nullopt;
  return std::string(it->second.data(), it->second.size());
}

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Who another Perks service is, once its internal key is checked (or its call is direct).
const Caller& ServiceCaller() {
  static const Caller* service = [] {
    auto* c = new Caller();
    c->set_role(perks::v1::ROLE_SERVICE);
    c->set_name("service");
    return c;
  }();
  return *service;
}

std::unique_ptr<grpc::ClientContext> InternalContext(const std::string& key) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(kInternalCallTimeout));
  AddInternalKey(*ctx, key);
  return ctx;
}

}  // namespace

std::string ActorName(const Caller& caller) {
  switch (caller.role()) {
    case perks::v1::ROLE_TERMINAL:
      return absl::StrCat("terminal ", caller.name());
    case perks::v1::ROLE_SERVICE:
      return "service";
    case perks::v1::ROLE_UNSPECIFIED:
      return "anonymous";
    default:
      return absl::StrCat(caller.name(), " (", caller.token_id(), ")");
  }
}

void AddInternalKey(grpc::ClientContext& ctx, const std::string& internal_key) {
  ctx.AddMetadata(kInternalKeyHeader, internal_key);
}

Gate::Gate(std::string service, GateOptions options)
    : service_(std::move(service)),
      options_(std::move(options)),
      policy_(ThePolicy()),
      nonces_(options_.skew_max * 2),
      tokens_(options_.cache_ttl, options_.cache_entries_max),
      terminals_(options_.cache_ttl, options_.cache_entries_max) {}

void Gate::Connect(std::shared_ptr<grpc::Channel> auth, std::shared_ptr<grpc::Channel> merchant) {
  std::lock_guard<std::mutex> lock(mu_);
  auth_ = perks::v1::AuthService::NewStub(auth);
  merchant_ = perks::v1::MerchantService::NewStub(merchant);
}

std::unique_ptr<grpc::ClientContext> Gate::InternalCall() const {
  return InternalContext(options_.internal_key);
}

void Gate::CheckMerchantsExist(std::vector<std::string> merchant_ids, std::string tenant_id,
                               std::string field, Done done) {
  if (merchant_ids.empty()) return done(absl::OkStatus());
  perks::v1::MerchantService::Stub* stub;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stub = merchant_.get();
  }
  if (!stub) return done(absl::UnavailableError("the server is starting; try again shortly"));
  // What all the calls share: the first problem (ids in order, so the answer names the first
  // unknown id whichever call finishes first), and the caller's Done for the last call to run.
  struct Check {
    std::mutex mu;
    size_t left;
    size_t first_bad = SIZE_MAX;
    absl::Status status;
    Done done;
  };
  auto check = std::make_shared<Check>();
  check->left = merchant_ids.size();
  check->done = std::move(done);
  for (size_t i = 0; i < merchant_ids.size(); ++i) {
    struct Call {
      std::unique_ptr<grpc::ClientContext> ctx;
      perks::v1::GetMerchantRequest req;
      perks::v1::Merchant resp;
    };
    auto call = std::make_shared<Call>();
    call->ctx = InternalContext(options_.internal_key);
    call->req.set_merchant_id(merchant_ids[i]);
    stub->async()->GetMerchant(
        call->ctx.get(), &call->req, &call->resp,
        [call, check, i, tenant_id, field](grpc::Status s) {
          absl::Status problem = absl::OkStatus();
          const std::string& id = call->req.merchant_id();
          if (s.error_code() == grpc::StatusCode::NOT_FOUND ||
              (s.ok() && call->resp.profile().tenant_id() != tenant_id)) {
            problem = absl::InvalidArgumentError(
                absl::StrCat(field, ": no merchant ", id, " in ", tenant_id,
                             "; perkctl merchants list --city ", tenant_id, " shows them"));
          } else if (!s.ok()) {
            problem = absl::UnavailableError(absl::StrCat(
                "cannot check merchant ", id, " now (", s.error_message(), "); try again shortly"));
          }
          Done finish;
          absl::Status answer;
          {
            std::lock_guard<std::mutex> lock(check->mu);
            if (!problem.ok() && i < check->first_bad) {
              check->first_bad = i;
              check->status = problem;
            }
            if (--check->left > 0) return;
            finish = std::move(check->done);
            answer = check->status;
          }
          finish(answer);
        });
  }
}

absl::Status Gate::Permit(const Caller& caller, std::string_view method) const {
  RoleSet roles = policy_.RolesFor(absl::StrCat("/", service_, "/", std::string(method)));
  if (roles & kNoCredentials) return absl::OkStatus();
  if (roles & RoleBit(caller.role())) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("a ", std::string(auth::RoleName(caller.role())),
                                                  " may not call ", std::string(method)));
}

void Gate::Identify(grpc::ServerContextBase& ctx, const std::string& full_method,
                    const google::protobuf::Message& request, Identified done) {
  if (auto key = Header(ctx, kInternalKeyHeader)) {
    if (options_.internal_key.empty() || !SameSecret(*key, options_.internal_key)) {
      return done(absl::UnauthenticatedError("the internal key is wrong"));
    }
    return done(ServiceCaller());
  }
  if (Header(ctx, kTerminalHeader)) {
    auto claim = ReadTerminalClaim([&ctx](const char* name) { return Header(ctx, name); });
    if (!claim.ok()) return done(claim.status());
    return IdentifyTerminal(*claim, full_method, DeterministicBytes(request), std::move(done));
  }
  if (auto authorization = Header(ctx, "authorization")) {
    constexpr std::string_view kPrefix = "Bearer ";
    if (authorization->rfind(kPrefix, 0) != 0) {
      return done(absl::UnauthenticatedError(
          "the authorization header must be \"Bearer pk.…\" (an API token)"));
    }
    return IdentifyBearer(authorization->substr(kPrefix.size()), std::move(done));
  }
  if (policy_.RolesFor(full_method) & kNoCredentials) return done(Caller());
  done(absl::UnauthenticatedError(
      "this call needs an API token (perkctl: --token-file FILE or PERKS_TOKEN) or, from a till, "
      "a terminal signature"));
}

void Gate::IdentifyBearer(const std::string& bearer, Identified done) {
  if (auto parsed = auth::ParseBearer(bearer); !parsed.ok()) return done(parsed.status());
  absl::Time now = options_.clock->Now();
  if (auto cached = tokens_.Get(bearer, now)) return done(std::move(cached->value));
  perks::v1::AuthService::Stub* stub;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stub = auth_.get();
  }
  if (!stub) return done(absl::UnavailableError("the server is starting; try again shortly"));
  struct Call {
    std::unique_ptr<grpc::ClientContext> ctx;
    perks::v1::AuthenticateRequest req;
    Caller resp;
  };
  auto call = std::make_shared<Call>();
  call->ctx = InternalContext(options_.internal_key);
  call->req.set_bearer_token(bearer);
  stub->async()->Authenticate(
      call->ctx.get(), &call->req, &call->resp,
      [this, call, bearer, now,
       done = std::make_shared<Identified>(std::move(done))](grpc::Status s) {
        if (!s.ok()) {
          absl::Status status = FromGrpcStatus(s);
          if (status.code() != absl::StatusCode::kUnauthenticated) {
            status = absl::UnavailableError(absl::StrCat(
                "cannot check the API token now (", s.error_message(), "); try again shortly"));
          }
          return (*done)(status);
        }
        tokens_.Put(bearer, call->resp, now);
        (*done)(call->resp);
      });
}

void Gate::FetchTerminalKeys(const std::string& terminal_id, KeysDone done) {
  perks::v1::MerchantService::Stub* stub;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stub = merchant_.get();
  }
  if (!stub) return done(absl::UnavailableError("the server is starting; try again shortly"));
  struct Call {
    std::unique_ptr<grpc::ClientContext> ctx;
    perks::v1::GetTerminalKeysRequest req;
    perks::v1::TerminalKeys resp;
  };
  auto call = std::make_shared<Call>();
  call->ctx = InternalContext(options_.internal_key);
  call->req.set_terminal_id(terminal_id);
  absl::Time now = options_.clock->Now();
  stub->async()->GetTerminalKeys(
      call->ctx.get(), &call->req, &call->resp,
      [this, call, terminal_id, now,
       done = std::make_shared<KeysDone>(std::move(done))](grpc::Status s) {
        if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
          return (*done)(absl::UnauthenticatedError(
              absl::StrCat("unknown terminal ", terminal_id, "; register it first")));
        }
        if (!s.ok()) {
          return (*done)(absl::UnavailableError(absl::StrCat(
              "cannot check the terminal now (", s.error_message(), "); try again shortly")));
        }
        auto terminal = std::make_shared<Terminal>();
        const perks::v1::Terminal& t = call->resp.terminal();
        terminal->keys.revoked = t.state() == perks::v1::TERMINAL_STATE_REVOKED;
        terminal->keys.secret = call->resp.secret();
        terminal->keys.previous_secret = call->resp.previous_secret();
        terminal->keys.previous_valid_until_unix_ms = t.previous_secret_valid_until_unix_ms();
        terminal->caller.set_role(perks::v1::ROLE_TERMINAL);
        terminal->caller.set_tenant_id(t.tenant_id());
        terminal->caller.set_merchant_id(t.merchant_id());
        terminal->caller.set_store_id(t.store_id());
        terminal->caller.set_name(t.terminal_id());
        TerminalPtr shared = std::move(terminal);
        terminals_.Put(terminal_id, shared, now);
        (*done)(std::move(shared));
      });
}

absl::StatusOr<Caller> Gate::VerifyWith(const TerminalClaim& claim, const std::string& full_method,
                                        const std::string& body, const Terminal& terminal) {
  absl::Status s = VerifyTerminalClaim(claim, full_method, body, terminal.keys,
                                       options_.clock->Now(), options_.skew_max, nonces_);
  if (!s.ok()) return s;
  return terminal.caller;
}

void Gate::IdentifyTerminal(const TerminalClaim& claim, const std::string& full_method,
                            std::string body, Identified done) {
  absl::Time now = options_.clock->Now();
  if (auto cached = terminals_.Get(claim.terminal_id, now)) {
    auto caller = VerifyWith(claim, full_method, body, *cached->value);
    // A mismatch against keys fetched a while ago is checked once more against fresh ones.
    if (caller.ok() || now - cached->fetched < kRefetchAfter ||
        caller.status().code() != absl::StatusCode::kUnauthenticated) {
      return done(std::move(caller));
    }
  }
  FetchTerminalKeys(claim.terminal_id,
                    [this, claim, full_method, body = std::move(body),
                     done = std::move(done)](absl::StatusOr<TerminalPtr> terminal) mutable {
                      if (!terminal.ok()) return done(terminal.status());
                      done(VerifyWith(claim, full_method, body, **terminal));
                    });
}

Gate::Load Gate::load() const {
  return {in_flight_.load(std::memory_order_relaxed),
          in_flight_peak_.load(std::memory_order_relaxed), shed_.load(std::memory_order_relaxed)};
}

grpc::ServerUnaryReactor* Gate::Run(grpc::CallbackServerContext* ctx, std::string_view method,
                                    const google::protobuf::Message& request, Handler handler) {
  auto* reactor = ctx->DefaultReactor();
  // Admission: a call from outside beyond the bound is refused before any work (a forged
  // internal header skips only this count; Identify refuses it).
  const bool counted =
      options_.in_flight_max > 0 &&
      ctx->client_metadata().find(kInternalKeyHeader) == ctx->client_metadata().end();
  if (counted) {
    const int64_t now = in_flight_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (now > options_.in_flight_max) {
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      shed_.fetch_add(1, std::memory_order_relaxed);
      reactor->Finish(grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("the ", ShortName(), " service is at its limit of ", options_.in_flight_max,
                       " calls at once; send again in a moment")));
      return reactor;
    }
    int64_t peak = in_flight_peak_.load(std::memory_order_relaxed);
    while (now > peak && !in_flight_peak_.compare_exchange_weak(peak, now)) {
    }
  }
  std::string full_method = absl::StrCat("/", service_, "/", std::string(method));
  auto finish = [this, reactor, counted, method = std::string(method)](const Caller& caller,
                                                                       absl::Status s) {
    if (counted) in_flight_.fetch_sub(1, std::memory_order_relaxed);
    if (!s.ok()) LogRefused(method, caller, s);
    reactor->Finish(ToGrpcStatus(s));
  };
  Identify(*ctx, full_method, request,
           [this, method = std::string(method), finish,
            handler = std::move(handler)](absl::StatusOr<Caller> caller) mutable {
             if (!caller.ok()) return finish(Caller(), caller.status());
             if (absl::Status s = Permit(*caller, method); !s.ok()) return finish(*caller, s);
             Caller who = *caller;
             handler(who, [finish, who](absl::Status s) { finish(who, std::move(s)); });
           });
  return reactor;
}

void Gate::LogRefused(std::string_view method, const Caller& caller, const absl::Status& s) const {
  Log(LogLevel::kInfo, absl::StrCat(ShortName(), ".refused"),
      {{"method", std::string(method)},
       {"actor", ActorName(caller)},
       {"code", absl::StatusCodeToString(s.code())},
       {"reason", std::string(s.message())}});
}

void Gate::AddLocal(std::string_view method, const google::protobuf::Descriptor* request,
                    const google::protobuf::Descriptor* response, MakeHandler make) {
  std::string full_method = absl::StrCat("/", service_, "/", std::string(method));
  // A local call is a call from another Perks service: it must be one the policy admits.
  if (!(policy_.RolesFor(full_method) & RoleBit(perks::v1::ROLE_SERVICE))) {
    Log(LogLevel::kError, "gate.local_refused", {{"method", full_method}});
    std::abort();
  }
  local_[std::string(method)] = Local{std::move(full_method), request, response, std::move(make)};
}

bool Gate::CallLocally(std::string_view method, const google::protobuf::Message& req,
                       google::protobuf::Message* resp, Done& done) const {
  auto it = local_.find(absl::string_view(method.data(), method.size()));
  if (it == local_.end()) return false;
  const Local& local = it->second;
  // The handler casts to the method's own types: a caller that names another method's is a bug.
  if (req.GetDescriptor() != local.request || resp->GetDescriptor() != local.response) {
    Log(LogLevel::kError, "gate.local_mismatch",
        {{"method", local.full_method}, {"request", req.GetDescriptor()->full_name()}});
    std::abort();
  }
  if (local_stopped_.load(std::memory_order_acquire)) {
    done(absl::UnavailableError(
        absl::StrCat("the ", ShortName(), " service is stopping; send again once it is back")));
    return true;
  }
  const std::string& name = it->first;  // local_ is not changed while serving
  Handler handler = local.make(req, resp);
  const auto started = std::chrono::steady_clock::now();
  handler(ServiceCaller(),
          [this, &local, &name, started, done = std::move(done)](absl::Status s) mutable {
            if (!s.ok()) LogRefused(name, ServiceCaller(), s);
            if (answered_) {
              answered_(local.full_method, static_cast<int>(s.code()),
                        std::chrono::steady_clock::now() - started);
            }
            done(std::move(s));
          });
  return true;
}

absl::StatusOr<Caller> Gate::Admit(grpc::ServerContextBase& ctx, std::string_view method,
                                   const google::protobuf::Message& request) {
  std::promise<absl::StatusOr<Caller>> answer;
  std::string full_method = absl::StrCat("/", service_, "/", std::string(method));
  Identify(ctx, full_method, request,
           [&answer](absl::StatusOr<Caller> c) { answer.set_value(std::move(c)); });
  absl::StatusOr<Caller> caller = answer.get_future().get();
  if (!caller.ok()) return caller;
  if (absl::Status s = Permit(*caller, method); !s.ok()) return s;
  return caller;
}

grpc::ServerUnaryReactor* Gate::ServeAudit(grpc::CallbackServerContext* ctx, const AuditLog& audit,
                                           const perks::v1::ListAuditRequest* req,
                                           perks::v1::ListAuditResponse* resp) {
  return Run(ctx, "ListAudit", *req, [&audit, req, resp](const Caller& caller, Done done) {
    auto tenant = TenantFor(caller, req->tenant_id());
    if (!tenant.ok()) return done(tenant.status());
    done(audit.List(*tenant, *req, resp));
  });
}

std::string Gate::ShortName() const {
  // "perks.v1.CardService" -> "card"
  std::string name = service_.substr(service_.rfind('.') + 1);
  if (name.size() > 7 && name.compare(name.size() - 7, 7, "Service") == 0)
    name.resize(name.size() - 7);
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace perks
