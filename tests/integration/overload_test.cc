// Overload (RELIABILITY.md row 15): twice as many tills as the checkout service admits at once,
// each sending authorizations (and reversing them) back to back. What is admitted is answered;
// the rest is refused at once with RESOURCE_EXHAUSTED and changes nothing; the server never works
// on more than its bound; and it stays responsive: its health check answers during the overload.
// The latencies are printed for the record (speed belongs in the benchmark, not in an assertion).
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/bozhou_till_test.h"
#include "tests/support/scrape.h"

namespace perks::testing {
namespace {

constexpr int kAdmitted = 4;

class OverloadTest : public BozhouTillTest {
 protected:
  OverloadTest() {
    options_.in_flight_max = kAdmitted;
    options_.metrics_listen = "127.0.0.1:0";
    card_count_ = 16;
  }
};

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

TEST_F(OverloadTest, TwiceTheTillsItAdmitsAreShedAtOnceAndTheAdmittedAreAnswered) {
  constexpr int kTills = 2 * kAdmitted;
  constexpr int kEach = 150;
  std::mutex mu;
  std::vector<double> admitted_ms, refused_ms;
  std::map<std::string, int> other;  // any answer but OK and RESOURCE_EXHAUSTED
  std::atomic<int> reversed{0}, authorized{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> tills;
  for (int t = 0; t < kTills; ++t) {
    tills.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int trace = 1 + t * kEach + i;
        Checkout out;
        const auto began = std::chrono::steady_clock::now();
        grpc::Status s = Authorize(trace, cards_[trace % cards_.size()], 10000, &out);
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began)
                .count();
        {
          std::lock_guard<std::mutex> lock(mu);
          if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
            refused_ms.push_back(ms);
            EXPECT_NE(s.error_message().find("send again in a moment"), std::string::npos)
                << s.error_message();
          } else if (s.ok()) {
            admitted_ms.push_back(ms);
            ++authorized;
          } else {
            ++other[s.error_message()];
          }
        }
        if (!s.ok()) continue;
        // The till reverses it (a reversal refused for the load is sent again, as tills do).
        grpc::Status r;
        for (int attempt = 0; attempt < 1000; ++attempt) {
          r = Reverse(trace, &out);
          if (r.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) break;
        }
        if (r.ok()) {
          ++reversed;
        } else {
          std::lock_guard<std::mutex> lock(mu);
          ++other[absl::StrCat("reverse: ", r.error_message())];
        }
      }
    });
  }
  // Responsive under the load: the health check answers while the tills are at it.
  std::thread health([&] {
    auto channel = tools::MakeChannel(absl::StrCat("127.0.0.1:", server_->port()));
    int answered = 0;
    while (!done.load()) {
      auto status = tools::CheckHealth(channel, "perks.v1.CheckoutService", absl::Seconds(10));
      ASSERT_TRUE(status.ok()) << status.status();
      EXPECT_EQ(*status, "SERVING");
      ++answered;
    }
    EXPECT_GT(answered, 0);
  });
  for (auto& t : tills) t.join();
  done.store(true);
  health.join();

  EXPECT_TRUE(other.empty()) << other.begin()->first;
  EXPECT_GT(refused_ms.size(), 0u) << "twice the tills it admits and nothing was shed";
  EXPECT_GT(admitted_ms.size(), 0u);
  EXPECT_EQ(admitted_ms.size() + refused_ms.size(), static_cast<size_t>(kTills * kEach));
  EXPECT_EQ(reversed.load(), authorized.load()) << "every admitted authorization was reversed";

  const std::string s = Scrape(server_->metrics_port());
  const std::string checkout = R"({service="perks.v1.CheckoutService"})";
  auto peak = SeriesValue(s, "perks_calls_in_flight_peak" + checkout);
  ASSERT_TRUE(peak.has_value()) << s;
  EXPECT_LE(*peak, kAdmitted) << "it worked on more calls at once than it admits";
  EXPECT_EQ(*peak, kAdmitted) << "the bound was never reached: not an overload";
  EXPECT_GE(SeriesValue(s, "perks_calls_shed" + checkout).value_or(0),
            static_cast<double>(refused_ms.size()));
  EXPECT_EQ(SeriesValue(s, "perks_calls_in_flight" + checkout), 0.0);
  // What the refused ones held: nothing. Every admitted one was reversed, so nothing is held.
  EXPECT_EQ(SeriesValue(s, "perks_reservations_pending"), 0.0);

  std::cout << kTills << " tills, " << kAdmitted << " admitted at once: " << admitted_ms.size()
            << " authorizations admitted (p50 " << Percentile(admitted_ms, 0.5) << " ms, p99 "
            << Percentile(admitted_ms, 0.99) << " ms), " << refused_ms.size() << " refused (p50 "
            << Percentile(refused_ms, 0.5) << " ms, p99 " << Percentile(refused_ms, 0.99)
            << " ms)\n";
}

}  // namespace
}  // namespace perks::testing
