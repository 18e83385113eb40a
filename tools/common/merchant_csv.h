// Reads a file of approved merchants for import. Columns (any order, extra ones ignored):
//   tenant_id,name,credit_code,category,region,address,contact_name,contact_phone,
//   bank_name,account_name,account_number,offer
// A program has hundreds of merchants, so the whole file is read, and a malformed file is refused
// before anything is sent.
#ifndef PERKS_TOOLS_COMMON_MERCHANT_CSV_H_
#define PERKS_TOOLS_COMMON_MERCHANT_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "perks/v1/merchant.pb.h"

namespace perks::tools {

inline constexpr size_t kMerchantFileRowsMax = 100'000;

absl::StatusOr<std::vector<perks::v1::MerchantRow>> ReadMerchantCsv(const std::string& path);

// Synthetic merchant n of `tenant` (no real shop): a valid unified social credit code, a category
// from the ones promotions target, a masked-looking contact and a settlement account. The same n
// always gives the same merchant.
perks::v1::MerchantProfile SyntheticMerchant(int n, const std::string& tenant);

// The file ReadMerchantCsv reads, a line at a time (synthetic values need no quoting).
std::string MerchantCsvHeader();
std::string MerchantCsvLine(const perks::v1::MerchantProfile& p);

}  // namespace perks::tools

#endif  // PERKS_TOOLS_COMMON_MERCHANT_CSV_H_
