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
#include "services/promotion/rpc/promotion_service.h"
#include "services/settlement/rpc/settlement_service.h"

namespace perks {

struct Server::Parts {
  SystemClock system_clock;
  std::unique_ptr<auth::AuthService> auth;
  std::unique_ptr<card::CardService> card;
  std::unique_ptr<merchant::MerchantService> merchant;
  std::unique_ptr<promotion::PromotionService> promotion;
  std::unique_ptr<checkout::CheckoutService> checkout;
  std::unique_ptr<settlement::SettlementService> settlement;
  std::unique_ptr<AdminService> admin;
  std::unique_ptr<grpc::Server> grpc_server;
};

absl::StatusOr<std::string> LoadOrCreateSecret(const std::string& data_dir,
                                               const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(data_dir) / "secrets";
  std::filesystem::path file = dir / (name + ".key");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  }
  if (std::filesystem::exists(file)) {
    std::ifstream in(file);
    std::string hex;
    in >> hex;
    if (hex.size() < 32) {
      return absl::DataLossError(absl::StrCat(
          file.string(), " is damaged; restore it from the latest backup (backups/*/secrets)"));
    }
    return hex;
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) return absl::InternalError("no randomness for the key");
  std::string hex = HexEncode(std::string(reinterpret_cast<char*>(raw), sizeof(raw)));
  std::filesystem::path tmp = dir / (name + ".key.tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return absl::FailedPreconditionError(absl::StrCat("cannot write ", tmp.string()));
  std::string line = hex + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return absl::FailedPreconditionError(absl::StrCat("cannot write ", tmp.string()));
  std::filesystem::rename(tmp, file, ec);
  if (ec) return absl::FailedPreconditionError(absl::StrCat("cannot write ", file.string()));
  return hex;
}

namespace {

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

  auto internal_key = LoadOrCreateSecret(options.data_dir, "internal");
  if (!internal_key.ok()) return internal_key.status();
  GateOptions gate;
  gate.clock = clock;
  gate.internal_key = *internal_key;
  gate.cache_ttl = options.credentials_cache_ttl;
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

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, *credentials, &port);
  builder.SetMaxReceiveMessageSize(options.message_bytes_max);
  builder.SetMaxSendMessageSize(options.message_bytes_max);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.concurrent_streams_max);

  for (const auto& name : options.services) {
    if (name == "card") {
      auto key = LoadOrCreateSecret(options.data_dir, "id-hash");
      if (!key.ok()) return key.status();
      card::CardServiceOptions o;
      o.gate = gate;
      o.db_path = (std::filesystem::path(options.data_dir) / "card").string();
      o.id_hash_key = *key;
      o.clock = clock;
      o.writer.sync = options.sync_writes;
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
      o.writer.sync = options.sync_writes;
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
      o.writer.sync = options.sync_writes;
      auto svc = merchant::MerchantService::Open(o);
      if (!svc.ok()) return svc.status();
      parts.merchant = std::move(*svc);
      builder.RegisterService(parts.merchant.get());
    } else if (name == "promotion") {
      promotion::PromotionServiceOptions o;
      o.gate = gate;
      o.db_path = (std::filesystem::path(options.data_dir) / "promotion").string();
      o.clock = clock;
      o.writer.sync = options.sync_writes;
      auto svc = promotion::PromotionService::Open(o);
      if (!svc.ok()) return svc.status();
      parts.promotion = std::move(*svc);
      builder.RegisterService(parts.promotion.get());
    } else if (name == "checkout") {
      checkout::CheckoutServiceOptions o;
      o.gate = gate;
      o.db_path = (std::filesystem::path(options.data_dir) / "checkout").string();
      o.clock = clock;
      o.writer.sync = options.sync_writes;
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
      o.writer.sync = options.sync_writes;
      o.day_cutoff = options.day_cutoff;
      o.at_step = at_step;
      auto svc = settlement::SettlementService::Open(o);
      if (!svc.ok()) return svc.status();
      parts.settlement = std::move(*svc);
      builder.RegisterService(parts.settlement.get());
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown service '", name,
                       "'; this build has: auth, card, merchant, promotion, checkout, settlement"));
    }
  }
  std::map<std::string, AdminService::CheckpointFn> dbs;
  if (parts.card) {
    card::CardService* card = parts.card.get();
    dbs["card"] = [card](const std::string& dir) { return card->Checkpoint(dir); };
  }
  if (parts.auth) {
    auth::AuthService* a = parts.auth.get();
    dbs["auth"] = [a](const std::string& dir) { return a->Checkpoint(dir); };
  }
  if (parts.merchant) {
    merchant::MerchantService* m = parts.merchant.get();
    dbs["merchant"] = [m](const std::string& dir) { return m->Checkpoint(dir); };
  }
  if (parts.promotion) {
    promotion::PromotionService* p = parts.promotion.get();
    dbs["promotion"] = [p](const std::string& dir) { return p->Checkpoint(dir); };
  }
  if (parts.checkout) {
    checkout::CheckoutService* c = parts.checkout.get();
    dbs["checkout"] = [c](const std::string& dir) { return c->Checkpoint(dir); };
  }
  if (parts.settlement) {
    settlement::SettlementService* s = parts.settlement.get();
    dbs["settlement"] = [s](const std::string& dir) { return s->Checkpoint(dir); };
  }
  parts.admin = std::make_unique<AdminService>(options.data_dir, clock, std::move(dbs), gate);
  builder.RegisterService(parts.admin.get());
  parts.grpc_server = builder.BuildAndStart();
  if (!parts.grpc_server || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen,
                                               "; is the port in use or the address wrong?"));
  }
  server->port_ = port;
  // Services reach the auth and merchant services through gRPC: here, in this process.
  auto local = server->InProcessChannel();
  for (Gate* g :
       {parts.auth ? &parts.auth->gate() : nullptr, parts.card ? &parts.card->gate() : nullptr,
        parts.merchant ? &parts.merchant->gate() : nullptr,
        parts.promotion ? &parts.promotion->gate() : nullptr,
        parts.checkout ? &parts.checkout->gate() : nullptr,
        parts.settlement ? &parts.settlement->gate() : nullptr, &parts.admin->gate()}) {
    if (g) g->Connect(local, local);
  }
  // Grants are credited to cards, and activating a card asks for what activation earns.
  if (parts.promotion) parts.promotion->ConnectCards(local);
  if (parts.card && parts.promotion) parts.card->ConnectPromotions(local);
  // A checkout asks for the card, the merchant and the promotions; then finishes the checkouts
  // a stop left in the middle of a step.
  if (parts.checkout) parts.checkout->Connect(local, local, local, local);
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
    // What was confirmed reaches the ledger before the stop, if it can within the grace (and
    // the ledger is in this process).
    if (parts_->settlement && !parts_->checkout->Drain(grace)) {
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
  // Each service drains its writer and syncs and closes its own database.
  for (absl::Status s : {parts_->checkout ? parts_->checkout->Close() : absl::OkStatus(),
                         parts_->settlement ? parts_->settlement->Close() : absl::OkStatus(),
                         parts_->auth ? parts_->auth->Close() : absl::OkStatus(),
                         parts_->card ? parts_->card->Close() : absl::OkStatus(),
                         parts_->merchant ? parts_->merchant->Close() : absl::OkStatus(),
                         parts_->promotion ? parts_->promotion->Close() : absl::OkStatus()}) {
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
