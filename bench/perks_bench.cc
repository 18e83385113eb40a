// perks-bench: the card service's figures, measured against a real perkd process over gRPC.
//   1. import N synthetic members with their cards through the same path perkctl uses
//      (rows/s, and perkd's peak memory as the import goes: it should not grow with the file);
//   2. card lookups at C concurrent clients, each on its own connection (lookups/s, p50/p99),
//      in alternating rounds: calls carrying an API token, and calls signed by POS terminals
//      (HMAC-SHA256 over each request, a fresh nonce each), so both see the same machine.
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
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/merchant.grpc.pb.h"
#include "storage/test_dir.h"
#include "tests/support/child_server.h"
#include "tools/common/client.h"
#include "tools/common/importer.h"
#include "tools/common/member_gen.h"
#include "tools/common/merchant_csv.h"

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

constexpr char kLookupMethod[] = "/perks.v1.CardService/LookupCard";

// How a lookup client proves who it is: an API token, or a terminal's signature.
struct Credentials {
  std::string token;                                     // when not signing
  std::vector<perks::tools::TerminalCredentials> tills;  // one per client when signing
};

struct LookupRound {
  std::vector<int64_t> latencies_ns;  // of successful calls
  int64_t errors = 0;
  std::string first_error;
  double seconds = 0;
};

// C clients, each on its own connection with one call outstanding at a time (a closed loop),
// driven from one completion queue so the load generator stays light on a machine it shares with
// perkd.
LookupRound RunLookups(const std::vector<std::unique_ptr<perks::v1::CardService::Stub>>& stubs,
                       const std::vector<std::string>& numbers, double seconds,
                       const Credentials& creds, std::mt19937_64& rng) {
  struct Call {
    int client = 0;
    grpc::ClientContext ctx;
    perks::v1::LookupCardRequest req;
    perks::v1::Card resp;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<perks::v1::Card>> rpc;
    Clock::time_point started;
  };
  grpc::CompletionQueue cq;
  auto issue = [&](int client) {
    auto* call = new Call;
    call->client = client;
    call->req.mutable_card()->set_card_number(numbers[rng() % numbers.size()]);
    if (creds.tills.empty()) {
      call->ctx.AddMetadata("authorization", "Bearer " + creds.token);
    } else {
      perks::tools::SignAsTerminal(call->ctx, creds.tills[client], kLookupMethod, call->req,
                                   absl::Now());
    }
    call->started = Clock::now();
    call->rpc = stubs[client]->PrepareAsyncLookupCard(&call->ctx, call->req, &cq);
    call->rpc->StartCall();
    call->rpc->Finish(&call->resp, &call->status, call);
  };
  LookupRound round;
  round.latencies_ns.reserve(static_cast<size_t>(seconds * 50'000));
  auto start = Clock::now();
  auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  int clients = static_cast<int>(stubs.size());
  for (int c = 0; c < clients; ++c) issue(c);
  int outstanding = clients;
  void* tag = nullptr;
  bool ok = false;
  while (outstanding > 0 && cq.Next(&tag, &ok)) {
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    auto now = Clock::now();
    if (ok && call->status.ok()) {
      round.latencies_ns.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - call->started).count());
    } else {
      if (round.errors++ == 0) round.first_error = call->status.error_message();
    }
    if (now < end) {
      issue(call->client);
    } else {
      --outstanding;
    }
  }
  round.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return round;
}

