#include "tools/common/importer.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/grpc_status.h"
#include "tools/common/client.h"
#include "tools/common/member_csv.h"

namespace perks::tools {

absl::StatusOr<ImportSummary> ImportMemberFile(perks::v1::CardService::StubInterface* stub,
                                               const ImportOptions& options,
                                               const ImportProgress& progress) {
  auto total = CheckMemberCsv(options.path);
  if (!total.ok()) return total.status();
  auto reader = MemberCsvReader::Open(options.path);
  if (!reader.ok()) return reader.status();

  ImportSummary summary;
  std::string run_id = NewRequestId("import");
  summary.batch_id = options.batch_id.empty() && !options.issue_program_id.empty()
                         ? absl::StrCat("b-", run_id.substr(7))
                         : options.batch_id;
  std::mutex mu;  // guards reader, summary, next_call, failure
  int64_t next_call = 0;
  absl::Status failure;

  auto worker = [&] {
    for (;;) {
      perks::v1::ImportMembersRequest req;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!failure.ok()) return;
        while (req.rows_size() < options.rows_per_call) {
          auto row = (*reader)->Next();
          if (!row.ok()) {
            failure = row.status();  // the file changed since it was checked
            return;
          }
          if (!row->has_value()) break;
          *req.add_rows() = std::move(**row);
        }
        if (req.rows_size() == 0) return;
        req.set_request_id(absl::StrCat(run_id, "-", next_call++));
      }
      req.set_tenant_id(options.tenant_id);
      req.set_issue_program_id(options.issue_program_id);
      req.set_issue_batch_id(summary.batch_id);
      perks::v1::ImportMembersResponse resp;
      grpc::Status status;
      for (int attempt = 1; attempt <= options.attempts_max; ++attempt) {
        resp.Clear();
        auto ctx = MakeContext(absl::Seconds(60), options.token);
        status = stub->ImportMembers(ctx.get(), req, &resp);
        if (status.ok() || !Retryable(status)) break;
        absl::SleepFor(absl::Milliseconds(100) * attempt);  // back off before resending
      }
      std::lock_guard<std::mutex> lock(mu);
      if (!status.ok()) {
        if (failure.ok()) {
          failure = FromGrpcStatus(status);
          failure = absl::Status(
              failure.code(),
              absl::StrCat("import stopped at line ", req.rows(0).line(), ": ", failure.message(),
                           ". Run the same import again: rows already in are "
                           "not counted twice"));
        }
        return;
      }
      summary.rows += req.rows_size();
      summary.created += resp.created();
      summary.updated += resp.updated();
      summary.unchanged += resp.unchanged();
      summary.cards_issued += resp.cards_issued();
      for (const auto& r : resp.rejected()) summary.rejected.push_back(r);
      if (progress) progress(summary.rows, *total);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < std::max(1, options.calls_in_flight); ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (!failure.ok()) return failure;
  std::sort(summary.rejected.begin(), summary.rejected.end(),
            [](const auto& a, const auto& b) { return a.line() < b.line(); });
  return summary;
}

}  // namespace perks::tools
