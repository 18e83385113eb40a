// Things that expire at a moment of the injected clock (reservations, authorizations), and an Asio
// timer that hands each one back when its moment has come: nothing scans for them on every call.
//
// The queue runs its own io_context on one thread. The timer waits by the system's steady clock
// for the earliest moment (at most `wait_max`, so a wall clock that drifts from the steady one is
// caught up with), then asks the injected clock what is due. A ManualClock's jumps wake it at once.
#ifndef PERKS_SERVICES_COMMON_EXPIRY_QUEUE_H_
#define PERKS_SERVICES_COMMON_EXPIRY_QUEUE_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "services/common/clock.h"

namespace perks {

class ExpiryQueue {
 public:
  // `due` gets the ids whose moment has come, on the queue's thread, each id once per Add. It
  // should hand the work on (to a writer) rather than do it.
  using Due = std::function<void(std::vector<std::string> ids)>;

  // REQUIRES: clock outlives the queue.
  ExpiryQueue(const Clock* clock, Due due, absl::Duration wait_max = absl::Seconds(30));
  ~ExpiryQueue();  // Stop()

  ExpiryQueue(const ExpiryQueue&) = delete;
  ExpiryQueue& operator=(const ExpiryQueue&) = delete;

  // Expires `id` at `at` (replacing an earlier Add of the same id). A moment already past is due
  // at once.
  void Add(std::string id, absl::Time at);
  // Forgets `id`: it was settled before its moment.
  void Remove(std::string id);
  // Looks at the clock again now.
  void Poke();
  // Stops the timer; what is queued is not handed back. Idempotent.
  void Stop();

  // How many ids wait; a consistent answer once the calls before it have been taken in.
  size_t Pending() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_EXPIRY_QUEUE_H_