// Onboards one merchant in `tenant` and registers `count` tills at its store, as `token`.
absl::StatusOr<std::vector<perks::tools::TerminalCredentials>> RegisterTills(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& tenant,
    const std::string& token, int count) {
  auto stub = perks::v1::MerchantService::NewStub(channel);
  auto call = [&](auto method, const auto& req, auto* resp) -> absl::Status {
    auto ctx = perks::tools::MakeContext(absl::Seconds(30), token);
    grpc::Status s = ((*stub).*method)(ctx.get(), req, resp);
    return s.ok() ? absl::OkStatus() : absl::UnknownError(s.error_message());
  };
  perks::v1::SubmitApplicationRequest submit;
  submit.set_request_id("bench-apply");
  *submit.mutable_profile() = perks::tools::SyntheticMerchant(1, tenant);
  perks::v1::Application app;
  if (auto s = call(&perks::v1::MerchantService::Stub::SubmitApplication, submit, &app); !s.ok()) {
    return s;
  }
  perks::v1::ReviewApplicationRequest review;
  review.set_request_id("bench-approve");
  review.set_application_id(app.application_id());
  review.set_decision(perks::v1::REVIEW_DECISION_APPROVE);
  if (auto s = call(&perks::v1::MerchantService::Stub::ReviewApplication, review, &app); !s.ok()) {
    return s;
  }
  perks::v1::GetMerchantRequest get;
  get.set_merchant_id(app.merchant_id());
  perks::v1::Merchant merchant;
  if (auto s = call(&perks::v1::MerchantService::Stub::GetMerchant, get, &merchant); !s.ok()) {
    return s;
  }
  std::vector<perks::tools::TerminalCredentials> tills;
  for (int i = 0; i < count; ++i) {
    perks::v1::RegisterTerminalRequest reg;
    reg.set_request_id("bench-till-" + std::to_string(i));
    reg.set_store_id(merchant.stores(0).store_id());
    reg.set_label("till " + std::to_string(i + 1));
    perks::v1::TerminalCredential cred;
    if (auto s = call(&perks::v1::MerchantService::Stub::RegisterTerminal, reg, &cred); !s.ok()) {
      return s;
    }
    tills.push_back({cred.terminal().terminal_id(), cred.secret()});
  }
  return tills;
}

nlohmann::ordered_json Summary(std::vector<int64_t> all, double seconds, int64_t errors) {
  std::sort(all.begin(), all.end());
  return {{"seconds", seconds},
          {"lookups", all.size()},
          {"errors", errors},
          {"lookups_per_s", static_cast<double>(all.size()) / seconds},
          {"p50_us", Percentile(all, 0.50) / 1000.0},
          {"p99_us", Percentile(all, 0.99) / 1000.0},
          {"max_us", all.empty() ? 0.0 : all.back() / 1000.0}};
}

}  // namespace

