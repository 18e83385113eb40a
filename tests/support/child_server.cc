#include "tests/support/child_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace perks::testing {

absl::StatusOr<ChildServer> ChildServer::Start(const std::string& binary,
                                               const std::string& data_dir,
                                               const std::string& log_path,
                                               const std::vector<std::string>& extra_args) {
  int out[2];
  if (pipe(out) != 0) return absl::InternalError("pipe failed");
  std::vector<std::string> args = {binary, "--listen", "127.0.0.1:0", "--data-dir", data_dir};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    // Dies with the test or benchmark that started it, even one killed before it could clean up.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(out[1], STDOUT_FILENO);
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) dup2(log, STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  // The child prints "listening on …" when it listens (after the bootstrap token on a new
  // installation), or exits. Read lines up to that one.
  std::string line, bootstrap_token;
  constexpr std::string_view kTokenPrefix = "bootstrap admin token";
  for (;;) {
    line.clear();
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    if (line.rfind(kTokenPrefix, 0) == 0) {
      bootstrap_token = line.substr(line.rfind(' ') + 1);
      continue;
    }
    break;
  }
  close(out[0]);
  constexpr std::string_view kPrefix = "listening on 127.0.0.1:";
  int port = 0;
  if (line.rfind(kPrefix, 0) != 0 || !absl::SimpleAtoi(line.substr(kPrefix.size()), &port)) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return absl::UnavailableError(
        absl::StrCat(binary, " did not start (said '", line, "'); see ", log_path));
  }
  ChildServer child(pid, port);
  child.bootstrap_token_ = bootstrap_token;
  return child;
}

ChildServer::ChildServer(ChildServer&& other) noexcept
    : pid_(other.pid_), port_(other.port_), bootstrap_token_(std::move(other.bootstrap_token_)) {
  other.pid_ = -1;
}

ChildServer::~ChildServer() {
  if (pid_ > 0) Kill();
}

void ChildServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int ChildServer::Terminate() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int64_t ChildServer::PeakRssBytes() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      int64_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

}  // namespace perks::testing
