// perks-loadgen: many simulated tills checking out against a running perkd, over gRPC, each call
// signed as its terminal, with retries and reversals; then, in the same run, the ceiling of one
// durable gRPC write on the same server (a card balance credit, one group-commit write each).
//
// It sets up its own city first (a supermarket, one till per simulated terminal, member cards and
// a 10%-off campaign funded by the bank and the merchant), as the installation admin whose token
// it is given. Then each terminal runs authorize + confirm pairs back to back, reversing some of
// them and sending some requests twice, for --seconds; the figures are of that window.
// With --rate the tills together start that many pairs a second, each on its own schedule (as
// customers arrive, not as fast as the server answers), and a pair's latency is counted from when
// it was due: a till that fell behind counts its wait too.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/functional/any_invocable.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/alarm.h"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/checkout.grpc.pb.h"
#include "tools/common/campaign_file.h"
#include "tools/common/client.h"
#include "tools/common/seed.h"

namespace {

using perks::tools::TerminalCredentials;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string server = "127.0.0.1:7400";
  std::string token_file;
  std::string city;  // default: loadgen-<time>, a new city each run
  int terminals = 64;
  int cards = 2000;
  double seconds = 10;
  double ceiling_seconds = 5;
  double rate = 0;  // pairs started per second by all tills together; 0: back to back
  int reverse_percent = 5;
  int repeat_percent = 5;
  int attempts_max = 5;
  uint32_t seed = 1;
  bool json = false;
  std::vector<int> server_pids;  // on this machine: their CPU during the window is reported
};

// The CPU seconds process `pid` has used (user and system), from /proc; nullopt when unreadable.
std::optional<double> ProcessCpuSeconds(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // After "pid (name) ": state, then 10 more fields, then utime and stime (clock ticks).
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) fields >> skip;
  long long utime = 0, stime = 0;
  if (!(fields >> utime >> stime)) return std::nullopt;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double OwnCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// The CPU used by the servers named (summed; nullopt when none is named or one cannot be read)
// and by this process: read at the window's start and end.
struct CpuUse {
  std::optional<double> servers;
  double own = 0;
  static CpuUse Now(const std::vector<int>& pids) {
    CpuUse c;
    c.own = OwnCpuSeconds();
    if (!pids.empty()) c.servers = 0;
    for (int pid : pids) {
      std::optional<double> s = ProcessCpuSeconds(pid);
      if (!s) {
        c.servers.reset();
        break;
      }
      *c.servers += *s;
    }
    return c;
  }
};

// Latencies in microseconds, merged from every thread at the end.
struct Latencies {
  std::vector<int64_t> us;
  void Add(Clock::duration d) {
    us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  }
  void Merge(const Latencies& other) { us.insert(us.end(), other.us.begin(), other.us.end()); }
  double Ms(double q) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    size_t i = std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())));
    return static_cast<double>(us[i]) / 1000.0;
  }
};

struct Tally {
  Latencies pair, authorize, confirm;
  int64_t confirmed = 0, reversed = 0, repeats = 0, retries = 0;
  int64_t shed = 0;  // answers RESOURCE_EXHAUSTED: the server at its bound, sent again later
  std::map<std::string, int64_t> errors;  // by gRPC code name
};

