// One process serving any set of the services on one port: all of them for perkd (a newcomer,
// the tests), one of them for a per-service process in deployment. Each service keeps its own
// RocksDB under <data_dir>/<service>/, and services reach each other only through gRPC (over
// InProcessChannel() here), so the same code runs either way.
#ifndef PERKS_SERVICES_PERKD_SERVER_H_
#define PERKS_SERVICES_PERKD_SERVER_H_

#include <cstdint>
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
  std::vector<std::string> services = {"auth", "card", "merchant"};
  const Clock* clock = nullptr;              // null: the system clock
  int message_bytes_max = 4 << 20;           // larger requests get RESOURCE_EXHAUSTED
  int concurrent_streams_max = 256;          // per connection
  bool sync_writes = true;                   // false only in benchmarks that say so
  int64_t cache_bytes = int64_t{256} << 20;  // block cache of each service's database
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  ~Server();

  int port() const { return port_; }
  // The first installation-admin token, when this start created the installation; else empty.
  const std::string& bootstrap_token() const { return bootstrap_token_; }
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Stops taking calls, lets in-flight ones finish (cancelling any still running after `grace`),
  // then drains each service's writer and closes its database. Idempotent.
  void Shutdown(absl::Duration grace);

  struct Parts;

 private:
  Server() = default;
  std::unique_ptr<Parts> parts_;
  int port_ = 0;
  std::string bootstrap_token_;
  bool shut_down_ = false;
};

// Starts the server, prints "listening on HOST:PORT", serves until SIGINT or SIGTERM (Asio's
// signal_set), then shuts down with `grace`. Returns the process exit code.
int ServeUntilSignalled(const ServerOptions& options, absl::Duration grace,
                        std::string_view program);

// The installation's secret for hashing ID numbers, kept in <data_dir>/secrets/id-hash.key
// (mode 0600) and made on first start.
absl::StatusOr<std::string> LoadOrCreateIdHashKey(const std::string& data_dir);

}  // namespace perks

#endif  // PERKS_SERVICES_PERKD_SERVER_H_
