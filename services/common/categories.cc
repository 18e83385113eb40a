#include "services/common/categories.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace perks {

const std::vector<Category>& Categories() {
  static const std::vector<Category> kAll = {
      {"supermarket", "超市"}, {"convenience", "便利店"}, {"dining", "餐饮"},
      {"fuel", "加油站"},      {"pharmacy", "药店"},      {"medical", "医疗机构"},
      {"retail", "百货零售"},  {"appliances", "家电"},    {"farm_produce", "农产品"},
      {"bus", "公交"},         {"metro", "地铁"},         {"taxi", "出租车"},
      {"hotel", "酒店住宿"},   {"tourism", "旅游景区"},   {"culture", "文化娱乐"},
      {"sports", "体育健身"},  {"education", "教育培训"}, {"services", "生活服务"},
      {"telecom", "通信"},     {"auto", "汽车服务"},
  };
  return kAll;
}

bool IsCategory(std::string_view id) {
  for (const Category& c : Categories()) {
    if (id == c.id) return true;
  }
  return false;
}

absl::Status CheckCategory(std::string_view field, std::string_view id) {
  if (IsCategory(id)) return absl::OkStatus();
  std::string known;
  for (const Category& c : Categories()) {
    absl::StrAppend(&known, known.empty() ? "" : ", ", c.id);
  }
  return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": unknown category \"",
                                                 std::string(id), "\"; the categories are ",
                                                 known));
}

}  // namespace perks
