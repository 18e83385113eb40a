// Imports a member file through the card service: checks the whole file's shape first (a malformed
// file sends nothing), then sends it in calls of up to 1,000 rows, a few in flight at once. Memory
// holds only the calls in flight, whatever the file's size. Each call has its own request id and is
// retried with that id when the answer is lost, so a retry never counts twice.
#ifndef PERKS_TOOLS_COMMON_IMPORTER_H_
#define PERKS_TOOLS_COMMON_IMPORTER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "perks/v1/card.grpc.pb.h"

namespace perks::tools {

struct ImportOptions {
  std::string path;
  std::string issue_program_id;  // empty: members only
  std::string batch_id;          // empty: one is made for this run
  std::string tenant_id;         // the city the members belong to
  std::string token;             // API token, if the server asks for one
  int rows_per_call = 1000;
  int calls_in_flight = 4;
  int attempts_max = 5;  // per call, for answers lost on the way
};

struct ImportSummary {
  int64_t rows = 0;
  int64_t created = 0;
  int64_t updated = 0;
  int64_t unchanged = 0;
  int64_t cards_issued = 0;
  std::string batch_id;
  std::vector<perks::v1::RowRejection> rejected;  // in line order
};

// progress(rows_done, rows_total) is called after each call returns, from the importing threads
// one at a time.
using ImportProgress = std::function<void(int64_t done, int64_t total)>;

absl::StatusOr<ImportSummary> ImportMemberFile(perks::v1::CardService::StubInterface* stub,
                                               const ImportOptions& options,
                                               const ImportProgress& progress);

}  // namespace perks::tools

#endif  // PERKS_TOOLS_COMMON_IMPORTER_H_
