#include "tests/support/launched_services.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tools/common/client.h"

namespace perks::testing {

namespace {
const char* const kServices[] = {"card", "merchant", "promotion", "checkout", "settlement"};
}  // namespace

absl::StatusOr<std::unique_ptr<LaunchedServices>> LaunchedServices::Start(
    const std::string& launcher, const std::string& data_dir, const std::string& log_path,
    const std::vector<std::string>& extra_args) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  std::vector<std::string> args = {launcher, "--data-dir", data_dir, "--base-port", "0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the test, and its services with it
    dup2(out[1], STDOUT_FILENO);
    if (log >= 0) dup2(log, STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(launcher.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  std::unique_ptr<LaunchedServices> l(new LaunchedServices());
  l->pid_ = pid;
  l->data_dir_ = data_dir;
  l->out_fd_ = out[0];
  // Its lines up to "clients: --server …", or its end.
  constexpr std::string_view kClients = "clients: --server ";
  constexpr std::string_view kToken = "bootstrap admin token";
  std::string line;
  for (;;) {
    line.clear();
    char c;
    ssize_t n;
    while ((n = read(out[0], &c, 1)) == 1 && c != '\n') line.push_back(c);
    if (log >= 0) (void)!write(log, (line + "\n").data(), line.size() + 1);
    if (line.find(kToken) != std::string::npos) {
      l->bootstrap_token_ = line.substr(line.rfind(' ') + 1);
    }
    if (line.rfind(kClients, 0) == 0) {
      l->server_ = line.substr(kClients.size());
      auto endpoints = tools::Endpoints::Parse(l->server_);
      if (!endpoints.ok()) return endpoints.status();
      l->endpoints_ = *std::move(endpoints);
      break;
    }
    if (n != 1) {
      if (log >= 0) close(log);
      return absl::UnavailableError(absl::StrCat(launcher, " did not bring the services up; see ",
                                                 log_path, " and ", data_dir, "/logs/"));
    }
  }
  l->drain_ = std::thread([fd = out[0], log] {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
      if (log >= 0) (void)!write(log, buf, static_cast<size_t>(n));
    }
    if (log >= 0) close(log);
  });
  return l;
}

std::string LaunchedServices::AddressOf(const std::string& service) const {
  auto a = endpoints_.Of(service);
  return a.ok() ? *a : "";
}

pid_t LaunchedServices::PidOf(const std::string& service) const {
  std::ifstream in(absl::StrCat(data_dir_, "/run/", service, ".pid"));
  pid_t pid = -1;
  in >> pid;
  return in ? pid : -1;
}

bool LaunchedServices::WaitServing(const std::string& service, pid_t not_pid,
                                   absl::Duration timeout) const {
  const absl::Time until = absl::Now() + timeout;
  auto channel = tools::MakeChannel(AddressOf(service));
  const std::string name = tools::HealthServiceName(service);
  while (absl::Now() < until) {
    const pid_t pid = PidOf(service);
    if (pid > 0 && pid != not_pid) {
      auto status = tools::CheckHealth(channel, name, absl::Seconds(1));
      if (status.ok() && *status == "SERVING") return true;
    }
    absl::SleepFor(absl::Milliseconds(50));  // polls a condition, bounded by `timeout`
  }
  return false;
}

int LaunchedServices::Terminate() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (drain_.joinable()) drain_.join();  // the launcher's output ends with it
  close(out_fd_);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void LaunchedServices::KillAll() {
  if (pid_ <= 0) return;
  // The services first, so that none outlives the launcher holding its database.
  for (const char* s : kServices) {
    if (pid_t p = PidOf(s); p > 0) kill(p, SIGKILL);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  if (drain_.joinable()) drain_.join();
  close(out_fd_);
}

LaunchedServices::~LaunchedServices() { KillAll(); }

}  // namespace perks::testing