int main(int argc, char** argv) {
  int64_t members = 1'000'000;
  int clients = 8;
  double lookup_seconds = 10;
  int rounds = 3;
  int parallel = 4;
  std::string perkd = PERKD_PATH;
  std::string out_path;
  std::string work_dir;
  // The load generator shares the cores with perkd; like perkd, it skips lock-graph checks.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"perks-bench: import and lookup figures of the card service"};
  app.add_option("--members", members, "members to import (each gets a card)")
      ->capture_default_str();
  app.add_option("--clients", clients, "concurrent lookup clients")->capture_default_str();
  app.add_option("--lookup-seconds", lookup_seconds,
                 "how long to run lookups of each kind (token, signed)")
      ->capture_default_str();
  app.add_option("--rounds", rounds, "alternating rounds of each kind")->capture_default_str();
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
  const std::string token = server->bootstrap_token();  // the installation admin's
  auto channel = perks::tools::MakeChannel(server->address());
  auto stub = perks::v1::CardService::NewStub(channel);
  {
    perks::v1::CreateProgramRequest req;
    req.set_request_id("bench-program");
    req.mutable_program()->set_program_id("bench");
    req.mutable_program()->set_tenant_id("bozhou");
    req.mutable_program()->set_name("bench card");
    req.mutable_program()->set_bin_prefix("623668");
    req.mutable_program()->set_card_number_length(19);
    perks::v1::Program resp;
    auto ctx = perks::tools::MakeContext(absl::Seconds(30), token);
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
  options.tenant_id = "bozhou";
  options.token = token;
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
    auto ctx = perks::tools::MakeContext(absl::Seconds(30), token);
    if (!stub->ExportCards(ctx.get(), ex, &page).ok()) break;
    for (const auto& c : page.cards()) numbers.push_back(c.card_number());
    if (page.next_page_token().empty()) break;
    ex.set_page_token(page.next_page_token());
  }

  // 2. Lookups, token and signed in alternating rounds.
  auto tills = RegisterTills(channel, "bozhou", token, clients);
  if (!tills.ok()) {
    std::cerr << "registering tills: " << tills.status() << "\n";
    return 1;
  }
  std::vector<std::unique_ptr<perks::v1::CardService::Stub>> stubs;
  for (int c = 0; c < clients; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
    stubs.push_back(perks::v1::CardService::NewStub(
        grpc::CreateCustomChannel(server->address(), grpc::InsecureChannelCredentials(), args)));
  }
  const Credentials by_token{token, {}}, by_signature{"", *tills};
  std::mt19937_64 rng(1);
  struct Kind {
    const char* name;
    const Credentials* creds;
    std::vector<int64_t> all;
    double seconds = 0;
    int64_t errors = 0;
    std::vector<double> per_round;
  } kinds[] = {{"token", &by_token, {}, 0, 0, {}}, {"signed", &by_signature, {}, 0, 0, {}}};
  for (int r = 0; r < rounds; ++r) {
    for (Kind& k : kinds) {
      LookupRound round = RunLookups(stubs, numbers, lookup_seconds / rounds, *k.creds, rng);
      double rate = static_cast<double>(round.latencies_ns.size()) / round.seconds;
      std::cerr << absl::StrFormat("  round %d %-6s %8.0f lookups/s  %d errors%s\n", r + 1, k.name,
                                   rate, round.errors,
                                   round.errors ? " (" + round.first_error + ")" : "");
      k.all.insert(k.all.end(), round.latencies_ns.begin(), round.latencies_ns.end());
      k.seconds += round.seconds;
      k.errors += round.errors;
      k.per_round.push_back(rate);
    }
  }
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
  j["lookup"] = {{"clients", clients}, {"rounds", rounds}};
  for (Kind& k : kinds) {
    j["lookup"][k.name] = Summary(k.all, k.seconds, k.errors);
    j["lookup"][k.name]["lookups_per_s_by_round"] = k.per_round;
  }
  double token_rate = j["lookup"]["token"]["lookups_per_s"].get<double>();
  double signed_rate = j["lookup"]["signed"]["lookups_per_s"].get<double>();
  j["lookup"]["signed_vs_token"] = token_rate > 0 ? signed_rate / token_rate : 0.0;
  j["perkd_peak_rss_mib"] = perkd_peak >> 20;

  std::cout << absl::StrFormat(
      "machine: %s, %d cores\n"
      "import:  %d members with cards in %.1f s = %.0f rows/s; perkd peak memory %d MiB\n",
      CpuModel(), std::thread::hardware_concurrency(), summary->rows, import_s, rows_per_s,
      perkd_peak >> 20);
  for (const char* kind : {"token", "signed"}) {
    const auto& l = j["lookup"][kind];
    std::cout << absl::StrFormat(
        "lookup %-6s %d clients, %.0f lookups/s, p50 %.0f us, p99 %.0f us, %d errors\n", kind,
        clients, l["lookups_per_s"].get<double>(), l["p50_us"].get<double>(),
        l["p99_us"].get<double>(), l["errors"].get<int64_t>());
  }
  std::cout << absl::StrFormat("signed lookups run at %.0f%% of token lookups\n",
                               100 * j["lookup"]["signed_vs_token"].get<double>());
  std::cout << j.dump() << "\n";
  if (!out_path.empty()) std::ofstream(out_path) << j.dump() << "\n";
  return 0;
}
