// A CSV file read row by row, with named columns that may come in any order (extra columns are
// ignored), quoted fields, and line numbers for every row and every error. Memory holds one row,
// whatever the file's size.
#ifndef PERKS_TOOLS_COMMON_CSV_FILE_H_
#define PERKS_TOOLS_COMMON_CSV_FILE_H_

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#define CSV_IO_NO_THREAD
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#include "libfccp/csv.h"
#pragma GCC diagnostic pop

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace perks::tools {

template <size_t N>
class CsvFile {
 public:
  using Row = std::array<std::string, N>;

  // NOT_FOUND when absent; INVALID_ARGUMENT when the header lacks one of `columns`.
  static absl::StatusOr<std::unique_ptr<CsvFile>> Open(const std::string& path,
                                                       const std::array<std::string, N>& columns) {
    if (!std::filesystem::is_regular_file(path)) {
      return absl::NotFoundError(absl::StrCat("no file ", path));
    }
    std::unique_ptr<CsvFile> f(new CsvFile());
    try {
      f->csv_ = std::make_unique<Reader>(path);
      std::apply([&](const auto&... c) { f->csv_->read_header(io::ignore_extra_column, c...); },
                 columns);
    } catch (const io::error::base& e) {
      return absl::InvalidArgumentError(absl::StrCat(
          e.what(), ". The first line must name the columns ", absl::StrJoin(columns, ",")));
    }
    return f;
  }

  // The next row and its line number; false at the end. INVALID_ARGUMENT names a malformed line.
  absl::StatusOr<bool> Next(Row* row, int64_t* line) {
    try {
      bool more = std::apply([&](auto&... cells) { return csv_->read_row(cells...); }, *row);
      *line = csv_->get_file_line();
      return more;
    } catch (const io::error::base& e) {
      return absl::InvalidArgumentError(e.what());
    }
  }

 private:
  using Reader = io::CSVReader<N, io::trim_chars<' ', '\t'>, io::double_quote_escape<',', '"'>,
                               io::throw_on_overflow, io::no_comment>;
  CsvFile() = default;
  std::unique_ptr<Reader> csv_;
};

}  // namespace perks::tools

#endif  // PERKS_TOOLS_COMMON_CSV_FILE_H_