// One simulated till: authorize + confirm pairs back to back, one call outstanding at a time,
// driven by gRPC's callbacks (no thread of its own: 64 blocked threads cost the two cores more
// than the calls did). Each request is sent until it is answered, as a till does: again on
// UNAVAILABLE (a step under way, a server starting) or a missed deadline, with the same request.
class Till {
 public:
  Till(std::shared_ptr<grpc::Channel> channel, TerminalCredentials creds,
       const std::vector<std::string>& cards, const Options& o, int index,
       const std::atomic<bool>& measuring, const std::atomic<bool>& stop,
       absl::AnyInvocable<void()> finished)
      : stub_(perks::v1::CheckoutService::NewStub(channel)),
        creds_(std::move(creds)),
        cards_(cards),
        o_(o),
        measuring_(measuring),
        stop_(stop),
        finished_(std::move(finished)),
        rng_(o.seed * 7919 + static_cast<uint32_t>(index)),
        interval_(o.rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(o.terminals / o.rate))
                             : Clock::duration::zero()),
        // The tills' schedules are spread over one interval.
        due_(Clock::now() + interval_ * index / o.terminals),
        date_(absl::FormatTime("%Y%m%d", absl::Now(), absl::FixedTimeZone(8 * 3600))) {}

  void Start() { NextPair(); }
  const Tally& tally() const { return t_; }

 private:
  enum class Step { kAuthorize, kAuthorizeAgain, kReverse, kConfirm };
  static const char* MethodOf(Step step) {
    switch (step) {
      case Step::kAuthorize:
      case Step::kAuthorizeAgain:
        return "Authorize";
      case Step::kReverse:
        return "Reverse";
      case Step::kConfirm:
        return "Confirm";
    }
    return "";
  }

  // The next pair: at once, or when it is due.
  void NextPair() {
    if (stop_.load(std::memory_order_relaxed)) return finished_();
    if (interval_ == Clock::duration::zero()) return Begin(Clock::now());
    const Clock::time_point due = due_;
    due_ += interval_;
    const Clock::duration wait = due - Clock::now();
    if (wait <= Clock::duration::zero()) return Begin(due);  // behind: it waited already
    alarm_ = std::make_unique<grpc::Alarm>();
    alarm_->Set(std::chrono::system_clock::now() + wait, [this, due](bool) {
      if (stop_.load(std::memory_order_relaxed)) return finished_();
      Begin(due);
    });
  }

  void Begin(Clock::time_point due) {
    ++n_;
    auth_.Clear();
    auth_.mutable_trace()->set_trace(std::to_string(n_));
    auth_.mutable_trace()->set_date(date_);
    auth_.mutable_card()->set_card_number(cards_[rng_() % cards_.size()]);
    auth_.set_amount_fen(2000 + static_cast<int64_t>(rng_() % 50000));
    counted_ = measuring_.load(std::memory_order_relaxed);
    began_ = due;
    Send(Step::kAuthorize, 0);
  }

  void Send(Step step, int attempt) {
    if (attempt > 0) ++t_.retries;
    ctx_ = perks::tools::MakeContext(absl::Seconds(10));
    const char* method = MethodOf(step);
    auto answered = [this, step, attempt](grpc::Status s) { Answered(step, attempt, s); };
    auto* async = stub_->async();
    switch (step) {
      case Step::kAuthorize:
      case Step::kAuthorizeAgain:
        Sign(method, auth_);
        return async->Authorize(ctx_.get(), &auth_, &out_, answered);
      case Step::kReverse:
        Sign(method, reverse_);
        return async->Reverse(ctx_.get(), &reverse_, &out_, answered);
      case Step::kConfirm:
        Sign(method, confirm_);
        return async->Confirm(ctx_.get(), &confirm_, &out_, answered);
    }
  }

  void Sign(const char* method, const google::protobuf::Message& req) {
    perks::tools::SignAsTerminal(*ctx_, creds_, absl::StrCat("/perks.v1.CheckoutService/", method),
                                 req, absl::Now());
  }

  void Answered(Step step, int attempt, const grpc::Status& s) {
    const bool again = attempt + 1 < o_.attempts_max;
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      // The server is at its bound and asks to send again in a moment: a till waits a little,
      // longer each time, rather than adding to the load.
      ++t_.shed;
      if (again) {
        alarm_ = std::make_unique<grpc::Alarm>();  // a fresh one each time: the last has fired
        alarm_->Set(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(20 << std::min(attempt, 4)),
                    [this, step, attempt](bool) { Send(step, attempt + 1); });
        return;
      }
    } else if (again && (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)) {
      return Send(step, attempt + 1);
    }
    if (!s.ok())
      ++t_.errors[absl::StrCat(MethodOf(step), " ", perks::tools::StatusCodeName(s.error_code()))];
    switch (step) {
      case Step::kAuthorize:
        if (s.ok() && static_cast<int>(rng_() % 100) < o_.repeat_percent) {
          ++t_.repeats;  // the till did not hear the answer and sends the same request again
          return Send(Step::kAuthorizeAgain, 0);
        }
        return Authorized(s);
      case Step::kAuthorizeAgain:
        return Authorized(s);
      case Step::kReverse:
        if (s.ok() && counted_) ++t_.reversed;
        return NextPair();
      case Step::kConfirm: {
        const auto done = Clock::now();
        if (s.ok() && counted_ && measuring_.load(std::memory_order_relaxed)) {
          ++t_.confirmed;
          t_.pair.Add(done - began_);
          t_.authorize.Add(authorized_ - began_);
          t_.confirm.Add(done - authorized_);
        }
        return NextPair();
      }
    }
  }

  void Authorized(const grpc::Status& s) {
    authorized_ = Clock::now();
    if (!s.ok()) return NextPair();
    if (static_cast<int>(rng_() % 100) < o_.reverse_percent) {
      reverse_.Clear();
      *reverse_.mutable_trace() = auth_.trace();
      reverse_.set_reason("payment declined");
      return Send(Step::kReverse, 0);
    }
    confirm_.Clear();
    *confirm_.mutable_trace() = auth_.trace();
    Send(Step::kConfirm, 0);
  }

  std::unique_ptr<perks::v1::CheckoutService::Stub> stub_;
  TerminalCredentials creds_;
  const std::vector<std::string>& cards_;
  const Options& o_;
  const std::atomic<bool>& measuring_;
  const std::atomic<bool>& stop_;
  absl::AnyInvocable<void()> finished_;
  std::mt19937 rng_;
  const Clock::duration interval_;  // between this till's pairs (zero: back to back)
  Clock::time_point due_;           // when its next pair is due
  const std::string date_;
  Tally t_;
  // The pair under way: only its own callbacks touch these, one after another.
  int64_t n_ = 0;
  bool counted_ = false;
  Clock::time_point began_, authorized_;
  perks::v1::AuthorizeRequest auth_;
  perks::v1::ReverseRequest reverse_;
  perks::v1::ConfirmRequest confirm_;
  perks::v1::Checkout out_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::Alarm> alarm_;
};

