// One process serving any set of the services on one port: all of them for perkd (a newcomer,
// the tests), one of them for a per-service process in deployment. Each service keeps its own
// RocksDB under <data_dir>/<service>/, and services reach each other only through gRPC: over
// InProcessChannel() when the other service runs here, else over the network to the address in
// `peers`. The same code runs either way.
#ifndef PERKS_SERVICES_PERKD_SERVER_H_
#define PERKS_SERVICES_PERKD_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "services/common/clock.h"

namespace perks {

struct ServerOptions {
  std::string listen = "127.0.0.1:7400";  // host:port; port 0 picks a free one
  std::string data_dir = "data";
  std::vector<std::string> services = {"auth",      "card",     "merchant",
                                       "promotion", "checkout", "settlement"};
  // Where each service this process needs but does not run answers: "card" -> "10.0.0.5:7401".
  // Calls to them carry a deadline and are retried only where the method is idempotent
  // (PeerServiceConfig).
  std::map<std::string, std::string> peers;
  // TLS to the peers, trusting the CA in this PEM file; empty: plain (a private network).
  std::string peer_tls_ca_file;
  // The installation's secrets (secrets/<name>.key); empty: <data_dir>/secrets. Every process of
  // one installation needs the same ones.
  std::string secrets_dir;
  const Clock* clock = nullptr;      // null: the system clock
  int message_bytes_max = 4 << 20;   // larger requests get RESOURCE_EXHAUSTED
  int concurrent_streams_max = 256;  // per connection
  // Calls from outside each service works on at once; more are refused with RESOURCE_EXHAUSTED
  // (0: no bound).
  int in_flight_max = 512;
  bool sync_writes = true;                   // false only in benchmarks that say so
  int64_t cache_bytes = int64_t{256} << 20;  // block cache of each service's database
  // TLS on the listening port when both are set: PEM files of the server's certificate (chain)
  // and its private key.
  std::string tls_cert_file;
  std::string tls_key_file;
  // How long an answer about an API token or a terminal's keys is reused by each service.
  absl::Duration credentials_cache_ttl = absl::Seconds(5);
  // How long a till's authorization waits for its Confirm or Reverse.
  absl::Duration authorization_ttl = absl::Minutes(10);
  // When each business day ends, a time of day in Asia/Shanghai (24h: midnight).
  absl::Duration day_cutoff = absl::Hours(24);
  // Where Prometheus scrapes /metrics (HOST:PORT; port 0 picks one); empty: no metrics port.
  std::string metrics_listen;
  // Test hook: the process ends at once (no flush, no sync: a crash) when a checkout or a day's
  // close reaches this step, e.g. "confirm.committed" (checkout_service.h, settlement_service.h).
  std::string crash_at;
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  ~Server();

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }  // 0 without metrics_listen
  // The first installation-admin token, when this start created the installation; else empty.
  const std::string& bootstrap_token() const { return bootstrap_token_; }
  std::shared_ptr<grpc::Channel> InProcessChannel();
  // The latest write of each service's database, by service name: equal answers before and after
  // a call mean the call wrote nothing anywhere.
  std::map<std::string, uint64_t> LatestWrites() const;
  // Waits until every confirmed discount and refund so far has reached the settlement service's
  // ledger (true at once without a checkout service); false after `timeout`.
  bool WaitSettled(absl::Duration timeout);

  // Stops taking calls, lets in-flight ones finish (cancelling any still running after `grace`),
  // then drains each service's writer and closes its database. Idempotent.
  void Shutdown(absl::Duration grace);

  struct Parts;

 private:
  Server() = default;
  std::unique_ptr<Parts> parts_;
  int port_ = 0;
  int metrics_port_ = 0;
  std::string bootstrap_token_;
  bool shut_down_ = false;
};

// Starts the server, prints "listening on HOST:PORT", serves until SIGINT or SIGTERM (Asio's
// signal_set), then shuts down with `grace`. Returns the process exit code.
int ServeUntilSignalled(const ServerOptions& options, absl::Duration grace,
                        std::string_view program);

// One of the installation's secrets (32 random bytes, hex), kept in <secrets_dir>/<name>.key
// (mode 0600) and made on first start: "id-hash" hashes ID and card numbers, "internal" is what
// services present to each other. Processes starting together agree on one: the first to create
// the file wins and the others read it.
absl::StatusOr<std::string> LoadOrCreateSecret(const std::string& secrets_dir,
                                               const std::string& name);
// Where `options` keeps its secrets.
std::string SecretsDir(const ServerOptions& options);

// Which service needs which others (besides auth and merchant, which every service's gate asks
// about its callers): card -> promotion, promotion -> card, checkout -> card, merchant,
// promotion, settlement.
std::vector<std::string> PeersNeeded(const std::vector<std::string>& services);

// The gRPC service config of a channel to another Perks service: every internal method is a
// read or carries its own request id, so each is retried on UNAVAILABLE (a peer restarting),
// a few times with backoff, inside the call's deadline. Anything else is not retried.
std::string PeerServiceConfig();

}  // namespace perks

#endif  // PERKS_SERVICES_PERKD_SERVER_H_
