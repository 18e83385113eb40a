// The five service processes started by perks-launch, for a test: real processes on real ports
// of 127.0.0.1, each service's pid readable (to kill one), the launcher stopped by SIGTERM.
#ifndef PERKS_TESTS_SUPPORT_LAUNCHED_SERVICES_H_
#define PERKS_TESTS_SUPPORT_LAUNCHED_SERVICES_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/common/client.h"

namespace perks::testing {

class LaunchedServices {
 public:
  // Runs `launcher --data-dir data_dir --base-port 0 extra_args...` and waits for the line
  // "clients: --server SPEC" it prints when every service is serving. What it prints goes to
  // `log_path` (the services' own logs are in <data_dir>/logs/).
  static absl::StatusOr<std::unique_ptr<LaunchedServices>> Start(
      const std::string& launcher, const std::string& data_dir, const std::string& log_path,
      const std::vector<std::string>& extra_args = {});
  ~LaunchedServices();  // kills the launcher and its services if still running

  // What clients take as --server: "auth=127.0.0.1:P,card=…".
  const std::string& server() const { return server_; }
  // The address of one service ("card", "checkout", ...).
  std::string AddressOf(const std::string& service) const;
  // The installation-admin token, when this start created the installation.
  const std::string& bootstrap_token() const { return bootstrap_token_; }
  // The pid of the process running `service` now (<data_dir>/run/<service>.pid), or -1.
  pid_t PidOf(const std::string& service) const;
  // Waits until `service` runs in a process other than `not_pid` and answers its health check
  // SERVING; false after `timeout`.
  bool WaitServing(const std::string& service, pid_t not_pid, absl::Duration timeout) const;
  // SIGTERM to the launcher (which stops every service cleanly) and its exit code; -1 if it was
  // killed by a signal.
  int Terminate();

 private:
  LaunchedServices() = default;
  void KillAll();

  pid_t pid_ = -1;
  std::string data_dir_, server_, bootstrap_token_;
  tools::Endpoints endpoints_;  // server_, parsed once
  int out_fd_ = -1;
  std::thread drain_;  // copies what the launcher prints after it is up to the log
};

}  // namespace perks::testing

#endif  // PERKS_TESTS_SUPPORT_LAUNCHED_SERVICES_H_
