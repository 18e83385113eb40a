// perkgen: synthetic union members (no real people) as a member CSV, and with `perkgen merchants`
// synthetic partner merchants as a merchant CSV, for demos, tests and benchmarks. The same --seed
// and --count always give the same file.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "CLI/CLI.hpp"
#include "tools/common/member_gen.h"
#include "tools/common/merchant_csv.h"

namespace {

// The file to write, or standard output for "-"; null (after saying why) when it cannot be opened.
std::ostream* Open(const std::string& path, std::ofstream& file) {
  if (path == "-") return &std::cout;
  file.open(path, std::ios::trunc);
  if (!file) {
    std::cerr << "perkgen: cannot write " << path << "\n";
    return nullptr;
  }
  return &file;
}

int Finish(std::ostream& out) {
  out.flush();
  if (!out) {
    std::cerr << "perkgen: writing failed (disk full?)\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t count = 1000, seed = 1, start = 0;
  std::string out_path = "-";
  CLI::App app{"perkgen: write synthetic members as CSV (name,id_number,phone,org_code,tags)"};
  app.add_option("--count", count, "how many members")->capture_default_str();
  app.add_option("--seed", seed, "which synthetic population")->capture_default_str();
  app.add_option("--start", start, "index of the first member (to extend a file)")
      ->capture_default_str();
  app.add_option("--out", out_path, "file to write; - for standard output")->capture_default_str();
  auto* merchants = app.add_subcommand(
      "merchants", "write synthetic merchants as CSV for `perkctl merchants import` instead");
  std::string city = "bozhou";
  int merchant_count = 10;
  merchants->add_option("--city", city, "their city federation")->capture_default_str();
  merchants->add_option("--count", merchant_count, "how many merchants")->capture_default_str();
  merchants->add_option("--out", out_path, "file to write; - for standard output")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::ofstream file;
  if (merchants->parsed()) {
    std::ostream* out = Open(out_path, file);
    if (!out) return 1;
    *out << perks::tools::MerchantCsvHeader() << "\n";
    for (int n = 1; n <= merchant_count; ++n) {
      *out << perks::tools::MerchantCsvLine(perks::tools::SyntheticMerchant(n, city)) << "\n";
    }
    return Finish(*out);
  }
  if (start + count > perks::tools::MemberGenerator::kDistinctIds) {
    std::cerr << "perkgen: at most " << perks::tools::MemberGenerator::kDistinctIds
              << " distinct members per seed\n";
    return 2;
  }
  std::ostream* out = Open(out_path, file);
  if (!out) return 1;
  perks::tools::MemberGenerator gen(seed);
  *out << perks::tools::MemberCsvHeader() << "\n";
  for (uint64_t i = start; i < start + count; ++i) {
    *out << perks::tools::MemberCsvLine(gen.Row(i)) << "\n";
  }
  return Finish(*out);
}
