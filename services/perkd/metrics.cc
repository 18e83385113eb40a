#include "services/perkd/metrics.h"

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"
#include "prometheus/metric_family.h"
#include "storage/db.h"

namespace perks {

namespace {

// Calls take 0.1 ms (a lookup) to seconds (a day's statement page); group commits up to a
// sync's few ms, or longer on a slow disk.
const prometheus::Histogram::BucketBoundaries kSeconds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
const prometheus::Histogram::BucketBoundaries kBatch = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

class CallMetrics final : public grpc::experimental::Interceptor {
 public:
  CallMetrics(Metrics* metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)), began_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_->Answered(method_, methods->GetSendStatus().error_code(),
                         std::chrono::steady_clock::now() - began_);
    }
    methods->Proceed();
  }

 private:
  Metrics* metrics_;
  std::string method_;
  std::chrono::steady_clock::time_point began_;
};

class CallMetricsFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallMetricsFactory(Metrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallMetrics(metrics_, info->method());
  }

 private:
  Metrics* metrics_;
};

}  // namespace

// What is read at each scrape: the databases' figures and the services' samplers, turned into
// gauge families. Stop() waits out a scrape in progress and ends them.
class Metrics::Scraped final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<Sample> samples;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [name, db] : dbs_) {
        for (const auto& [property, value] : db->Figures()) {
          samples.push_back({absl::StrCat("rocksdb_", property),
                             absl::StrCat("RocksDB's rocksdb.", property, " of each database"),
                             {{"db", name}},
                             static_cast<double>(value)});
        }
      }
      for (const auto& sampler : samplers_) sampler(samples);
    }
    std::map<std::string, prometheus::MetricFamily> families;
    for (auto& s : samples) {
      std::string name = absl::StrCat("perks_", s.name);
      for (char& c : name) {
        if (c == '-' || c == '.') c = '_';
      }
      auto& f = families[name];
      if (f.name.empty()) {
        f.name = name;
        f.help = s.help;
        f.type = prometheus::MetricType::Gauge;
      }
      prometheus::ClientMetric m;
      for (auto& [k, v] : s.labels) m.label.push_back({k, v});
      m.gauge.value = s.value;
      f.metric.push_back(std::move(m));
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto& [name, f] : families) out.push_back(std::move(f));
    return out;
  }

  void AddDatabase(const std::string& name, const storage::Db* db) {
    std::lock_guard<std::mutex> lock(mu_);
    dbs_[name] = db;
  }
  void AddSampler(std::function<void(std::vector<Sample>&)> sampler) {
    std::lock_guard<std::mutex> lock(mu_);
    samplers_.push_back(std::move(sampler));
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    dbs_.clear();
    samplers_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, const storage::Db*> dbs_;
  std::vector<std::function<void(std::vector<Sample>&)>> samplers_;
};

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("perks_grpc_requests_total")
                    .Help("gRPC calls answered, by service, method and status code")
                    .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("perks_grpc_request_seconds")
                   .Help("how long a gRPC call took to answer, by service, method and status code")
                   .Register(*registry_)),
      batch_(prometheus::BuildHistogram()
                 .Name("perks_group_commit_commands")
                 .Help("commands written together in one RocksDB write, by database")
                 .Register(*registry_)),
      write_(prometheus::BuildHistogram()
                 .Name("perks_group_commit_write_seconds")
                 .Help("how long one group's RocksDB write took, by database and whether it was "
                       "synced (an fsync)")
                 .Register(*registry_)),
      scraped_(std::make_shared<Scraped>()) {}

Metrics::~Metrics() { Stop(); }

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
Metrics::InterceptorFactory() {
  return std::make_unique<CallMetricsFactory>(this);
}

void Metrics::Answered(const std::string& full_method, int code, std::chrono::nanoseconds took) {
  Call call{};
  {
    std::shared_lock lock(calls_mu_);
    if (auto it = calls_.find(std::make_pair(full_method, code)); it != calls_.end()) {
      call = it->second;
    }
  }
  if (call.count == nullptr) {
    // "/perks.v1.CardService/LookupCard"
    const size_t slash = full_method.rfind('/');
    std::string service = slash == std::string::npos || slash == 0
                              ? std::string("unknown")
                              : full_method.substr(1, slash - 1);
    std::string method = slash == std::string::npos ? full_method : full_method.substr(slash + 1);
    const prometheus::Labels labels = {
        {"service", std::move(service)},
        {"method", std::move(method)},
        {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(code))}};
    call = {&requests_.Add(labels), &latency_.Add(labels, kSeconds)};
    std::unique_lock lock(calls_mu_);
    calls_.emplace(std::make_pair(full_method, code), call);
  }
  call.count->Increment();
  call.latency->Observe(Seconds(took));
}

std::function<void(size_t, bool, std::chrono::nanoseconds)> Metrics::GroupCommits(
    const std::string& db) {
  prometheus::Histogram* batch = &batch_.Add({{"db", db}}, kBatch);
  prometheus::Histogram* synced = &write_.Add({{"db", db}, {"synced", "true"}}, kSeconds);
  prometheus::Histogram* unsynced = &write_.Add({{"db", db}, {"synced", "false"}}, kSeconds);
  return [batch, synced, unsynced](size_t commands, bool sync, std::chrono::nanoseconds took) {
    batch->Observe(static_cast<double>(commands));
    (sync ? synced : unsynced)->Observe(Seconds(took));
  };
}

void Metrics::AddDatabase(const std::string& name, const storage::Db* db) {
  scraped_->AddDatabase(name, db);
}

void Metrics::AddSampler(std::function<void(std::vector<Sample>&)> sampler) {
  scraped_->AddSampler(std::move(sampler));
}

absl::StatusOr<int> Metrics::Serve(const std::string& address) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address, " (", e.what(),
                                               "); is the port in use?"));
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(scraped_);
  auto ports = exposer_->GetListeningPorts();
  if (ports.empty())
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address));
  return ports.front();
}

void Metrics::Stop() {
  exposer_.reset();  // joins its threads: no scrape is running after this
  scraped_->Clear();
}

}  // namespace perks
