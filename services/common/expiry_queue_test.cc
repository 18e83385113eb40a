#include "services/common/expiry_queue.h"

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace perks {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

// Collects what the queue hands back, and lets a test wait for a number of ids.
class Collected {
 public:
  ExpiryQueue::Due Sink() {
    return [this](std::vector<std::string> ids) {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& id : ids) ids_.push_back(std::move(id));
      cv_.notify_all();
    };
  }
  std::vector<std::string> WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return ids_.size() >= n; });
    return ids_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> ids_;
};

TEST(ExpiryQueue, HandsBackWhatIsDueWhenTheClockReachesItInOrder) {
  ManualClock clock(kStart);
  Collected got;
  ExpiryQueue queue(&clock, got.Sink());
  queue.Add("late", kStart + absl::Minutes(20));
  queue.Add("soon", kStart + absl::Minutes(15));
  EXPECT_EQ(queue.Pending(), 2u);

  clock.Advance(absl::Minutes(16));
  EXPECT_EQ(got.WaitFor(1), std::vector<std::string>{"soon"});
  clock.Advance(absl::Minutes(5));
  EXPECT_EQ(got.WaitFor(2), (std::vector<std::string>{"soon", "late"}));
  EXPECT_EQ(queue.Pending(), 0u);
}

TEST(ExpiryQueue, RemovedIdsAreNeverHandedBack) {
  ManualClock clock(kStart);
  Collected got;
  ExpiryQueue queue(&clock, got.Sink());
  queue.Add("settled", kStart + absl::Minutes(1));
  queue.Add("open", kStart + absl::Minutes(2));
  queue.Remove("settled");
  clock.Advance(absl::Minutes(3));
  // Had "settled" been handed back, it would have come first (its moment is earlier).
  EXPECT_EQ(got.WaitFor(1), std::vector<std::string>{"open"});
}

TEST(ExpiryQueue, AMomentAlreadyPastIsDueAtOnceAndAddAgainMovesIt) {
  ManualClock clock(kStart);
  Collected got;
  ExpiryQueue queue(&clock, got.Sink());
  queue.Add("moved", kStart + absl::Minutes(1));
  queue.Add("moved", kStart + absl::Hours(1));  // replaces the first moment
  queue.Add("past", kStart - absl::Seconds(1));
  EXPECT_EQ(got.WaitFor(1), std::vector<std::string>{"past"});
  clock.Advance(absl::Minutes(2));
  queue.Add("marker", kStart);  // due now; "moved" (an hour away) must not come with it
  EXPECT_EQ(got.WaitFor(2), (std::vector<std::string>{"past", "marker"}));
  EXPECT_EQ(queue.Pending(), 1u);
}

TEST(ExpiryQueue, WaitsOnTheSystemClockWhenTheClockMovesByItself) {
  SystemClock clock;
  Collected got;
  ExpiryQueue queue(&clock, got.Sink());
  queue.Add("a", clock.Now() + absl::Milliseconds(20));
  EXPECT_EQ(got.WaitFor(1), std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace perks
