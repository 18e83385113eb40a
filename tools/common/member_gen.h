// Synthetic members for demos, tests and benchmarks: no real people. Row i of seed s is always
// the same; ID numbers are unique across rows 0..(kDistinctIds-1) and carry valid check characters.
#ifndef PERKS_TOOLS_COMMON_MEMBER_GEN_H_
#define PERKS_TOOLS_COMMON_MEMBER_GEN_H_

#include <cstdint>
#include <string>
#include <vector>

namespace perks::tools {

struct SyntheticMember {
  std::string name;
  std::string id_number;
  std::string phone;
  std::string org_code;
  std::vector<std::string> tags;
};

class MemberGenerator {
 public:
  static constexpr uint64_t kDistinctIds = 100'000'000;
  explicit MemberGenerator(uint64_t seed) : seed_(seed) {}
  // REQUIRES: index < kDistinctIds.
  SyntheticMember Row(uint64_t index) const;

 private:
  uint64_t seed_;
};

// "name,id_number,phone,org_code,tags" and its CSV row (tags joined with ';').
std::string MemberCsvHeader();
std::string MemberCsvLine(const SyntheticMember& m);

}  // namespace perks::tools

#endif  // PERKS_TOOLS_COMMON_MEMBER_GEN_H_
