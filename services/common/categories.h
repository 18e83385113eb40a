// The merchant categories the product knows: one vocabulary for merchants (what they sell) and
// campaigns (where a discount applies), so that a campaign cannot name a category no merchant can
// ever have. A new category is a change here, reviewed like any other.
#ifndef PERKS_SERVICES_COMMON_CATEGORIES_H_
#define PERKS_SERVICES_COMMON_CATEGORIES_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace perks {

struct Category {
  const char* id;    // what files and requests say: "supermarket"
  const char* name;  // what a union admin or a cashier reads: "超市"
};

const std::vector<Category>& Categories();
bool IsCategory(std::string_view id);
// INVALID_ARGUMENT naming `field` and listing the known ids when `id` is not one of them.
absl::Status CheckCategory(std::string_view field, std::string_view id);

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_CATEGORIES_H_
