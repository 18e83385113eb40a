#include "services/perkd/server.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "asio.hpp"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "services/auth/rpc/auth_service.h"
#include "services/card/rpc/card_service.h"
#include "services/checkout/rpc/checkout_service.h"
#include "services/common/log.h"
#include "services/common/personal.h"
#include "services/merchant/rpc/merchant_service.h"
#include "services/perkd/admin_service.h"
#include "services/perkd/metrics.h"
#include "services/promotion/rpc/promotion_service.h"
#include "services/settlement/rpc/settlement_service.h"

namespace perks {

struct Server::Parts {
  SystemClock system_clock;
  // Declared first, so destroyed last: the gRPC server's interceptors report to it.
  std::unique_ptr<Metrics> metrics = std::make_unique<Metrics>();
  std::unique_ptr<auth::AuthService> auth;
  std::unique_ptr<card::CardService> card;
  std::unique_ptr<merchant::MerchantService> merchant;
  std::unique_ptr<promotion::PromotionService> promotion;
  std::unique_ptr<checkout::CheckoutService> checkout;
  std::unique_ptr<settlement::SettlementService> settlement;
  std::unique_ptr<AdminService> admin;
  std::unique_ptr<grpc::Server> grpc_server;

  // Each service's gate by its name, null for a service this process does not run.
  std::map<std::string, Gate*> Gates() {
    return {{"auth", auth ? &auth->gate() : nullptr},
            {"card", card ? &card->gate() : nullptr},
            {"merchant", merchant ? &merchant->gate() : nullptr},
            {"promotion", promotion ? &promotion->gate() : nullptr},
            {"checkout", checkout ? &checkout->gate() : nullptr},
            {"settlement", settlement ? &settlement->gate() : nullptr}};
  }
};

absl::StatusOr<std::string> LoadOrCreateSecret(const std::string& secrets_dir,
                                               const std::string& name) {
  std::filesystem::path dir(secrets_dir);
  std::filesystem::path file = dir / (name + ".key");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  }
  auto read = [&]() -> absl::StatusOr<std::string> {
    std::ifstream in(file);
    std::string hex;
    in >> hex;
    // 32 random bytes as hex, as made here or by `openssl rand -hex 32`; a placeholder (the
    // Kubernetes example's) or a damaged file is not a key.
    if (hex.size() < 64 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      return absl::DataLossError(absl::StrCat(
          file.string(),
          " is not a key (64 hex characters): restore it from the latest backup "
          "(backups/*/secrets), or for a new installation make one with openssl rand -hex 32"));
    }
    return hex;
  };
  if (std::filesystem::exists(file)) return read();
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) return absl::InternalError("no randomness for the key");
  std::string hex = HexEncode(std::string(reinterpret_cast<char*>(raw), sizeof(raw)));
  // Written whole under a name of this process's own, then linked into place: link() fails if
  // another process got there first, and then its key is the installation's.
  std::filesystem::path tmp = dir / absl::StrCat(name, ".key.", ::getpid(), ".tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return absl::FailedPreconditionError(absl::StrCat("cannot write ", tmp.string()));
  std::string line = hex + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    std::filesystem::remove(tmp, ec);
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", tmp.string()));
  }
  const bool linked = ::link(tmp.c_str(), file.c_str()) == 0;
  const int link_errno = errno;
  std::filesystem::remove(tmp, ec);
  if (linked) return hex;
  if (link_errno == EEXIST) return read();
  return absl::FailedPreconditionError(absl::StrCat("cannot write ", file.string()));
}

std::string SecretsDir(const ServerOptions& options) {
  return options.secrets_dir.empty()
             ? (std::filesystem::path(options.data_dir) / "secrets").string()
             : options.secrets_dir;
}

std::vector<std::string> PeersNeeded(const std::vector<std::string>& services) {
  std::set<std::string> running(services.begin(), services.end());
  std::set<std::string> needed = {"auth", "merchant"};
  for (const auto& s : services) {
    if (s == "card") needed.insert("promotion");
    if (s == "promotion") needed.insert("card");
    if (s == "checkout") needed.insert({"card", "merchant", "promotion", "settlement"});
  }
  std::vector<std::string> out;
  for (const auto& n : needed) {
    if (!running.contains(n)) out.push_back(n);
  }
  return out;
}