// The ceiling: `clients` threads each crediting a card's balance back to back, one durable write
// per call.
struct Ceiling {
  int64_t writes = 0, refused = 0;
  Latencies latency;
};

Ceiling MeasureCeiling(const std::shared_ptr<grpc::Channel>& channel, const std::string& token,
                       const std::vector<std::string>& cards, const Options& o) {
  std::vector<Ceiling> per(o.terminals);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < o.terminals; ++i) {
    threads.emplace_back([&, i] {
      auto stub = perks::v1::CardService::NewStub(channel);
      for (int64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
        perks::v1::CreditBalanceRequest req;
        req.set_request_id(absl::StrCat("ceiling-", o.city, "-", i, "-", n));
        req.mutable_card()->set_card_number(cards[static_cast<size_t>(i) % cards.size()]);
        req.set_balance_name("transit");
        req.set_kind(perks::v1::BALANCE_KIND_TRANSIT_CREDIT);
        req.set_amount_fen(1);
        perks::v1::BalanceChange change;
        const auto began = Clock::now();
        grpc::Status s = stub->CreditBalance(
            perks::tools::MakeContext(absl::Seconds(10), token).get(), req, &change);
        if (!s.ok()) {
          ++per[i].refused;
          continue;
        }
        ++per[i].writes;
        per[i].latency.Add(Clock::now() - began);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.ceiling_seconds));
  stop.store(true);
  for (auto& t : threads) t.join();
  Ceiling all;
  for (auto& c : per) {
    all.writes += c.writes;
    all.refused += c.refused;
    all.latency.Merge(c.latency);
  }
  return all;
}

int Fail(const std::string& what, const absl::Status& s) {
  std::cerr << "perks-loadgen: " << what << ": " << s.message() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // It shares the cores with the server it measures; like perkd, it skips the lock-graph checks
  // abseil makes on every mutex (gRPC's included), which were ~4 % of its CPU.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Options o;
  CLI::App app{"perks-loadgen: simulated tills checking out against a running Perks server"};
  app.add_option("--server", o.server,
                 "perkd's HOST:PORT, or each service's as card=HOST:PORT,merchant=HOST:PORT,... "
                 "(what perks-launch prints)")
      ->capture_default_str();
  app.add_option("--token-file", o.token_file,
                 "the installation admin's API token, in a file (else PERKS_TOKEN)");
  app.add_option("--city", o.city, "the city to set up and load (default: a new one each run)");
  app.add_option("--terminals", o.terminals, "simulated tills, each with one call at a time")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--cards", o.cards, "member cards to check out with")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--seconds", o.seconds, "how long to measure checkouts")->capture_default_str();
  app.add_option("--rate", o.rate,
                 "pairs (authorize, then confirm or reverse) all tills together start a second, "
                 "each till on its own schedule; latency counts from when a pair was due (0: each "
                 "till starts its next pair as soon as the last is answered)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--ceiling-seconds", o.ceiling_seconds,
                 "how long to measure one durable write's ceiling (0: skip)")
      ->capture_default_str();
  app.add_option("--reverse-percent", o.reverse_percent, "authorizations reversed, not confirmed")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  app.add_option("--repeat-percent", o.repeat_percent, "authorizations sent twice (a lost answer)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  app.add_option("--seed", o.seed, "for the cards and amounts chosen")->capture_default_str();
  app.add_flag("--json", o.json, "print the figures as one JSON object");
  app.add_option("--server-pid", o.server_pids,
                 "the server's process id when it runs on this machine (repeat for each process): "
                 "its CPU per checkout in the window is reported");
  CLI11_PARSE(app, argc, argv);

  auto token = perks::tools::LoadToken(o.token_file);
  if (!token.ok() || token->empty()) {
    std::cerr << "perks-loadgen: give the installation admin's token: --token-file FILE, or "
                 "export PERKS_TOKEN\n";
    return 2;
  }
  if (o.city.empty()) o.city = absl::StrCat("loadgen", absl::ToUnixSeconds(absl::Now()));
  auto endpoints = perks::tools::Endpoints::Parse(o.server);
  if (!endpoints.ok()) return Fail("--server", endpoints.status());
  std::map<std::string, std::shared_ptr<grpc::Channel>> channel;
  for (const char* service : {"card", "merchant", "promotion", "checkout"}) {
    auto address = endpoints->Of(service);
    if (!address.ok()) return Fail("--server", address.status());
    channel[service] = perks::tools::MakeChannel(*address);
  }

  // The city: a supermarket with a till per terminal, activated member cards, a 10%-off campaign.
  std::cerr << "setting up " << o.city << ": " << o.cards << " cards, " << o.terminals
            << " tills…\n";
  perks::tools::Seeder seed(channel["card"], channel["merchant"], channel["promotion"], *token,
                            absl::StrCat("loadgen-", o.city));
  auto shop = seed.Onboard(5, o.city);
  if (!shop.ok()) return Fail("setting up the shop", shop.status());
  std::vector<TerminalCredentials> creds;
  for (int i = 0; i < o.terminals; ++i) {
    auto t = seed.AddTerminal(shop->stores(0).store_id());
    if (!t.ok()) return Fail("registering the tills", t.status());
    creds.push_back(*t);
  }
  perks::tools::Seeder::Program program{o.city, o.city + "-member", "623699", 19};
  auto cards = seed.IssueMemberCards(program, o.cards, o.seed, {});
  if (!cards.ok()) return Fail("issuing the cards", cards.status());
  for (size_t i = 0; i < cards->size(); ++i) {
    if (absl::Status s = seed.ChangeCardState((*cards)[i], perks::v1::CARD_ACTION_ACTIVATE);
        !s.ok()) {
      return Fail("activating the cards", s);
    }
    if ((i + 1) % 500 == 0) std::cerr << "  " << i + 1 << " cards activated\n";
  }
  auto campaign = perks::tools::ParseCampaignText(
      absl::StrCat("campaigns:\n"
                   "  - campaign_id: ",
                   o.city,
                   "-daily-10\n"
                   "    tenant_id: ",
                   o.city,
                   "\n"
                   "    title: load test, 10% off\n"
                   "    starts_at: 2026-01-01T00:00:00+08:00\n"
                   "    percent: {off_bp: 1000, cap_fen: 20000}\n"
                   "    eligibility: {program_ids: [",
                   program.program_id,
                   "]}\n"
                   "    funding:\n"
                   "      - {funder: FUNDER_BANK, share_bp: 5000}\n"
                   "      - {funder: FUNDER_MERCHANT, share_bp: 5000}\n"),
      "the load test's campaign");
  if (!campaign.ok()) return Fail("the campaign", campaign.status());
  if (absl::Status s = seed.Publish(campaign->campaigns(0)); !s.ok())
    return Fail("the campaign", s);

  // Checkouts: one second of warm-up, then the measured window.
  std::cerr << "checking out from " << o.terminals << " tills for " << o.seconds << " s…\n";
  std::atomic<bool> measuring{false}, stop{false};
  std::mutex finished_mu;
  std::condition_variable all_finished;
  int running = o.terminals;
  std::vector<std::unique_ptr<Till>> tills;
  for (int i = 0; i < o.terminals; ++i) {
    tills.push_back(
        std::make_unique<Till>(channel["checkout"], creds[i], *cards, o, i, measuring, stop, [&] {
          std::lock_guard<std::mutex> lock(finished_mu);
          if (--running == 0) all_finished.notify_one();
        }));
  }
  for (auto& till : tills) till->Start();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  measuring.store(true);
  const auto began = Clock::now();
  const CpuUse cpu_began = CpuUse::Now(o.server_pids);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  measuring.store(false);
  const CpuUse cpu_ended = CpuUse::Now(o.server_pids);
  const double window_s = std::chrono::duration<double>(Clock::now() - began).count();
  stop.store(true);
  {
    std::unique_lock<std::mutex> lock(finished_mu);
    all_finished.wait(lock, [&] { return running == 0; });
  }
  Tally all;
  for (const auto& till : tills) {
    const Tally& t = till->tally();
    all.pair.Merge(t.pair);
    all.authorize.Merge(t.authorize);
    all.confirm.Merge(t.confirm);
    all.confirmed += t.confirmed;
    all.reversed += t.reversed;
    all.repeats += t.repeats;
    all.retries += t.retries;
    all.shed += t.shed;
    for (const auto& [code, n] : t.errors) all.errors[code] += n;
  }
  Ceiling ceiling;
  if (o.ceiling_seconds > 0) {
    std::cerr << "one durable write's ceiling, " << o.terminals << " clients for "
              << o.ceiling_seconds << " s…\n";
    ceiling = MeasureCeiling(channel["card"], *token, *cards, o);
  }
  const double per_s = static_cast<double>(all.confirmed) / window_s;
  // CPU per confirmed checkout: what its authorize, confirm, and the reversals and repeats around
  // it cost. Comparable across runs on a noisy machine where checkouts per second are not.
  const double confirmed = static_cast<double>(std::max<int64_t>(1, all.confirmed));
  const bool server_cpu = cpu_began.servers && cpu_ended.servers;
  const double server_cpu_s = server_cpu ? *cpu_ended.servers - *cpu_began.servers : 0;
  const double own_cpu_s = cpu_ended.own - cpu_began.own;
  const double ceiling_per_s =
      o.ceiling_seconds > 0 ? static_cast<double>(ceiling.writes) / o.ceiling_seconds : 0;
  if (o.json) {
    std::string errors;
    for (const auto& [code, n] : all.errors) {
      absl::StrAppend(&errors, errors.empty() ? "" : ",", "\"", code, "\":", n);
    }
    std::cout << absl::StrFormat(
        "{\"terminals\":%d,\"offered_pairs_per_s\":%.1f,\"seconds\":%.2f,"
        "\"checkouts_per_s\":%.1f,\"pair_p50_ms\":%.2f,"
        "\"pair_p99_ms\":%.2f,\"authorize_p99_ms\":%.2f,\"confirm_p99_ms\":%.2f,"
        "\"confirmed\":%d,\"reversed\":%d,\"repeats\":%d,\"retries\":%d,\"shed\":%d,"
        "\"errors\":{%s},"
        "\"durable_write_per_s\":%.1f,\"durable_write_p50_ms\":%.2f,"
        "\"durable_write_p99_ms\":%.2f,\"server_cpu_ms_per_checkout\":%s,"
        "\"server_cores\":%s,\"loadgen_cpu_ms_per_checkout\":%.3f,\"loadgen_cores\":%.2f}\n",
        o.terminals, o.rate, window_s, per_s, all.pair.Ms(0.50), all.pair.Ms(0.99),
        all.authorize.Ms(0.99), all.confirm.Ms(0.99), all.confirmed, all.reversed, all.repeats,
        all.retries, all.shed, errors, ceiling_per_s, ceiling.latency.Ms(0.50),
        ceiling.latency.Ms(0.99),
        server_cpu ? absl::StrFormat("%.3f", server_cpu_s * 1000 / confirmed) : "null",
        server_cpu ? absl::StrFormat("%.2f", server_cpu_s / window_s) : "null",
        own_cpu_s * 1000 / confirmed, own_cpu_s / window_s);
    return all.confirmed > 0 ? 0 : 1;
  }
  std::cout << absl::StrFormat(
      "checkouts (authorize + confirm): %.0f/s over %.1f s from %d tills%s\n"
      "  pair latency   p50 %.2f ms  p99 %.2f ms  max %.2f ms\n"
      "  authorize      p50 %.2f ms  p99 %.2f ms\n"
      "  confirm        p50 %.2f ms  p99 %.2f ms\n"
      "  confirmed %d, reversed %d, sent twice %d, retried %d (%d of them asked to by a server "
      "at its bound)\n",
      per_s, window_s, o.terminals,
      o.rate > 0
          ? absl::StrFormat(", %.0f pairs/s offered (%d%% reversed)", o.rate, o.reverse_percent)
          : "",
      all.pair.Ms(0.50), all.pair.Ms(0.99), all.pair.Ms(1.0), all.authorize.Ms(0.50),
      all.authorize.Ms(0.99), all.confirm.Ms(0.50), all.confirm.Ms(0.99), all.confirmed,
      all.reversed, all.repeats, all.retries, all.shed);
  std::cout << "  CPU per confirmed checkout: ";
  if (server_cpu) {
    std::cout << absl::StrFormat("server %.3f ms (%.2f cores), ", server_cpu_s * 1000 / confirmed,
                                 server_cpu_s / window_s);
  } else if (!o.server_pids.empty()) {
    std::cout << "server unknown (its /proc/PID/stat could not be read), ";
  }
  std::cout << absl::StrFormat("this load generator %.3f ms (%.2f cores)\n",
                               own_cpu_s * 1000 / confirmed, own_cpu_s / window_s);
  for (const auto& [code, n] : all.errors) std::cout << "  refused: " << code << " " << n << "\n";
  if (o.ceiling_seconds > 0) {
    std::cout << absl::StrFormat(
        "one durable write (card balance credit): %.0f/s from %d clients, p50 %.2f ms, "
        "p99 %.2f ms%s\n",
        ceiling_per_s, o.terminals, ceiling.latency.Ms(0.50), ceiling.latency.Ms(0.99),
        ceiling.refused > 0 ? absl::StrCat(" (", ceiling.refused, " refused)") : "");
  }
  return all.confirmed > 0 ? 0 : 1;
}
