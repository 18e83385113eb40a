#include "services/common/work_queue.h"

namespace perks {

WorkQueue::WorkQueue(size_t jobs_max) : jobs_max_(jobs_max), thread_([this] { Loop(); }) {}

WorkQueue::~WorkQueue() { Stop(); }

absl::Status WorkQueue::Add(absl::AnyInvocable<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("the service is stopping; send again later");
    if (jobs_.size() >= jobs_max_) {
      return absl::ResourceExhaustedError("too much long work is waiting; send again later");
    }
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return absl::OkStatus();
}

void WorkQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void WorkQueue::Loop() {
  while (true) {
    absl::AnyInvocable<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace perks
