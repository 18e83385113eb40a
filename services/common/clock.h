// Time comes from an injected Clock; tests move a ManualClock by hand.
#ifndef PERKS_SERVICES_COMMON_CLOCK_H_
#define PERKS_SERVICES_COMMON_CLOCK_H_

#include <functional>
#include <mutex>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace perks {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // Calls `jumped` after every jump of this clock, so that timers waiting on the system's steady
  // clock look again. A clock that moves by itself never jumps and never calls it.
  virtual void OnJump(std::function<void()> jumped) const { (void)jumped; }
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      now_ += d;
    }
    Jumped();
  }
  void Set(absl::Time t) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      now_ = t;
    }
    Jumped();
  }
  void OnJump(std::function<void()> jumped) const override {
    std::lock_guard<std::mutex> lock(mu_);
    watchers_.push_back(std::move(jumped));
  }

 private:
  void Jumped() {
    std::vector<std::function<void()>> watchers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      watchers = watchers_;
    }
    for (auto& w : watchers) w();
  }

  mutable std::mutex mu_;
  absl::Time now_;
  mutable std::vector<std::function<void()>> watchers_;
};

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_CLOCK_H_
