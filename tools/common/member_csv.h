// Reads a member file: CSV with a header naming the columns
//   name,id_number,phone,org_code,tags
// in any order (extra columns are ignored), tags separated by ';'. Quoted fields may hold commas.
#ifndef PERKS_TOOLS_COMMON_MEMBER_CSV_H_
#define PERKS_TOOLS_COMMON_MEMBER_CSV_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "perks/v1/card.pb.h"

namespace perks::tools {

class MemberCsvReader {
 public:
  // INVALID_ARGUMENT when the file is missing its header or columns, NOT_FOUND when absent.
  static absl::StatusOr<std::unique_ptr<MemberCsvReader>> Open(const std::string& path);
  ~MemberCsvReader();

  // The next row with its file line number; nullopt at the end. A malformed line (a stray quote,
  // a line too long) is INVALID_ARGUMENT naming the line.
  absl::StatusOr<std::optional<perks::v1::MemberRow>> Next();

  struct Impl;

 private:
  explicit MemberCsvReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads the whole file once to check its shape, so a malformed file is refused before anything
// is sent. Returns the number of data rows.
absl::StatusOr<int64_t> CheckMemberCsv(const std::string& path);

}  // namespace perks::tools

#endif  // PERKS_TOOLS_COMMON_MEMBER_CSV_H_
