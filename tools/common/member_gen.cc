#include "tools/common/member_gen.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/common/personal.h"

namespace perks::tools {
namespace {

// Region codes of Anhui cities and counties (administrative division codes, public).
constexpr std::array<const char*, 20> kRegions = {"340102", "340103", "340104", "340111", "340121",
                                                  "340202", "340302", "340402", "340502", "340602",
                                                  "340702", "340802", "341002", "341102", "341202",
                                                  "341282", "341302", "341502", "341602", "341621"};
constexpr std::array<const char*, 24> kSurnames = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                                   "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
                                                   "何", "高", "林", "罗", "郑", "梁", "谢", "宋"};
constexpr std::array<const char*, 32> kGiven = {
    "伟",   "芳", "娜", "敏", "静",   "丽",   "强",   "磊",   "军",   "洋",  "勇",
    "艳",   "杰", "娟", "涛", "明",   "超",   "秀英", "霞",   "平",   "刚",  "桂英",
    "建华", "文", "华", "红", "建国", "玉兰", "志强", "海燕", "春梅", "德明"};
constexpr std::array<const char*, 8> kOrgs = {"AH-BZ-001", "AH-BZ-017", "AH-AQ-003",  "AH-AQ-120",
                                              "AH-FY-009", "AH-FY-044", "AH-MAS-002", "AH-MAS-031"};
constexpr uint64_t kDays = 14'600;  // birth dates over 40 years from 1965-01-01
constexpr uint64_t kSerials = 1000;
static_assert(kRegions.size() * kDays * kSerials > MemberGenerator::kDistinctIds);

// SplitMix64: a fixed, portable mixer, so a seed gives the same file on every machine.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Days since 1965-01-01 to a civil date (Howard Hinnant's algorithm).
void CivilFromDays(int64_t z, int* y, int* m, int* d) {
  z = z - 1826 + 719468;  // 1965-01-01 is 1,826 days before 1970-01-01
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t year = static_cast<int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(year + (*m <= 2));
}

}  // namespace

SyntheticMember MemberGenerator::Row(uint64_t index) const {
  // A bijection of the index onto (region, day, serial) keeps ID numbers unique: a multiplier
  // coprime with the space size permutes it.
  constexpr uint64_t kSpace = kRegions.size() * kDays * kSerials;
  constexpr uint64_t kStride = 2'654'435'761ULL;  // coprime with 2^8 * 5^6 * 73 = kSpace
  uint64_t slot = (index * kStride + (seed_ % kSpace)) % kSpace;
  uint64_t serial = slot % kSerials;
  uint64_t day = (slot / kSerials) % kDays;
  uint64_t region = slot / kSerials / kDays;
  int y, m, d;
  CivilFromDays(static_cast<int64_t>(day), &y, &m, &d);
  std::string first17 = absl::StrFormat("%s%04d%02d%02d%03d", kRegions[region], y, m, d, serial);

  uint64_t r = Mix(seed_ ^ Mix(index));
  SyntheticMember out;
  out.id_number = first17 + IdCheckCharacter(first17);
  out.name = absl::StrCat(kSurnames[r % kSurnames.size()], kGiven[(r >> 8) % kGiven.size()]);
  out.phone = absl::StrFormat("1%d%09d", 3 + (r >> 16) % 7, (r >> 20) % 1'000'000'000);
  out.org_code = kOrgs[(r >> 52) % kOrgs.size()];
  uint64_t t = (r >> 40) % 1000;
  if (t < 15) out.tags.push_back("model_worker");                // 1.5%
  if (t >= 15 && t < 40) out.tags.push_back("needy_household");  // 2.5%
  if (t % 10 == 7) out.tags.push_back("transit");
  return out;
}

std::string MemberCsvHeader() { return "name,id_number,phone,org_code,tags"; }

std::string MemberCsvLine(const SyntheticMember& m) {
  return absl::StrCat(m.name, ",", m.id_number, ",", m.phone, ",", m.org_code, ",",
                      absl::StrJoin(m.tags, ";"));
}

}  // namespace perks::tools
