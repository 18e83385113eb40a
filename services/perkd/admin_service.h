// The admin service: backups of the whole installation. Uses gRPC's synchronous API on purpose:
// a checkpoint flushes memtables and may take seconds, which must not hold a callback thread.
#ifndef PERKS_SERVICES_PERKD_ADMIN_SERVICE_H_
#define PERKS_SERVICES_PERKD_ADMIN_SERVICE_H_

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "perks/v1/admin.grpc.pb.h"
#include "services/common/clock.h"
#include "services/gate/gate.h"

namespace perks {

class AdminService final : public perks::v1::AdminService::Service {
 public:
  // Each service's backup function writes a checkpoint of its database into the directory given.
  using CheckpointFn = std::function<absl::Status(const std::string& dir)>;
  AdminService(std::string data_dir, std::string secrets_dir, const Clock* clock,
               std::map<std::string, CheckpointFn> dbs, GateOptions gate)
      : data_dir_(std::move(data_dir)),
        secrets_dir_(std::move(secrets_dir)),
        clock_(clock),
        dbs_(std::move(dbs)),
        gate_("perks.v1.AdminService", std::move(gate)) {}
  Gate& gate() { return gate_; }

  grpc::Status Backup(grpc::ServerContext* ctx, const perks::v1::BackupRequest* req,
                      perks::v1::BackupResponse* resp) override;

 private:
  std::string data_dir_;
  std::string secrets_dir_;
  const Clock* clock_;
  std::map<std::string, CheckpointFn> dbs_;
  std::mutex backup_mu_;  // one backup at a time
  Gate gate_;
};

}  // namespace perks

#endif  // PERKS_SERVICES_PERKD_ADMIN_SERVICE_H_
