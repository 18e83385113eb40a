// A perkd (or single-service) process started by a test or benchmark: real process, real port on
// 127.0.0.1, stopped by SIGKILL (a crash) or SIGTERM (a clean shutdown).
#ifndef PERKS_TESTS_SUPPORT_CHILD_SERVER_H_
#define PERKS_TESTS_SUPPORT_CHILD_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace perks::testing {

class ChildServer {
 public:
  // Runs `binary --listen 127.0.0.1:0 --data-dir data_dir extra_args...` and waits for the line
  // "listening on 127.0.0.1:PORT" on its standard output. Its log goes to `log_path`.
  static absl::StatusOr<ChildServer> Start(const std::string& binary, const std::string& data_dir,
                                           const std::string& log_path,
                                           const std::vector<std::string>& extra_args = {});
  ChildServer(ChildServer&& other) noexcept;
  ChildServer& operator=(ChildServer&&) = delete;
  ~ChildServer();  // kills the process if still running

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }
  // The installation-admin token perkd printed, when this start created the installation.
  const std::string& bootstrap_token() const { return bootstrap_token_; }

  void Kill();      // SIGKILL and reap: no chance to flush or sync anything
  int Terminate();  // SIGTERM and reap; returns the exit code (-1 if killed by a signal)
  int64_t PeakRssBytes() const;  // VmHWM of the running process

 private:
  ChildServer(pid_t pid, int port) : pid_(pid), port_(port) {}
  pid_t pid_ = -1;
  int port_ = 0;
  std::string bootstrap_token_;
};

}  // namespace perks::testing

#endif  // PERKS_TESTS_SUPPORT_CHILD_SERVER_H_