std::string PeerServiceConfig() {
  // Each of these is a read, or is keyed by the caller's request id so that a repeat returns the
  // first answer (the protos say which). A method missing here is simply not retried.
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kIdempotent = {
      {"perks.v1.AuthService", {"Authenticate"}},
      {"perks.v1.MerchantService", {"GetTerminalKeys", "GetMerchant"}},
      {"perks.v1.CardService", {"LookupCard", "CreditBalance", "DebitBalance"}},
      {"perks.v1.PromotionService",
       {"Evaluate", "Reserve", "Commit", "Release", "GetReservation", "Grant"}},
      {"perks.v1.SettlementService", {"Post"}},
  };
  std::vector<std::string> names;
  for (const auto& [service, methods] : kIdempotent) {
    for (const auto& m : methods) {
      names.push_back(absl::StrCat(R"({"service":")", service, R"(","method":")", m, R"("})"));
    }
  }
  return absl::StrCat(R"({"methodConfig":[{"name":[)", absl::StrJoin(names, ","),
                      R"(],"retryPolicy":{"maxAttempts":4,"initialBackoff":"0.05s",)",
                      R"("maxBackoff":"1s","backoffMultiplier":2,)",
                      R"("retryableStatusCodes":["UNAVAILABLE"]}}]})");
}

namespace {

const std::set<std::string> kServiceNames = {"auth",      "card",     "merchant",
                                             "promotion", "checkout", "settlement"};
constexpr char kServiceList[] = "auth, card, merchant, promotion, checkout, settlement";

absl::StatusOr<std::string> ReadPem(const std::string& path, std::string_view what) {
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the TLS ", std::string(what), " file ", path));
  }
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (pem.find("-----BEGIN") == std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a PEM file (the TLS ", std::string(what), ")"));
  }
  return pem;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const ServerOptions& options) {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) {
    return grpc::InsecureServerCredentials();
  }
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate and its key (tls-cert, tls-key)");
  }
  auto cert = ReadPem(options.tls_cert_file, "certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(options.tls_key_file, "key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(ssl);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> PeerCredentials(
    const ServerOptions& options) {
  if (options.peer_tls_ca_file.empty()) return grpc::InsecureChannelCredentials();
  auto ca = ReadPem(options.peer_tls_ca_file, "CA certificate");
  if (!ca.ok()) return ca.status();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = *ca;
  return grpc::SslCredentials(ssl);
}

std::shared_ptr<grpc::Channel> PeerChannel(const std::string& address,
                                           std::shared_ptr<grpc::ChannelCredentials> credentials,
                                           int message_bytes_max) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(PeerServiceConfig());
  args.SetMaxReceiveMessageSize(message_bytes_max);
  args.SetMaxSendMessageSize(message_bytes_max);
  // A peer that restarts is found again quickly, not after the default backoff of up to 2 min.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(address, std::move(credentials), args);
}

