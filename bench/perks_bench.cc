// perks-bench: the card service's figures, measured against a real perkd process over gRPC.
//   1. import N synthetic members with their cards through the same path perkctl uses
//      (rows/s, and perkd's peak memory as the import goes: it should not grow with the file);
//   2. card lookups at C concurrent clients, each on its own connection (lookups/s, p50/p99).
// Prints a report for people and one JSON line (also to --out) for the record.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "perks/v1/card.grpc.pb.h"
#include "storage/test_dir.h"
#include "tests/support/child_server.h"
#include "tools/common/client.h"
#include "tools/common/importer.h"
#include "tools/common/member_gen.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

int64_t Percentile(std::vector<int64_t>& sorted_ns, double p) {
  if (sorted_ns.empty()) return 0;
  size_t rank = static_cast<size_t>(p * static_cast<double>(sorted_ns.size()));  // nearest rank
  return sorted_ns[std::min(rank, sorted_ns.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t members = 1'000'000;
  int clients = 8;
  double lookup_seconds = 10;
  int parallel = 4;
  std::string perkd = PERKD_PATH;
  std::string out_path;
  std::string work_dir;
  CLI::App app{"perks-bench: import and lookup figures of the card service"};
  app.add_option("--members", members, "members to import (each gets a card)")
      ->capture_default_str();
  app.add_option("--clients", clients, "concurrent lookup clients")->capture_default_str();
  app.add_option("--lookup-seconds", lookup_seconds, "how long to run lookups")
      ->capture_default_str();
  app.add_option("--parallel", parallel, "import calls in flight")->capture_default_str();
  app.add_option("--perkd", perkd, "the perkd binary")->capture_default_str();
  app.add_option("--out", out_path, "also write the JSON line here");
  app.add_option("--work-dir", work_dir, "where to put the CSV and data (default: a temp dir)");
  CLI11_PARSE(app, argc, argv);

  perks::storage::TestDir temp;
  std::string dir = work_dir.empty() ? temp.path() : work_dir;
  std::string csv = dir + "/members.csv";
  std::cerr << "writing " << members << " synthetic members to " << csv << "\n";
  {
    std::ofstream out(csv);
    perks::tools::MemberGenerator gen(20261124);
    out << perks::tools::MemberCsvHeader() << "\n";
    for (int64_t i = 0; i < members; ++i) out << perks::tools::MemberCsvLine(gen.Row(i)) << "\n";
  }
  auto server = perks::testing::ChildServer::Start(perkd, dir + "/data", dir + "/perkd.log");
  if (!server.ok()) {
    std::cerr << server.status() << "\n";
    return 1;
  }
  auto channel = perks::tools::MakeChannel(server->address());
  auto stub = perks::v1::CardService::NewStub(channel);
  {
    perks::v1::CreateProgramRequest req;
    req.set_request_id("bench-program");
    req.mutable_program()->set_program_id("bench");
    req.mutable_program()->set_name("bench card");
    req.mutable_program()->set_bin_prefix("623668");
    req.mutable_program()->set_card_number_length(19);
    perks::v1::Program resp;
    auto ctx = perks::tools::MakeContext("bench", absl::Seconds(30));
    grpc::Status s = stub->CreateProgram(ctx.get(), req, &resp);
    if (!s.ok()) {
      std::cerr << "create program: " << s.error_message() << "\n";
      return 1;
    }
  }

  // 1. Import.
  perks::tools::ImportOptions options;
  options.path = csv;
  options.issue_program_id = "bench";
  options.batch_id = "bench-batch";
  options.actor = "bench";
  options.calls_in_flight = parallel;
  std::vector<std::pair<int64_t, int64_t>> rss_by_rows;  // (rows done, perkd VmHWM)
  int last_decile = 0;
  auto import_start = Clock::now();
  auto summary =
      perks::tools::ImportMemberFile(stub.get(), options, [&](int64_t done, int64_t total) {
        int decile = static_cast<int>(done * 10 / total);
        if (decile > last_decile) {
          last_decile = decile;
          int64_t rss = server->PeakRssBytes();
          rss_by_rows.emplace_back(done, rss);
          double s = std::chrono::duration<double>(Clock::now() - import_start).count();
          std::cerr << absl::StrFormat("  %3d%%  %8d rows  %7.0f rows/s  perkd peak %5.0f MiB\n",
                                       decile * 10, done, static_cast<double>(done) / s,
                                       static_cast<double>(rss) / (1 << 20));
        }
      });
  double import_s = std::chrono::duration<double>(Clock::now() - import_start).count();
  if (!summary.ok()) {
    std::cerr << "import: " << summary.status() << "\n";
    return 1;
  }
  double rows_per_s = static_cast<double>(summary->rows) / import_s;

  // Card numbers to look up: the whole batch (read back the way a card printer would).
  std::vector<std::string> numbers;
  perks::v1::ExportCardsRequest ex;
  ex.set_batch_id("bench-batch");
  for (;;) {
    perks::v1::ExportCardsResponse page;
    auto ctx = perks::tools::MakeContext("bench", absl::Seconds(30));
    if (!stub->ExportCards(ctx.get(), ex, &page).ok()) break;
    for (const auto& c : page.cards()) numbers.push_back(c.card_number());
    if (page.next_page_token().empty()) break;
    ex.set_page_token(page.next_page_token());
  }

  // 2. Lookups: C clients, each on its own connection with one call outstanding at a time (a
  // closed loop), driven from one completion queue so the load generator itself stays light on a
  // machine it shares with perkd.
  struct Call {
    int client = 0;
    grpc::ClientContext ctx;
    perks::v1::LookupCardRequest req;
    perks::v1::Card resp;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<perks::v1::Card>> rpc;
    Clock::time_point started;
  };
  std::vector<std::unique_ptr<perks::v1::CardService::Stub>> stubs;
  for (int c = 0; c < clients; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
    stubs.push_back(perks::v1::CardService::NewStub(
        grpc::CreateCustomChannel(server->address(), grpc::InsecureChannelCredentials(), args)));
  }
  grpc::CompletionQueue cq;
  std::mt19937_64 rng(1);
  auto issue = [&](int client) {
    auto* call = new Call;
    call->client = client;
    call->req.mutable_card()->set_card_number(numbers[rng() % numbers.size()]);
    call->started = Clock::now();
    call->rpc = stubs[client]->PrepareAsyncLookupCard(&call->ctx, call->req, &cq);
    call->rpc->StartCall();
    call->rpc->Finish(&call->resp, &call->status, call);
  };
  std::vector<int64_t> all;
  all.reserve(static_cast<size_t>(lookup_seconds * 50'000));
  int64_t errors = 0;
  auto lookup_start = Clock::now();
  auto lookup_end = lookup_start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(lookup_seconds));
  for (int c = 0; c < clients; ++c) issue(c);
  int outstanding = clients;
  void* tag = nullptr;
  bool ok = false;
  while (outstanding > 0 && cq.Next(&tag, &ok)) {
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    auto now = Clock::now();
    if (ok && call->status.ok()) {
      all.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - call->started).count());
    } else {
      ++errors;
    }
    if (now < lookup_end) {
      issue(call->client);
    } else {
      --outstanding;
    }
  }
  double lookup_s = std::chrono::duration<double>(Clock::now() - lookup_start).count();
  std::sort(all.begin(), all.end());
  double lookups_per_s = static_cast<double>(all.size()) / lookup_s;
  int64_t perkd_peak = server->PeakRssBytes();
  server->Terminate();

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::ordered_json j;
  j["machine"] = {{"cpu", CpuModel()},
                  {"cores", std::thread::hardware_concurrency()},
                  {"memory_gib", sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGE_SIZE) >> 30}};
  j["import"] = {{"members", summary->rows},
                 {"cards_issued", summary->cards_issued},
                 {"seconds", import_s},
                 {"rows_per_s", rows_per_s},
                 {"perkd_peak_rss_mib_by_decile", nlohmann::json::array()},
                 {"client_peak_rss_mib", usage.ru_maxrss / 1024}};
  for (auto& [rows, rss] : rss_by_rows) {
    j["import"]["perkd_peak_rss_mib_by_decile"].push_back({{"rows", rows}, {"mib", rss >> 20}});
  }
  j["lookup"] = {{"clients", clients},
                 {"seconds", lookup_s},
                 {"lookups", all.size()},
                 {"errors", errors},
                 {"lookups_per_s", lookups_per_s},
                 {"p50_us", Percentile(all, 0.50) / 1000.0},
                 {"p99_us", Percentile(all, 0.99) / 1000.0},
                 {"max_us", all.empty() ? 0.0 : all.back() / 1000.0}};
  j["perkd_peak_rss_mib"] = perkd_peak >> 20;

  std::cout << absl::StrFormat(
      "machine: %s, %d cores\n"
      "import:  %d members with cards in %.1f s = %.0f rows/s; perkd peak memory %d MiB\n"
      "lookup:  %d clients, %.0f lookups/s, p50 %.0f us, p99 %.0f us, %d errors\n",
      CpuModel(), std::thread::hardware_concurrency(), summary->rows, import_s, rows_per_s,
      perkd_peak >> 20, clients, lookups_per_s, Percentile(all, 0.50) / 1000.0,
      Percentile(all, 0.99) / 1000.0, errors);
  std::cout << j.dump() << "\n";
  if (!out_path.empty()) std::ofstream(out_path) << j.dump() << "\n";
  return 0;
}
