// What a Perks process tells Prometheus, on its own HTTP port (/metrics): every gRPC call by
// method and status code (count and latency), each database's group commits (batch sizes, the
// write's latency, synced or not) and RocksDB's figures, and what a service adds at each
// scrape (the promotion service: reservations pending, each campaign's budgets).
#ifndef PERKS_SERVICES_PERKD_METRICS_H_
#define PERKS_SERVICES_PERKD_METRICS_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace perks {
namespace storage {
class Db;
}  // namespace storage

// A gauge read at scrape time: name (without the perks_ prefix), help, labels, value.
struct Sample {
  std::string name;
  std::string help;
  std::map<std::string, std::string> labels;
  double value = 0;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // Counts and times every call the server answers (install with
  // ServerBuilder::experimental().SetInterceptorCreators).
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> InterceptorFactory();
  // What the group-commit writer of database `db` reports after each write
  // (storage::WriterOptions::on_group).
  std::function<void(size_t commands, bool synced, std::chrono::nanoseconds took)> GroupCommits(
      const std::string& db);
  // RocksDB's figures of `db` at each scrape. REQUIRES: db outlives the scrapes (Stop first).
  void AddDatabase(const std::string& name, const storage::Db* db);
  // Gauges a service reads at each scrape.
  void AddSampler(std::function<void(std::vector<Sample>&)> sampler);

  // Serves /metrics on `address` (HOST:PORT; port 0 picks a free one); returns the port.
  absl::StatusOr<int> Serve(const std::string& address);
  // Stops serving; no scrape runs after it returns. Idempotent.
  void Stop();

  // One gRPC call answered (the interceptor's report).
  void Answered(const std::string& full_method, int code, std::chrono::nanoseconds took);

 private:
  class Scraped;
  struct Call {
    prometheus::Counter* count;
    prometheus::Histogram* latency;
  };
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Histogram>& batch_;
  prometheus::Family<prometheus::Histogram>& write_;
  std::shared_ptr<Scraped> scraped_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  // Each (method, code)'s series, found once: a call then costs a shared lock and two updates.
  std::shared_mutex calls_mu_;
  std::map<std::pair<std::string, int>, Call, std::less<>> calls_;
};

}  // namespace perks

#endif  // PERKS_SERVICES_PERKD_METRICS_H_