// What the promotion service adds to each scrape: reservations pending, each campaign's budgets.
void AddPromotionFigures(promotion::PromotionService& promotion, Metrics& metrics) {
  promotion::PromotionService* p = &promotion;
  metrics.AddSampler([p](std::vector<Sample>& out) {
    out.push_back({"reservations_pending",
                   "reservations held by checkouts now, awaiting their commit, release or expiry",
                   {},
                   static_cast<double>(p->ReservationsPending())});
    const std::string unit = " (fen; a count for the budgets named '... count')";
    for (const auto& c : p->AllBudgets()) {
      for (const auto& b : c.budgets()) {
        const std::map<std::string, std::string> labels = {{"campaign", c.campaign_id()},
                                                           {"budget", b.name()}};
        out.push_back({"budget_used", "committed use of a campaign's budget" + unit, labels,
                       static_cast<double>(b.used())});
        out.push_back({"budget_held", "what open reservations hold of a campaign's budget" + unit,
                       labels, static_cast<double>(b.held())});
        if (b.unlimited()) continue;
        out.push_back({"budget_left", "what is left of a campaign's budget" + unit, labels,
                       static_cast<double>(b.left())});
        out.push_back(
            {"budget_limit", "a campaign's budget" + unit, labels, static_cast<double>(b.limit())});
      }
    }
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  std::unique_ptr<Server> server(new Server());
  server->parts_ = std::make_unique<Parts>();
  Parts& parts = *server->parts_;
  const Clock* clock = options.clock ? options.clock : &parts.system_clock;
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the data directory ", options.data_dir, ": ", ec.message()));
  }

  // Every service this one calls runs here or has an address; checked before anything opens.
  std::set<std::string> running(options.services.begin(), options.services.end());
  for (const auto& [name, address] : options.peers) {
    if (!kServiceNames.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat("--peer names an unknown service '", name,
                                                     "'; the services are: ", kServiceList));
    }
    if (running.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--peer ", name, "=", address, " names a service this process runs itself; drop it"));
    }
  }
  for (const auto& name : PeersNeeded(options.services)) {
    if (!options.peers.contains(name)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the ", absl::StrJoin(options.services, ", "), " service needs the ", name,
          " service, which this process does not run: say where it answers with --peer ", name,
          "=HOST:PORT"));
    }
  }
  auto peer_credentials = PeerCredentials(options);
  if (!peer_credentials.ok()) return peer_credentials.status();

  const std::string secrets = SecretsDir(options);
  auto internal_key = LoadOrCreateSecret(secrets, "internal");
  if (!internal_key.ok()) return internal_key.status();
  GateOptions gate;
  gate.clock = clock;
  gate.internal_key = *internal_key;
  gate.cache_ttl = options.credentials_cache_ttl;
  gate.in_flight_max = options.in_flight_max;
  auto credentials = ServerCredentials(options);
  if (!credentials.ok()) return credentials.status();
  std::function<void(std::string_view)> at_step;
  if (!options.crash_at.empty()) {
    at_step = [step = options.crash_at](std::string_view reached) {
      if (reached != step) return;
      Log(LogLevel::kWarning, "server.crash_at", {{"step", step}});
      std::_Exit(86);  // as a crash: nothing is flushed or synced
    };
  }

  // Each database's writer reports its group commits to the metrics.
  auto writer = [&parts, &options](const std::string& db) {
    storage::WriterOptions w;
    w.sync = options.sync_writes;
    w.on_group = parts.metrics->GroupCommits(db);
    return w;
  };

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, *credentials, &port);
  builder.SetMaxReceiveMessageSize(options.message_bytes_max);
  builder.SetMaxSendMessageSize(options.message_bytes_max);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.concurrent_streams_max);
  {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counted;
    counted.push_back(parts.metrics->InterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(counted));
  }

  for (const auto& name : options.services) {
    if (name == "card") {
      auto key = LoadOrCreateSecret(secrets, "id-hash");
      if (!key.ok()) return key.status();
      card::CardServiceOptions o;
      o.gate = gate;
      o.db_path = (std::filesystem::path(options.data_dir) / "card").string();
      o.id_hash_key = *key;
      o.clock = clock;
      o.writer = writer(name);
      o.cache_bytes = static_cast<size_t>(options.cache_bytes);
      auto svc = card::CardService::Open(o);
      if (!svc.ok()) return svc.status();
      parts.card = std::move(*svc);
      builder.RegisterService(parts.card.get());
    } else if (name == "auth") {
      auth::AuthServiceOptions o;
      o.gate = gate;
      o.db_path = (std::filesystem::path(options.data_dir) / "auth").string();
      o.clock = clock;
      o.writer = writer(name);
      auto svc = auth::AuthService::Open(o);
      if (!svc.ok()) return svc.status();
      auto token = (*svc)->Bootstrap();
      if (!token.ok()) return token.status();
      server->bootstrap_token_ = *token;
      parts.auth = std::move(*svc);
      builder.RegisterService(parts.auth.get());
    } else if (name == "merchant") {
      merchant::MerchantServiceOptions o;
      o.gate = gate;
      o.db_path = (std::filesystem::path(options.data_dir) / "merchant").string();
      o.clock = clock;
      o.writer = writer(name);
      auto svc = merchant::MerchantService::Open(o);
      if (!svc.ok()) return svc.status();
      parts.merchant = std::move(*svc);
      builder.RegisterService(parts.merchant.get());
    } else if (name == "promotion") {
      promotion::PromotionServiceOptions o;
      o.gate = gate;
      o.db_path = (std::filesystem::path(options.data_dir) / "promotion").string();
      o.clock = clock;
      o.writer = writer(name);
      auto svc = promotion::PromotionService::Open(o);
      if (!svc.ok()) return svc.status();
      parts.promotion = std::move(*svc);
      builder.RegisterService(parts.promotion.get());
    } else if (name == "checkout") {
      checkout::CheckoutServiceOptions o;
      o.gate = gate;
      o.db_path = (std::filesystem::path(options.data_dir) / "checkout").string();
      o.clock = clock;
      o.writer = writer(name);
      o.authorization_ttl = options.authorization_ttl;
      o.at_step = at_step;
      auto svc = checkout::CheckoutService::Open(o);
      if (!svc.ok()) return svc.status();
      parts.checkout = std::move(*svc);
      builder.RegisterService(parts.checkout.get());
    } else if (name == "settlement") {
      settlement::SettlementServiceOptions o;
      o.gate = gate;
      o.db_path = (std::filesystem::path(options.data_dir) / "settlement").string();
      o.clock = clock;
      o.writer = writer(name);
      o.day_cutoff = options.day_cutoff;
      o.at_step = at_step;
      auto svc = settlement::SettlementService::Open(o);
      if (!svc.ok()) return svc.status();
      parts.settlement = std::move(*svc);
      builder.RegisterService(parts.settlement.get());
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown service '", name, "'; this build has: ", kServiceList));
    }
  }
  // Each database, by service: backed up by the admin service, its figures in the metrics.
  std::map<std::string, const storage::Db*> databases;
  if (parts.auth) databases["auth"] = &parts.auth->db();
  if (parts.card) databases["card"] = &parts.card->db();
  if (parts.merchant) databases["merchant"] = &parts.merchant->db();
  if (parts.promotion) databases["promotion"] = &parts.promotion->db();
  if (parts.checkout) databases["checkout"] = &parts.checkout->db();
  if (parts.settlement) databases["settlement"] = &parts.settlement->db();
  std::map<std::string, AdminService::CheckpointFn> dbs;
  for (const auto& [name, db] : databases) {
    dbs[name] = [db](const std::string& dir) { return db->Checkpoint(dir); };
    parts.metrics->AddDatabase(name, db);
  }
  if (parts.promotion) AddPromotionFigures(*parts.promotion, *parts.metrics);
  parts.admin =
      std::make_unique<AdminService>(options.data_dir, secrets, clock, std::move(dbs), gate);
  builder.RegisterService(parts.admin.get());
  parts.grpc_server = builder.BuildAndStart();
  if (!parts.grpc_server || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen,
                                               "; is the port in use or the address wrong?"));
  }
  server->port_ = port;
  if (!options.metrics_listen.empty()) {
    auto metrics_port = parts.metrics->Serve(options.metrics_listen);
    if (!metrics_port.ok()) return metrics_port.status();
    server->metrics_port_ = *metrics_port;
  }
  // Services reach each other through gRPC: in this process, or at the peer's address. One in
  // this process is also linked by its gate: the methods it serves locally (the ones every
  // checkout calls) are called directly, without a gRPC call in between.
  const std::map<std::string, Gate*> local_gates = parts.Gates();
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  std::map<std::string, PeerLink> links;
  for (const auto& name : kServiceNames) {
    if (running.contains(name)) {
      channels[name] = server->InProcessChannel();
      links[name] = PeerLink(channels[name], local_gates.at(name));
    } else if (auto peer = options.peers.find(name); peer != options.peers.end()) {
      channels[name] = PeerChannel(peer->second, *peer_credentials, options.message_bytes_max);
      links[name] = PeerLink(channels[name]);
    }
  }
  Metrics* metrics = parts.metrics.get();
  std::vector<Gate*> every_gate = {&parts.admin->gate()};
  for (const auto& [name, g] : local_gates) {
    if (!g) continue;
    every_gate.push_back(g);
    // Direct calls are counted with the gRPC calls, under their method.
    g->OnLocalAnswer([metrics](const std::string& method, int code, auto took) {
      metrics->Answered(method, code, took);
    });
  }
  for (Gate* g : every_gate) {
    g->Connect(channels.at("auth"), channels.at("merchant"));
    parts.metrics->AddSampler([g](std::vector<Sample>& out) {
      const Gate::Load load = g->load();
      const std::map<std::string, std::string> labels = {{"service", g->service()}};
      out.push_back({"calls_in_flight", "calls from outside a service is working on now", labels,
                     static_cast<double>(load.in_flight)});
      out.push_back({"calls_in_flight_peak",
                     "the most calls from outside a service has worked on "
                     "at once since it started",
                     labels, static_cast<double>(load.in_flight_peak)});
      out.push_back({"calls_shed",
                     "calls refused with RESOURCE_EXHAUSTED since the start: the "
                     "service was at its --max-in-flight",
                     labels, static_cast<double>(load.shed)});
    });
  }
  // Grants are credited to cards, and activating a card asks for what activation earns.
  if (parts.promotion) parts.promotion->ConnectCards(links.at("card"));
  if (parts.card) parts.card->ConnectPromotions(links.at("promotion"));
  // A checkout asks for the card, the merchant and the promotions; then finishes the checkouts
  // a stop left in the middle of a step.
  if (parts.checkout) {
    parts.checkout->Connect(links.at("card"), links.at("merchant"), links.at("promotion"),
                            links.at("settlement"));
  }
  // A close of a business day that a stop interrupted is finished.
  if (parts.settlement) parts.settlement->Recover();
  auto* health = parts.grpc_server->GetHealthCheckService();
  health->SetServingStatus(true);
  for (const auto& name : options.services) {
    std::string service = name;
    service[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(service[0])));
    health->SetServingStatus(absl::StrCat("perks.v1.", service, "Service"), true);
  }
  Log(LogLevel::kInfo, "server.started",
      {{"port", std::to_string(port)},
       {"services", absl::StrJoin(options.services, ",")},
       {"data_dir", options.data_dir},
       {"tls", options.tls_cert_file.empty() ? "off" : "on"}});
  return server;
}

