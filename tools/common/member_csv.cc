#include "tools/common/member_csv.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/common/csv_file.h"

namespace perks::tools {

struct MemberCsvReader::Impl {
  std::unique_ptr<CsvFile<5>> csv;
};

MemberCsvReader::MemberCsvReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MemberCsvReader::~MemberCsvReader() = default;

absl::StatusOr<std::unique_ptr<MemberCsvReader>> MemberCsvReader::Open(const std::string& path) {
  auto csv = CsvFile<5>::Open(path, {"name", "id_number", "phone", "org_code", "tags"});
  if (!csv.ok()) return csv.status();
  auto impl = std::make_unique<Impl>();
  impl->csv = std::move(*csv);
  return std::unique_ptr<MemberCsvReader>(new MemberCsvReader(std::move(impl)));
}

absl::StatusOr<std::optional<perks::v1::MemberRow>> MemberCsvReader::Next() {
  CsvFile<5>::Row cells;
  int64_t line = 0;
  auto more = impl_->csv->Next(&cells, &line);
  if (!more.ok()) return more.status();
  if (!*more) return std::optional<perks::v1::MemberRow>();
  auto& [name, id_number, phone, org_code, tags] = cells;
  perks::v1::MemberRow row;
  row.set_line(line);
  row.set_name(std::move(name));
  row.set_id_number(std::move(id_number));
  row.set_phone(std::move(phone));
  row.set_org_code(std::move(org_code));
  for (auto t : absl::StrSplit(tags, ';', absl::SkipWhitespace())) row.add_tags(std::string(t));
  return std::optional<perks::v1::MemberRow>(std::move(row));
}

absl::StatusOr<int64_t> CheckMemberCsv(const std::string& path) {
  auto reader = MemberCsvReader::Open(path);
  if (!reader.ok()) return reader.status();
  int64_t rows = 0;
  for (;;) {
    auto row = (*reader)->Next();
    if (!row.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(row.status().message(), " — fix ", path,
                                                     " and import again; nothing was imported"));
    }
    if (!row->has_value()) return rows;
    ++rows;
  }
}

}  // namespace perks::tools
