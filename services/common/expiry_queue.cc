#include "services/common/expiry_queue.h"

#include <chrono>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "asio.hpp"

namespace perks {

struct ExpiryQueue::State {
  State(const Clock* c, Due d, absl::Duration w)
      : clock(c), due(std::move(d)), wait_max(w), timer(io), work(asio::make_work_guard(io)) {}

  // Hands back what is due, then waits for the next moment. Runs on the io thread only.
  void Check() {
    std::vector<std::string> ready;
    std::optional<int64_t> next_ms;
    int64_t now_ms = absl::ToUnixMillis(clock->Now());
    {
      std::lock_guard<std::mutex> lock(mu);
      while (!by_moment.empty() && by_moment.begin()->first <= now_ms) {
        auto first = by_moment.begin();
        moment_of.erase(first->second);
        ready.push_back(std::move(first->second));
        by_moment.erase(first);
      }
      if (!by_moment.empty()) next_ms = by_moment.begin()->first;
      // What the timer is about to wait for; an Add at or after it needs no wake.
      armed_ms = next_ms ? std::min(*next_ms, now_ms + absl::ToInt64Milliseconds(wait_max))
                         : std::numeric_limits<int64_t>::max();
    }
    if (!ready.empty()) due(std::move(ready));
    if (!next_ms) {
      timer.cancel();
      return;
    }
    absl::Duration wait = std::min(absl::Milliseconds(*next_ms - now_ms), wait_max);
    timer.expires_after(absl::ToChronoMilliseconds(wait) + std::chrono::milliseconds(1));
    timer.async_wait([this](const asio::error_code& ec) {
      if (!ec) Check();  // a cancelled wait was replaced by a newer one
    });
  }

  void Wake() {
    asio::post(io, [this] { Check(); });
  }

  const Clock* clock;
  Due due;
  const absl::Duration wait_max;
  asio::io_context io;
  asio::steady_timer timer;
  asio::executor_work_guard<asio::io_context::executor_type> work;

  mutable std::mutex mu;
  std::set<std::pair<int64_t, std::string>> by_moment;
  absl::flat_hash_map<std::string, int64_t> moment_of;
  // The moment (injected clock, ms) the timer wakes at to look again; max when it waits for
  // nothing.
  int64_t armed_ms = std::numeric_limits<int64_t>::max();
  bool stopped = false;
};

ExpiryQueue::ExpiryQueue(const Clock* clock, Due due, absl::Duration wait_max)
    : state_(std::make_shared<State>(clock, std::move(due), wait_max)) {
  thread_ = std::thread([state = state_] { state->io.run(); });
  // A jump of the clock wakes the timer; the weak pointer lets the queue go before the clock.
  clock->OnJump([weak = std::weak_ptr<State>(state_)] {
    if (auto state = weak.lock()) state->Wake();
  });
}

ExpiryQueue::~ExpiryQueue() { Stop(); }

void ExpiryQueue::Add(std::string id, absl::Time at) {
  int64_t at_ms = absl::ToUnixMillis(at);
  bool sooner;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    auto [it, fresh] = state_->moment_of.try_emplace(id, at_ms);
    if (!fresh) {
      state_->by_moment.erase({it->second, id});
      it->second = at_ms;
    }
    state_->by_moment.emplace(at_ms, std::move(id));
    sooner = at_ms < state_->armed_ms;
  }
  // Most moments come after the one the timer waits for (an authorization expires minutes from
  // now): those are found when it wakes, and only a sooner one re-arms it.
  if (sooner) state_->Wake();
}

void ExpiryQueue::Remove(std::string id) {
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->moment_of.find(id);
  if (it == state_->moment_of.end()) return;
  state_->by_moment.erase({it->second, id});
  state_->moment_of.erase(it);
  // The timer may still wake for it and find nothing due: cheaper than re-arming here.
}

void ExpiryQueue::Poke() { state_->Wake(); }

void ExpiryQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
  }
  state_->work.reset();
  state_->io.stop();
  if (thread_.joinable()) thread_.join();
}

size_t ExpiryQueue::Pending() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->by_moment.size();
}

}  // namespace perks