std::shared_ptr<grpc::Channel> Server::InProcessChannel() {
  return parts_->grpc_server->InProcessChannel(grpc::ChannelArguments());
}

std::map<std::string, uint64_t> Server::LatestWrites() const {
  std::map<std::string, uint64_t> out;
  if (parts_->auth) out["auth"] = parts_->auth->LatestWrite();
  if (parts_->card) out["card"] = parts_->card->LatestWrite();
  if (parts_->merchant) out["merchant"] = parts_->merchant->LatestWrite();
  if (parts_->promotion) out["promotion"] = parts_->promotion->LatestWrite();
  if (parts_->checkout) out["checkout"] = parts_->checkout->LatestWrite();
  if (parts_->settlement) out["settlement"] = parts_->settlement->LatestWrite();
  return out;
}

bool Server::WaitSettled(absl::Duration timeout) {
  return !parts_->checkout || parts_->checkout->WaitSettled(timeout);
}

void Server::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (parts_->checkout) {
    // What was confirmed reaches the ledger before the stop, if it can within the grace.
    if (!parts_->checkout->Drain(grace)) {
      Log(LogLevel::kWarning, "server.settlement_left",
          {{"reason",
            "the outbox was not delivered in the grace period; it is sent on the next "
            "start"}});
    }
    parts_->checkout->StopSending();
  }
  if (parts_->grpc_server) {  // absent when Start failed part way
    auto deadline = std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace);
    parts_->grpc_server->GetHealthCheckService()->SetServingStatus(false);
    parts_->grpc_server->Shutdown(deadline);
    parts_->grpc_server->Wait();
  }
  // What recovery or an expiry still does after the grace goes no further into another service:
  // they close one after another.
  for (const auto& [name, g] : parts_->Gates()) {
    if (g) g->StopServingLocally();
  }
  parts_->metrics->Stop();  // scraped until the calls are done; none reads a closing database
  // Each service drains its writer and syncs and closes its own database.
  for (absl::Status s : {parts_->checkout ? parts_->checkout->Close() : absl::OkStatus(),
                         parts_->settlement ? parts_->settlement->Close() : absl::OkStatus(),
                         parts_->auth ? parts_->auth->Close() : absl::OkStatus(),
                         // Before the card service: its last commands' answers may credit cards.
                         parts_->promotion ? parts_->promotion->Close() : absl::OkStatus(),
                         parts_->card ? parts_->card->Close() : absl::OkStatus(),
                         parts_->merchant ? parts_->merchant->Close() : absl::OkStatus()}) {
    if (!s.ok()) Log(LogLevel::kError, "server.close_failed", {{"reason", s.ToString()}});
  }
  Log(LogLevel::kInfo, "server.stopped");
}

