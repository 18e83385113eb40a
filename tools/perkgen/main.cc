// perkgen: synthetic union members (no real people) as a member CSV, for demos, tests and
// benchmarks. The same --seed and --count always give the same file.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "CLI/CLI.hpp"
#include "tools/common/member_gen.h"

int main(int argc, char** argv) {
  uint64_t count = 1000, seed = 1, start = 0;
  std::string out_path = "-";
  CLI::App app{"perkgen: write synthetic members as CSV (name,id_number,phone,org_code,tags)"};
  app.add_option("--count", count, "how many members")->capture_default_str();
  app.add_option("--seed", seed, "which synthetic population")->capture_default_str();
  app.add_option("--start", start, "index of the first member (to extend a file)")
      ->capture_default_str();
  app.add_option("--out", out_path, "file to write; - for standard output")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (start + count > perks::tools::MemberGenerator::kDistinctIds) {
    std::cerr << "perkgen: at most " << perks::tools::MemberGenerator::kDistinctIds
              << " distinct members per seed\n";
    return 2;
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (out_path != "-") {
    file.open(out_path, std::ios::trunc);
    if (!file) {
      std::cerr << "perkgen: cannot write " << out_path << "\n";
      return 1;
    }
    out = &file;
  }
  perks::tools::MemberGenerator gen(seed);
  *out << perks::tools::MemberCsvHeader() << "\n";
  for (uint64_t i = start; i < start + count; ++i) {
    *out << perks::tools::MemberCsvLine(gen.Row(i)) << "\n";
  }
  out->flush();
  if (!*out) {
    std::cerr << "perkgen: writing failed (disk full?)\n";
    return 1;
  }
  return 0;
}
