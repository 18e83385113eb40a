#include "tools/common/merchant_csv.h"

#include "tools/common/csv_file.h"

namespace perks::tools {

absl::StatusOr<std::vector<perks::v1::MerchantRow>> ReadMerchantCsv(const std::string& path) {
  auto csv = CsvFile<12>::Open(
      path, {"tenant_id", "name", "credit_code", "category", "region", "address", "contact_name",
             "contact_phone", "bank_name", "account_name", "account_number", "offer"});
  if (!csv.ok()) return csv.status();
  std::vector<perks::v1::MerchantRow> rows;
  CsvFile<12>::Row c;
  int64_t line = 0;
  for (;;) {
    auto more = (*csv)->Next(&c, &line);
    if (!more.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(more.status().message(), " — fix ", path,
                                                     " and import again; nothing was imported"));
    }
    if (!*more) return rows;
    if (rows.size() == kMerchantFileRowsMax) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " has over ", kMerchantFileRowsMax, " rows; split it"));
    }
    perks::v1::MerchantRow& row = rows.emplace_back();
    row.set_line(line);
    perks::v1::MerchantProfile* p = row.mutable_profile();
    p->set_tenant_id(c[0]);
    p->set_name(c[1]);
    p->set_credit_code(c[2]);
    p->set_category(c[3]);
    p->set_region(c[4]);
    p->set_address(c[5]);
    p->set_contact_name(c[6]);
    p->set_contact_phone(c[7]);
    p->mutable_settlement()->set_bank_name(c[8]);
    p->mutable_settlement()->set_account_name(c[9]);
    p->mutable_settlement()->set_account_number(c[10]);
    p->set_offer(c[11]);
  }
}

}  // namespace perks::tools
