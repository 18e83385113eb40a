// perks-launch: the five Perks services, one process each, on one machine: a developer's, a
// test's, a small pilot's. The same processes a deployment runs under systemd or Kubernetes,
// wired to each other over gRPC on 127.0.0.1.
//
// It starts perks-card, perks-merchant (which also answers for auth), perks-promotion,
// perks-checkout and perks-settlement, each with its own data directory under --data-dir and
// the installation's shared keys in <data-dir>/secrets; waits until each answers its gRPC health
// check; prints where each answers and the --server line clients take (also written to
// <data-dir>/endpoints). A service that dies after that is started again on the same port, with
// a growing pause if it keeps dying. SIGINT or SIGTERM stops checkout first (so what it has
// confirmed reaches the ledger), then the others, each finishing its calls and closing its
// database.
//
// Each service's log is <data-dir>/logs/<service>.log; what it prints (its port, the
// installation's first admin token) is echoed here, prefixed with its name. Its pid is in
// <data-dir>/run/<service>.pid.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asio.hpp"
#include "tools/common/client.h"

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr int kMetricsOffset = 100;  // a service's metrics port, from its gRPC port

struct Options {
  std::string data_dir = "data-services";
  std::string host = "127.0.0.1";
  int base_port = 7401;
  std::string bin_dir;
  int ready_timeout_s = 60;
  int grace_s = 10;
  bool restart = true;
  std::vector<std::string> service_args;
};

struct ChildSpec {
  std::string name;                 // "merchant"
  std::vector<std::string> serves;  // what it answers for: merchant and auth
  std::string binary;
  int port = 0;
  int metrics_port = 0;  // where Prometheus scrapes it
};

struct Child : ChildSpec {
  pid_t pid = -1;
  bool ready = false;
  bool signalled = false;  // sent SIGTERM by Stop
  std::unique_ptr<asio::posix::stream_descriptor> out;
  std::shared_ptr<asio::streambuf> line;
  asio::steady_timer restart_timer;
  std::chrono::milliseconds backoff{200};
  SteadyClock::time_point started;
  std::shared_ptr<grpc::Channel> channel;

  Child(ChildSpec spec, asio::io_context& io) : ChildSpec(std::move(spec)), restart_timer(io) {}
  std::string address(const std::string& host) const { return absl::StrCat(host, ":", port); }
};

std::string Describe(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return "stopped";
}

// The last `n` lines of a file, for saying why a service did not start.
std::string Tail(const fs::path& file, size_t n) {
  std::ifstream in(file);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > n) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) absl::StrAppend(&out, "    ", l, "\n");
  return out;
}

// `count` ports free on `host` now: each bound to port 0, all held until all are chosen (so
// they differ), then released for the services to take.
std::vector<int> FreePorts(const std::string& host, int count) {
  std::vector<int> fds, ports;
  for (int i = 0; i < count; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    if (fd < 0 || inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (fd >= 0) close(fd);
      break;
    }
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    fds.push_back(fd);
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) close(fd);
  return ports;
}

// A channel for the health checks: it tries to connect again every 100-250 ms, not after gRPC's
// default backoff (growing to 2 minutes), so a service that starts late is seen at once.
std::shared_ptr<grpc::Channel> HealthChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

void WriteFile(const fs::path& file, const std::string& content) {
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
}

class Launcher {
 public:
  Launcher(Options options, std::vector<ChildSpec> specs)
      : o_(std::move(options)),
        signals_(io_, SIGINT, SIGTERM),
        chld_(io_, SIGCHLD),
        ready_timer_(io_),
        kill_timer_(io_) {
    for (auto& spec : specs) children_.push_back(std::make_unique<Child>(std::move(spec), io_));
  }

