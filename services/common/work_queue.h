// One thread for work too long for a gRPC callback thread (closing a business day, checking a
// ledger): jobs run one at a time, in order, and the queue is bounded.
#ifndef PERKS_SERVICES_COMMON_WORK_QUEUE_H_
#define PERKS_SERVICES_COMMON_WORK_QUEUE_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"

namespace perks {

class WorkQueue {
 public:
  explicit WorkQueue(size_t jobs_max = 64);
  ~WorkQueue();  // Stop()
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `job`. RESOURCE_EXHAUSTED when `jobs_max` are waiting, UNAVAILABLE after Stop(); the
  // job does not run then.
  absl::Status Add(absl::AnyInvocable<void()> job);
  // Runs every queued job, then ends the thread. Idempotent.
  void Stop();

 private:
  void Loop();

  const size_t jobs_max_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<absl::AnyInvocable<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_WORK_QUEUE_H_
