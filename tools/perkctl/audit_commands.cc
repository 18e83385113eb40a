// perkctl audit: a city's administrative changes, from every service's audit log, oldest first.
#include <algorithm>

#include "perks/v1/auth.grpc.pb.h"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/merchant.grpc.pb.h"
#include "perks/v1/promotion.grpc.pb.h"
#include "tools/perkctl/ctl.h"

namespace perks::tools {
namespace {

// Every page of one service's log.
template <typename Stub>
void ReadAll(Ctl& ctl, Stub& stub, v1::ListAuditRequest req, v1::ListAuditResponse* all) {
  for (;;) {
    v1::ListAuditResponse page;
    auto ctx = ctl.Context();
    grpc::Status s = stub.ListAudit(ctx.get(), req, &page);
    if (!s.ok()) Check(ctl.Done<v1::ListAuditResponse>(s, page, {}));
    for (auto& e : *page.mutable_entries()) *all->add_entries() = std::move(e);
    if (page.next_page_token().empty()) return;
    req.set_page_token(page.next_page_token());
  }
}

}  // namespace

void AddAuditCommand(CLI::App& app, Ctl& ctl) {
  auto* cmd = app.add_subcommand(
      "audit", "who changed what, and when: a city's administrative changes, oldest first");
  auto city = std::make_shared<std::string>();
  auto since = std::make_shared<std::string>();
  cmd->add_option("--city", *city, kCityHelp);
  cmd->add_option("--since", *since, "from this day on, YYYY-MM-DD (Asia/Shanghai)");
  cmd->callback([&ctl, city, since] {
    v1::ListAuditRequest req;
    req.set_tenant_id(*city);
    if (!since->empty()) {
      absl::Time t;
      std::string err;
      if (!absl::ParseTime("%Y-%m-%d", *since, absl::FixedTimeZone(8 * 3600), &t, &err)) {
        std::cerr << "perkctl: --since '" << *since << "' is not a date like 2026-11-01\n";
        throw CLI::RuntimeError(2);
      }
      req.set_since_unix_ms(absl::ToUnixMillis(t));
    }
    v1::ListAuditResponse all;
    auto auth = v1::AuthService::NewStub(ctl.channel("auth"));
    ReadAll(ctl, *auth, req, &all);
    ReadAll(ctl, ctl.stub(), req, &all);
    ReadAll(ctl, ctl.merchants(), req, &all);
    auto promotion = v1::PromotionService::NewStub(ctl.channel("promotion"));
    ReadAll(ctl, *promotion, req, &all);
    std::stable_sort(all.mutable_entries()->begin(), all.mutable_entries()->end(),
                     [](const v1::AuditEntry& a, const v1::AuditEntry& b) {
                       return a.at_unix_ms() < b.at_unix_ms();
                     });
    Check(
        ctl.Done<v1::ListAuditResponse>(grpc::Status::OK, all, [](const v1::ListAuditResponse& r) {
          std::vector<std::vector<std::string>> rows = {
              {"WHEN (UTC+8)", "CITY", "WHO", "WHAT", "TARGET"}};
          for (const auto& e : r.entries()) {
            rows.push_back({Time(e.at_unix_ms()), e.tenant_id().empty() ? "-" : e.tenant_id(),
                            e.actor(), e.service() + " " + e.method(), e.target()});
          }
          PrintTable(rows);
          std::cout << r.entries_size() << " changes\n";
        }));
  });
}

}  // namespace perks::tools
