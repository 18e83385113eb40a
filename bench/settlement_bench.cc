// perks-settlement-bench: closing a business day of N checkouts and writing its statements.
//
// An in-process perkd with the settlement service (durable writes) gets N confirmed discounts of
// one Bozhou business day over gRPC (Post, as the checkout service sends them, in batches), spread
// over --merchants merchants. Then, timed: CloseDay, and each funder's statement read page by
// page over gRPC and written to a file, the three at once. It is never run by CTest.
#include <fstream>
#include <iostream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "perks/v1/settlement.grpc.pb.h"
#include "services/gate/gate.h"
#include "services/perkd/server.h"
#include "storage/test_dir.h"
#include "tools/common/client.h"

namespace {

using Steady = std::chrono::steady_clock;

double Since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

perks::v1::SettlementEvent Event(int64_t i, int merchants, absl::Time day_start) {
  perks::v1::SettlementEvent e;
  const std::string till = absl::StrCat("T", i % 997);
  e.set_checkout_id(absl::StrCat(till, ":20261205:", i));
  e.set_event_id("confirm/" + e.checkout_id());
  e.set_kind(perks::v1::SETTLEMENT_EVENT_CONFIRMED);
  e.set_tenant_id("bozhou");
  e.set_merchant_id(absl::StrCat("M", i % merchants));
  e.set_store_id(absl::StrCat("S", i % merchants));
  e.set_terminal_id(till);
  e.set_card_number_masked("623668*********0123");
  e.set_occurred_at_unix_ms(
      absl::ToUnixMillis(day_start + absl::Milliseconds(i * 37 % 86'000'000)));
  e.set_amount_fen(10000 + i % 5000);
  perks::v1::Discount* d = e.add_discounts();
  d->set_campaign_id("bozhou-supermarket-100-30");
  d->set_version(1);
  d->set_amount_fen(3000);
  for (auto f : {perks::v1::FUNDER_BANK, perks::v1::FUNDER_MERCHANT}) {
    perks::v1::FundedShare* s = d->add_funding();
    s->set_funder(f);
    s->set_amount_fen(1500);
  }
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t checkouts = 1'000'000;
  int merchants = 300;
  int parallel = 4;
  std::string work_dir;
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"perks-settlement-bench: close a business day of N checkouts, write statements"};
  app.add_option("--checkouts", checkouts, "confirmed discounts in the day")->capture_default_str();
  app.add_option("--merchants", merchants, "merchants they are spread over")->capture_default_str();
  app.add_option("--parallel", parallel, "Post calls in flight while loading")
      ->capture_default_str();
  app.add_option("--work-dir", work_dir, "where to put the data (default: a temp dir)");
  CLI11_PARSE(app, argc, argv);

  perks::storage::TestDir temp;
  const std::string dir = work_dir.empty() ? temp.path() : work_dir;
  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  const absl::Time day_start = absl::FromCivil(absl::CivilSecond(2026, 12, 5, 0, 0, 0), shanghai);
  perks::ManualClock clock(day_start + absl::Hours(10));
  perks::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir + "/data";
  options.services = {"auth", "merchant", "settlement"};
  options.clock = &clock;
  options.message_bytes_max = 64 << 20;
  auto server = perks::Server::Start(options);
  if (!server.ok()) {
    std::cerr << "perks-settlement-bench: " << server.status().message() << "\n";
    return 1;
  }
  const std::string admin = (*server)->bootstrap_token();
  auto key = perks::LoadOrCreateSecret(perks::SecretsDir(options), "internal");
  auto channel = perks::tools::MakeChannel(absl::StrCat("127.0.0.1:", (*server)->port()));
  auto stub = perks::v1::SettlementService::NewStub(channel);

  std::cerr << "posting " << checkouts << " confirmed discounts of 2026-12-05 over " << merchants
            << " merchants…\n";
  const auto load_began = Steady::now();
  std::atomic<int64_t> next{0};
  std::vector<std::thread> loaders;
  for (int p = 0; p < parallel; ++p) {
    loaders.emplace_back([&] {
      constexpr int64_t kBatch = 1000;
      for (int64_t first; (first = next.fetch_add(kBatch)) < checkouts;) {
        perks::v1::PostRequest req;
        for (int64_t i = first; i < std::min(checkouts, first + kBatch); ++i) {
          *req.add_events() = Event(i, merchants, day_start);
        }
        auto ctx = perks::tools::MakeContext(absl::Seconds(60));
        ctx->AddMetadata(perks::kInternalKeyHeader, *key);
        perks::v1::PostResponse resp;
        grpc::Status s = stub->Post(ctx.get(), req, &resp);
        if (!s.ok()) std::cerr << "Post: " << s.error_message() << "\n";
      }
    });
  }
  for (auto& t : loaders) t.join();
  const double load_s = Since(load_began);

  clock.Set(day_start + absl::Hours(24) + absl::Minutes(1));
  std::cerr << "closing the day…\n";
  const auto close_began = Steady::now();
  perks::v1::CloseDayRequest close;
  close.set_tenant_id("bozhou");
  close.set_date("20261205");
  perks::v1::BusinessDay day;
  grpc::Status s =
      stub->CloseDay(perks::tools::MakeContext(absl::Seconds(600), admin).get(), close, &day);
  const double close_s = Since(close_began);
  if (!s.ok()) {
    std::cerr << "CloseDay: " << s.error_message() << "\n";
    return 1;
  }
  // Each funder fetches its own statement, as the bank, the union and the merchants' side do, at
  // the same time: one thread each.
  const auto write_began = Steady::now();
  std::cerr << "writing " << day.funder_statements_size() << " funder statements to " << dir
            << "…\n";
  int64_t lines = 0;
  std::atomic<bool> failed{false};
  std::vector<std::thread> writers;
  for (const auto& summary : day.funder_statements()) {
    lines += summary.lines();
    writers.emplace_back([&, summary] {
      std::ofstream out(dir + "/" + summary.file_name());
      std::string token;
      do {
        perks::v1::GetStatementRequest req;
        req.set_tenant_id("bozhou");
        req.set_date("20261205");
        req.set_funder(summary.funder());
        req.set_page_lines(10000);
        req.set_page_token(token);
        perks::v1::StatementPage page;
        grpc::Status got = stub->GetStatement(
            perks::tools::MakeContext(absl::Seconds(60), admin).get(), req, &page);
        if (!got.ok()) {
          std::cerr << "GetStatement: " << got.error_message() << "\n";
          failed = true;
          return;
        }
        out << page.csv();
        token = page.next_page_token();
      } while (!token.empty());
    });
  }
  for (auto& t : writers) t.join();
  if (failed) return 1;
  const double write_s = Since(write_began);
  std::cout << absl::StrFormat(
      "{\"checkouts\":%d,\"merchants\":%d,\"entries\":%d,\"statement_lines\":%d,"
      "\"load_s\":%.2f,\"close_s\":%.2f,\"statements_s\":%.2f,\"close_and_statements_s\":%.2f}\n",
      checkouts, merchants, day.entries(), lines, load_s, close_s, write_s, close_s + write_s);
  (*server)->Shutdown(absl::Seconds(5));
  return 0;
}
