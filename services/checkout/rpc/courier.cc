#include "services/checkout/rpc/courier.h"

#include <algorithm>

#include "services/common/log.h"

namespace perks::checkout {
namespace {

constexpr absl::Duration kRetryFirst = absl::Milliseconds(50);
constexpr absl::Duration kRetryMax = absl::Seconds(5);

}  // namespace

Courier::Courier(std::string what) : what_(std::move(what)) {}

Courier::~Courier() { Stop(); }

void Courier::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void Courier::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
    drained_ = false;
  }
  wake_.notify_one();
}

bool Courier::WaitDelivered(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return drained_cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                              [this] { return drained_; });
}

void Courier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (sending_) sending_->TryCancel();
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

uint64_t Courier::delivered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return delivered_;
}

bool Courier::BeginCall(grpc::ClientContext* ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return false;
  sending_ = ctx;
  return true;
}

void Courier::EndCall() {
  std::lock_guard<std::mutex> lock(mu_);
  sending_ = nullptr;
}

void Courier::CountDelivered(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  delivered_ += n;
}

void Courier::Loop() {
  absl::Duration retry = kRetryFirst;
  bool failing = false;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) return;
      woken_ = false;
    }
    absl::StatusOr<size_t> sent = SendBatch();
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return;
    if (!sent.ok()) {
      if (!failing) {
        Log(LogLevel::kWarning, what_ + "_unreachable", {{"reason", sent.status().ToString()}});
      }
      failing = true;
      // Backs off before the next attempt; only Stop cuts the wait short.
      wake_.wait_for(lock, absl::ToChronoMilliseconds(retry), [this] { return stopping_; });
      retry = std::min(retry * 2, kRetryMax);
      continue;
    }
    if (failing) Log(LogLevel::kInfo, what_ + "_reachable");
    failing = false;
    retry = kRetryFirst;
    if (*sent > 0 || woken_) continue;  // there may be more
    drained_ = true;
    drained_cv_.notify_all();
    wake_.wait(lock, [this] { return stopping_ || woken_; });
  }
}

}  // namespace perks::checkout