  int Run() {
    WaitSignal();
    WaitChild();
    std::cout << "[launch] starting " << children_.size() << " services on " << o_.host
              << ", data in " << o_.data_dir << "\n"
              << std::flush;
    began_ = SteadyClock::now();
    for (auto& c : children_) {
      if (stopping_) break;  // one could not be started: the others are not either
      Spawn(*c);
    }
    PollReady();
    io_.run();
    return exit_code_;
  }

 private:
  fs::path DataDir() const { return fs::path(o_.data_dir); }
  fs::path LogOf(const Child& c) const { return DataDir() / "logs" / (c.name + ".log"); }

  // Every service but the ones `c` runs, at its address.
  std::vector<std::string> PeersOf(const Child& c) const {
    std::vector<std::string> out;
    for (const auto& other : children_) {
      if (other.get() == &c) continue;
      for (const auto& s : other->serves) {
        out.push_back("--peer");
        out.push_back(absl::StrCat(s, "=", other->address(o_.host)));
      }
    }
    return out;
  }

  void Spawn(Child& c) {
    std::vector<std::string> args = {c.binary,
                                     "--listen",
                                     c.address(o_.host),
                                     "--data-dir",
                                     (DataDir() / c.name).string(),
                                     "--secrets-dir",
                                     (DataDir() / "secrets").string(),
                                     "--shutdown-grace-seconds",
                                     std::to_string(o_.grace_s),
                                     "--metrics-listen",
                                     absl::StrCat(o_.host, ":", c.metrics_port)};
    for (auto& p : PeersOf(c)) args.push_back(std::move(p));
    args.insert(args.end(), o_.service_args.begin(), o_.service_args.end());
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
      std::cerr << "[launch] cannot make a pipe for " << c.name << ": " << strerror(errno) << "\n";
      Stop(1);
      return;
    }
    const int log = open(LogOf(c).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    // Made before the fork: the child only calls what is safe between fork and exec.
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      // Its own process group: a Ctrl-C at the terminal reaches the launcher only, which stops
      // the services in order. A launcher that dies (even by SIGKILL) takes them down cleanly.
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);  // it died before the line above
      dup2(out[1], STDOUT_FILENO);
      if (log >= 0) dup2(log, STDERR_FILENO);
      execv(c.binary.c_str(), argv.data());
      dprintf(STDERR_FILENO, "perks-launch: cannot run %s: %s\n", c.binary.c_str(),
              strerror(errno));
      _exit(127);
    }
    close(out[1]);
    if (log >= 0) close(log);
    if (pid < 0) {
      close(out[0]);
      std::cerr << "[launch] cannot start " << c.name << ": " << strerror(errno) << "\n";
      Stop(1);
      return;
    }
    c.pid = pid;
    c.started = SteadyClock::now();
    WriteFile(DataDir() / "run" / (c.name + ".pid"), absl::StrCat(pid, "\n"));
    c.out = std::make_unique<asio::posix::stream_descriptor>(io_, out[0]);
    c.line = std::make_shared<asio::streambuf>();
    Echo(c, c.out.get(), c.line);
  }

  // What the service prints, line by line, prefixed with its name, until it closes its output.
  void Echo(Child& c, asio::posix::stream_descriptor* out, std::shared_ptr<asio::streambuf> buf) {
    asio::async_read_until(*out, *buf, '\n',
                           [this, &c, out, buf](const asio::error_code& ec, size_t n) {
                             if (ec) return;
                             std::string line(asio::buffers_begin(buf->data()),
                                              asio::buffers_begin(buf->data()) + n - 1);
                             buf->consume(n);
                             std::cout << "[" << c.name << "] " << line << "\n" << std::flush;
                             Echo(c, out, buf);
                           });
  }

  // SIGINT or SIGTERM stops the services in order; a second one kills what is left.
  void WaitSignal() {
    signals_.async_wait([this](const asio::error_code& ec, int signo) {
      if (ec) return;
      if (stopping_) {
        std::cout << "[launch] " << strsignal(signo) << " again: killing what is left\n"
                  << std::flush;
        for (auto& c : children_) {
          if (c->pid > 0) kill(c->pid, SIGKILL);
        }
      } else {
        std::cout << "[launch] " << strsignal(signo) << ": stopping the services\n" << std::flush;
        Stop(0);
      }
      WaitSignal();
    });
  }

  void WaitChild() {
    chld_.async_wait([this](const asio::error_code& ec, int) {
      if (ec) return;
      Reap();
      WaitChild();
    });
  }

  void Reap() {
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      for (auto& c : children_) {
        if (c->pid != pid) continue;
        c->pid = -1;
        c->ready = false;
        std::error_code ec;
        fs::remove(DataDir() / "run" / (c->name + ".pid"), ec);
        if (c->out) c->out->close();  // what is left unread of its output goes with it
        Exited(*c, status);
      }
    }
    if (stopping_) StopNext();
  }

  void Exited(Child& c, int status) {
    if (stopping_) {
      // Killed by the SIGTERM it was sent, before it could catch it: it was still starting.
      const bool our_term = WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM;
      if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !our_term) {
        std::cout << "[launch] " << c.name << " " << Describe(status) << " while stopping\n";
        if (exit_code_ == 0) exit_code_ = 1;
      }
      return;
    }
    if (!all_ready_) {
      std::cerr << "[launch] " << c.name << " " << Describe(status)
                << " before it was serving. The end of " << LogOf(c).string() << ":\n"
                << Tail(LogOf(c), 8);
      Stop(1);
      return;
    }
    if (!o_.restart) {
      std::cerr << "[launch] " << c.name << " " << Describe(status) << "; stopping the others\n";
      Stop(1);
      return;
    }
    // Up for a while: it was a crash, not a service that cannot start.
    if (SteadyClock::now() - c.started > std::chrono::seconds(30)) c.backoff = kFirstBackoff;
    std::cout << "[launch] " << c.name << " " << Describe(status) << "; starting it again in "
              << c.backoff.count() << " ms (log: " << LogOf(c).string() << ")\n"
              << std::flush;
    c.restart_timer.expires_after(c.backoff);
    c.backoff = std::min(c.backoff * 2, kLongestBackoff);
    c.restart_timer.async_wait([this, &c](const asio::error_code& ec) {
      if (ec || stopping_) return;
      Spawn(c);
      if (!polling_) PollReady();
    });
  }

  // Until every service answers SERVING for each service it runs (or the time is up).
  void PollReady() {
    polling_ = false;
    if (stopping_) return;
    int ready = 0;
    for (auto& c : children_) {
      if (!c->ready && c->pid > 0) {
        if (!c->channel) c->channel = HealthChannel(c->address(o_.host));
        bool serving = true;
        for (const auto& s : c->serves) {
          auto status = perks::tools::CheckHealth(c->channel, perks::tools::HealthServiceName(s),
                                                  absl::Milliseconds(250));
          serving = serving && status.ok() && *status == "SERVING";
        }
        if (serving) {
          c->ready = true;
          std::cout << "[launch] " << c->name << " is serving" << (all_ready_ ? " again" : "")
                    << " at " << c->address(o_.host) << "\n"
                    << std::flush;
        }
      }
      ready += c->ready ? 1 : 0;
    }
    if (ready == static_cast<int>(children_.size())) {
      if (!all_ready_) Announce();
      return;
    }
    if (!all_ready_ && SteadyClock::now() - began_ > std::chrono::seconds(o_.ready_timeout_s)) {
      std::cerr << "[launch] not every service was serving after " << o_.ready_timeout_s << " s:\n";
      for (auto& c : children_) {
        if (c->ready) continue;
        std::cerr << "  " << c->name << " (" << c->address(o_.host) << ") is not; the end of "
                  << LogOf(*c).string() << ":\n"
                  << Tail(LogOf(*c), 5);
      }
      Stop(1);
      return;
    }
    polling_ = true;
    ready_timer_.expires_after(std::chrono::milliseconds(100));
    ready_timer_.async_wait([this](const asio::error_code& ec) {
      if (!ec) PollReady();
    });
  }

  void Announce() {
    all_ready_ = true;
    std::vector<std::string> spec;
    std::cout << "[launch] Perks is up: " << children_.size() << " services in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - began_)
                     .count()
              << " ms\n";
    for (auto& c : children_) {
      std::cout << "  " << c->name << std::string(12 - c->name.size(), ' ') << c->address(o_.host)
                << "  pid " << c->pid << "  metrics http://" << o_.host << ":" << c->metrics_port
                << "/metrics  " << absl::StrJoin(c->serves, ", ") << "\n";
      for (const auto& s : c->serves) spec.push_back(absl::StrCat(s, "=", c->address(o_.host)));
    }
    std::sort(spec.begin(), spec.end());
    const std::string server = absl::StrJoin(spec, ",");
    WriteFile(DataDir() / "endpoints", server + "\n");
    std::cout << "  logs in " << (DataDir() / "logs").string() << "/; Ctrl-C stops them all\n"
              << "clients: --server " << server << "\n"
              << std::flush;
  }

  // Stops checkout first, so that what it confirmed reaches the ledger, then the rest.
  void Stop(int code) {
    if (code != 0 && exit_code_ == 0) exit_code_ = code;
    if (stopping_) return;
    stopping_ = true;
    ready_timer_.cancel();
    for (auto& c : children_) c->restart_timer.cancel();
    // Checkout may take its grace to deliver its outbox and its grace again to finish calls.
    ArmKillTimer(std::chrono::seconds(2 * o_.grace_s + 5));
    StopNext();
  }

  void ArmKillTimer(std::chrono::seconds after) {
    kill_timer_.expires_after(after);
    kill_timer_.async_wait([this](const asio::error_code& ec) {
      if (ec) return;
      for (auto& c : children_) {
        if (c->pid > 0) {
          std::cerr << "[launch] " << c->name << " did not stop in time: killing it\n";
          kill(c->pid, SIGKILL);
        }
      }
    });
  }

  void StopNext() {
    auto running = [](const Child& c) { return c.pid > 0; };
    for (auto& c : children_) {
      if (c->name == "checkout" && running(*c)) {
        if (!checkout_signalled_) {
          checkout_signalled_ = true;
          kill(c->pid, SIGTERM);
        }
        return;  // the others wait for it
      }
    }
    bool any = false, signalled_now = false;
    for (auto& c : children_) {
      if (!running(*c)) continue;
      any = true;
      if (!c->signalled) {
        c->signalled = true;
        signalled_now = true;
        kill(c->pid, SIGTERM);
      }
    }
    // The others get their own time, from when they are told.
    if (signalled_now) ArmKillTimer(std::chrono::seconds(o_.grace_s + 5));
    if (!any) {
      kill_timer_.cancel();
      signals_.cancel();
      chld_.cancel();
      std::cout << "[launch] stopped\n" << std::flush;
      io_.stop();
    }
  }

  static constexpr std::chrono::milliseconds kFirstBackoff{200};
  static constexpr std::chrono::milliseconds kLongestBackoff{10000};

  Options o_;
  asio::io_context io_;
  std::vector<std::unique_ptr<Child>> children_;
  asio::signal_set signals_, chld_;
  asio::steady_timer ready_timer_, kill_timer_;
  SteadyClock::time_point began_;
  bool all_ready_ = false, stopping_ = false, checkout_signalled_ = false, polling_ = false;
  int exit_code_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "perks-launch: the five Perks services, one process each, on this machine, wired to each "
      "other over gRPC"};
  app.add_option(
         "--data-dir", o.data_dir,
         "each service's data directory is <data-dir>/<service>; keys in <data-dir>/secrets")
      ->capture_default_str();
  app.add_option("--host", o.host, "the address they listen on")->capture_default_str();
  app.add_option("--base-port", o.base_port,
                 "card listens here, merchant on the next port, then promotion, checkout, "
                 "settlement, and their metrics 100 ports up (7501...); 0 picks free ports")
      ->capture_default_str()
      ->check(CLI::Range(0, 65530 - kMetricsOffset));
  app.add_option("--bin-dir", o.bin_dir,
                 "where perks-card and the others are (default: next to perks-launch, else "
                 "this build's)");
  app.add_option("--ready-timeout-seconds", o.ready_timeout_s,
                 "how long the services may take to start serving")
      ->capture_default_str();
  app.add_option("--shutdown-grace-seconds", o.grace_s,
                 "how long each service may take to finish its calls when stopped")
      ->capture_default_str();
  bool no_restart = false;
  app.add_flag("--no-restart", no_restart,
               "stop everything when a service dies, do not restart it");
  app.add_option("service-args", o.service_args,
                 "after --: options given to every service, e.g. -- --cache-mib 64");
  CLI11_PARSE(app, argc, argv);
  o.restart = !no_restart;

  // Where the service binaries are.
  const std::vector<std::pair<std::string, std::vector<std::string>>> kServices = {
      {"card", {"card"}},
      {"merchant", {"merchant", "auth"}},
      {"promotion", {"promotion"}},
      {"checkout", {"checkout"}},
      {"settlement", {"settlement"}}};
  const std::map<std::string, std::string> kBuilt = {{"card", PERKS_CARD_BINARY},
                                                     {"merchant", PERKS_MERCHANT_BINARY},
                                                     {"promotion", PERKS_PROMOTION_BINARY},
                                                     {"checkout", PERKS_CHECKOUT_BINARY},
                                                     {"settlement", PERKS_SETTLEMENT_BINARY}};
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec).parent_path();
  std::vector<int> ports;
  if (o.base_port == 0) {
    ports = FreePorts(o.host, static_cast<int>(2 * kServices.size()));
    if (ports.size() != 2 * kServices.size()) {
      std::cerr << "perks-launch: cannot find free ports on " << o.host
                << "; is it an address of this machine?\n";
      return 2;
    }
  } else {
    for (size_t i = 0; i < kServices.size(); ++i) {
      ports.push_back(o.base_port + static_cast<int>(i));
    }
    for (size_t i = 0; i < kServices.size(); ++i) {
      ports.push_back(o.base_port + kMetricsOffset + static_cast<int>(i));
    }
  }

  std::vector<ChildSpec> children;
  for (size_t i = 0; i < kServices.size(); ++i) {
    auto c = std::make_unique<ChildSpec>();
    c->name = kServices[i].first;
    c->serves = kServices[i].second;
    c->port = ports[i];
    c->metrics_port = ports[kServices.size() + i];
    const std::string file = "perks-" + c->name;
    if (!o.bin_dir.empty()) {
      c->binary = (fs::path(o.bin_dir) / file).string();
    } else if (fs::exists(self / file)) {
      c->binary = (self / file).string();
    } else {
      c->binary = kBuilt.at(c->name);
    }
    if (access(c->binary.c_str(), X_OK) != 0) {
      std::cerr << "perks-launch: cannot run " << c->binary
                << (o.bin_dir.empty() ? "; build it (./scripts/build.sh) or say where it is with "
                                        "--bin-dir"
                                      : "; is --bin-dir right?")
                << "\n";
      return 2;
    }
    children.push_back(std::move(*c));
  }
  for (const char* sub : {"logs", "run", "secrets"}) {
    fs::create_directories(fs::path(o.data_dir) / sub, ec);
    if (ec) {
      std::cerr << "perks-launch: cannot create " << (fs::path(o.data_dir) / sub).string() << ": "
                << ec.message() << "\n";
      return 2;
    }
  }
  Launcher l(std::move(o), std::move(children));
  return l.Run();
}
