#include "services/perkd/admin_service.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"

namespace perks {
namespace {

namespace fs = std::filesystem;

bool ValidLabel(const std::string& label) {
  if (label.size() > 40) return false;
  for (char c : label) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

int64_t BytesUnder(const fs::path& dir) {
  int64_t bytes = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) bytes += static_cast<int64_t>(e.file_size(ec));
  }
  return bytes;
}

}  // namespace

grpc::Status AdminService::Backup(grpc::ServerContext* ctx, const perks::v1::BackupRequest* req,
                                  perks::v1::BackupResponse* resp) {
  auto caller = gate_.Admit(*ctx, "Backup", *req);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (!ValidLabel(req->label())) {
    return ToGrpcStatus(
        absl::InvalidArgumentError("label may hold at most 40 letters, digits, '-' and '_'"));
  }
  std::unique_lock<std::mutex> lock(backup_mu_, std::try_to_lock);
  if (!lock.owns_lock()) {
    return ToGrpcStatus(
        absl::FailedPreconditionError("a backup is already running; wait for it to finish"));
  }
  absl::Time start = clock_->Now();
  std::string name = absl::FormatTime("%Y%m%dT%H%M%SZ", start, absl::UTCTimeZone());
  if (!req->label().empty()) absl::StrAppend(&name, "-", req->label());
  fs::path target = fs::path(data_dir_) / "backups" / name;
  std::error_code ec;
  if (fs::exists(target, ec)) {
    return ToGrpcStatus(absl::AlreadyExistsError(
        absl::StrCat("backup ", target.string(), " already exists; use another label")));
  }
  fs::create_directories(target, ec);
  if (ec) {
    return ToGrpcStatus(absl::FailedPreconditionError(
        absl::StrCat("cannot create ", target.string(), ": ", ec.message())));
  }
  for (const auto& [service, checkpoint] : dbs_) {
    absl::Status s = checkpoint((target / service).string());
    if (!s.ok()) {
      fs::remove_all(target, ec);  // no half backups left behind
      return ToGrpcStatus(s);
    }
    resp->add_services(service);
  }
  fs::path key = fs::path(secrets_dir_);
  if (fs::exists(key, ec)) {
    fs::copy(key, target / "secrets", fs::copy_options::recursive, ec);
    if (ec) {
      fs::remove_all(target, ec);
      return ToGrpcStatus(absl::UnavailableError("copying the secrets folder failed"));
    }
  }
  resp->set_path(target.string());
  resp->set_bytes(BytesUnder(target));
  resp->set_took_ms(absl::ToInt64Milliseconds(clock_->Now() - start));
  Log(LogLevel::kInfo, "admin.backup",
      {{"actor", ActorName(*caller)},
       {"path", target.string()},
       {"bytes", std::to_string(resp->bytes())}});
  return grpc::Status::OK;
}

}  // namespace perks