Server::~Server() { Shutdown(absl::Seconds(5)); }

int ServeUntilSignalled(const ServerOptions& options, absl::Duration grace,
                        std::string_view program) {
  // Deadlock detection walks a lock graph on every absl::Mutex acquisition, gRPC's included.
  // Tests keep it on; a serving process does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // The signals are caught from before the start: a SIGTERM that comes as soon as the port is
  // announced is a clean stop, not the default death.
  asio::io_context io;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  auto server = Server::Start(options);
  if (!server.ok()) {
    std::cerr << program << ": " << server.status().message() << "\n";
    return 1;
  }
  if (!(*server)->bootstrap_token().empty()) {
    // Printed once, here only: logs never carry it.
    std::cout << "bootstrap admin token (shown once; keep it in a file only you can read): "
              << (*server)->bootstrap_token() << std::endl;
  }
  std::cout << "listening on " << options.listen.substr(0, options.listen.rfind(':')) << ":"
            << (*server)->port() << std::endl;
  if ((*server)->metrics_port() != 0) {
    std::cout << "metrics on http://"
              << options.metrics_listen.substr(0, options.metrics_listen.rfind(':')) << ":"
              << (*server)->metrics_port() << "/metrics" << std::endl;
  }
  signals.async_wait([&](const asio::error_code& ec, int signo) {
    if (ec) return;
    Log(LogLevel::kInfo, "server.stopping", {{"signal", std::to_string(signo)}});
    (*server)->Shutdown(grace);
    io.stop();
  });
  io.run();
  return 0;
}

}  // namespace perks
