#include "tools/common/member_csv.h"

#include <filesystem>

#define CSV_IO_NO_THREAD
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#include "libfccp/csv.h"
#pragma GCC diagnostic pop

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace perks::tools {

using Csv = io::CSVReader<5, io::trim_chars<' ', '\t'>, io::double_quote_escape<',', '"'>,
                          io::throw_on_overflow, io::no_comment>;

struct MemberCsvReader::Impl {
  std::unique_ptr<Csv> csv;
};

MemberCsvReader::MemberCsvReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MemberCsvReader::~MemberCsvReader() = default;

absl::StatusOr<std::unique_ptr<MemberCsvReader>> MemberCsvReader::Open(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    return absl::NotFoundError(absl::StrCat("no file ", path));
  }
  auto impl = std::make_unique<Impl>();
  try {
    impl->csv = std::make_unique<Csv>(path);
    impl->csv->read_header(io::ignore_extra_column, "name", "id_number", "phone", "org_code",
                           "tags");
  } catch (const io::error::base& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        e.what(), ". The first line must name the columns name,id_number,phone,org_code,tags"));
  }
  return std::unique_ptr<MemberCsvReader>(new MemberCsvReader(std::move(impl)));
}

absl::StatusOr<std::optional<perks::v1::MemberRow>> MemberCsvReader::Next() {
  std::string name, id_number, phone, org_code, tags;
  try {
    if (!impl_->csv->read_row(name, id_number, phone, org_code, tags)) {
      return std::optional<perks::v1::MemberRow>();
    }
  } catch (const io::error::base& e) {
    return absl::InvalidArgumentError(e.what());
  }
  perks::v1::MemberRow row;
  row.set_line(impl_->csv->get_file_line());
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
