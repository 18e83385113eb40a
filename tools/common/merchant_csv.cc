#include "tools/common/merchant_csv.h"

#include "absl/strings/str_join.h"
#include "services/merchant/domain/merchant_rules.h"
#include "tools/common/csv_file.h"

namespace perks::tools {

namespace {
constexpr const char* kColumns[] = {"tenant_id", "name",         "credit_code",    "category",
                                    "region",    "address",      "contact_name",   "contact_phone",
                                    "bank_name", "account_name", "account_number", "offer"};
}  // namespace

absl::StatusOr<std::vector<perks::v1::MerchantRow>> ReadMerchantCsv(const std::string& path) {
  auto csv = CsvFile<12>::Open(
      path, {kColumns[0], kColumns[1], kColumns[2], kColumns[3], kColumns[4], kColumns[5],
             kColumns[6], kColumns[7], kColumns[8], kColumns[9], kColumns[10], kColumns[11]});
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

perks::v1::MerchantProfile SyntheticMerchant(int n, const std::string& tenant) {
  static constexpr const char* kKinds[][3] = {{"supermarket", "超市", "会员满100减10"},
                                              {"fuel", "加油站", "会员每升优惠0.3元"},
                                              {"dining", "饭店", "会员每日九折"},
                                              {"pharmacy", "大药房", "会员每日九五折"},
                                              {"retail", "百货", "会员满200减20"}};
  const auto& kind = kKinds[n % 5];
  std::string digits = std::to_string(n);
  std::string first17 =
      "9134128" + std::string(10 - std::min<size_t>(10, digits.size()), '0') + digits.substr(0, 10);
  std::string name = absl::StrCat("惠民", kind[1], n, "号店");
  perks::v1::MerchantProfile p;
  p.set_tenant_id(tenant);
  p.set_name(name);
  p.set_credit_code(first17 + merchant::CreditCodeCheckCharacter(first17));
  p.set_category(kind[0]);
  p.set_region(tenant);
  p.set_address(absl::StrCat("人民路 ", n, " 号"));
  p.set_contact_name("王经理");
  p.set_contact_phone(absl::StrCat("139", 10000000 + n % 90000000));
  p.mutable_settlement()->set_bank_name("徽商银行");
  p.mutable_settlement()->set_account_name(name);
  p.mutable_settlement()->set_account_number(absl::StrCat("62170000", 10000000 + n % 90000000));
  p.set_offer(kind[2]);
  return p;
}

std::string MerchantCsvHeader() { return absl::StrJoin(kColumns, ","); }

std::string MerchantCsvLine(const perks::v1::MerchantProfile& p) {
  return absl::StrJoin(
      {p.tenant_id(), p.name(), p.credit_code(), p.category(), p.region(), p.address(),
       p.contact_name(), p.contact_phone(), p.settlement().bank_name(),
       p.settlement().account_name(), p.settlement().account_number(), p.offer()},
      ",");
}

}  // namespace perks::tools
