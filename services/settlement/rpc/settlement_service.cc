#include "services/settlement/rpc/settlement_service.h"

#include "absl/strings/str_cat.h"
#include "services/common/calendar.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/common/money.h"
#include "services/common/personal.h"
#include "services/gate/policy.h"
#include "services/settlement/domain/ledger.h"
#include "services/settlement/domain/statement.h"

namespace perks::settlement {
namespace {

using perks::v1::Caller;
using perks::v1::Funder;

constexpr size_t kPostEventsMax = 1000;
constexpr int kPayablesDaysMax = 366;
constexpr size_t kReasonBytesMax = 500;

// The city a call is about: the one named, if the caller may see it, or the caller's own.
absl::StatusOr<std::string> City(const Caller& caller, const std::string& requested) {
  auto tenant = TenantFor(caller, requested);
  if (tenant.ok() && tenant->empty()) {
    return absl::InvalidArgumentError("name the city (tenant_id), e.g. bozhou");
  }
  return tenant;
}

// A bank's operators read and answer for the bank's share only.
absl::Status MayActFor(const Caller& caller, Funder funder) {
  if (funder != perks::v1::FUNDER_BANK && funder != perks::v1::FUNDER_UNION &&
      funder != perks::v1::FUNDER_MERCHANT) {
    return absl::InvalidArgumentError("name the funder: BANK, UNION or MERCHANT");
  }
  if (caller.role() == perks::v1::ROLE_BANK_OPERATOR && funder != perks::v1::FUNDER_BANK) {
    return absl::PermissionDeniedError(
        absl::StrCat("a bank operator sees the bank's subsidies, not the ", FunderName(funder),
                     "'s; ask the city's union for theirs"));
  }
  return absl::OkStatus();
}

// A merchant's manager sees its own merchant only: `merchant_id` is filled in or checked.
absl::Status OwnMerchant(const Caller& caller, std::string* merchant_id) {
  if (!BoundToMerchant(caller)) return absl::OkStatus();
  if (merchant_id->empty()) *merchant_id = caller.merchant_id();
  if (*merchant_id != caller.merchant_id()) {
    return absl::PermissionDeniedError("a merchant sees its own statements and payables only");
  }
  return absl::OkStatus();
}

std::string LocalTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", t, ShanghaiZone());
}

}  // namespace

absl::StatusOr<std::unique_ptr<SettlementService>> SettlementService::Open(
    const SettlementServiceOptions& o) {
  if (absl::Status s = ValidateCutoff(o.day_cutoff); !s.ok()) return s;
  storage::DbOptions db_options;
  db_options.path = o.db_path;
  db_options.column_families = SettlementStore::ColumnFamilies();
  db_options.schema_version = SettlementStore::kSchemaVersion;
  db_options.block_cache_bytes = o.cache_bytes;
  auto db = storage::Db::Open(db_options);
  if (!db.ok()) return db.status();
  return std::unique_ptr<SettlementService>(new SettlementService(std::move(*db), o));
}

SettlementService::SettlementService(std::unique_ptr<storage::Db> db,
                                     const SettlementServiceOptions& o)
    : db_(std::move(db)),
      writer_(std::make_unique<storage::GroupCommitWriter>(db_.get(), o.writer)),
      store_(db_.get(), o.day_cutoff),
      clock_(o.clock),
      idempotency_{db_.get(), writer_.get(), store_.idempotency_family(), o.clock},
      audit_(db_.get(), "settlement"),
      gate_("perks.v1.SettlementService", o.gate),
      at_step_(o.at_step) {}

SettlementService::~SettlementService() { (void)Close(); }

absl::Status SettlementService::Close() {
  work_.Stop();
  if (writer_) writer_->Stop();
  return db_->Close();
}

void SettlementService::Recover() {
  auto jobs = store_.Jobs();
  if (!jobs.ok()) {
    Log(LogLevel::kError, "settlement.recovery_failed", {{"reason", jobs.status().ToString()}});
    return;
  }
  for (auto& [tenant, job] : *jobs) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_.insert(tenant);
    }
    Log(LogLevel::kInfo, "settlement.close_resumed",
        {{"tenant", tenant}, {"through", FormatCompactDate(DayOfNumber(job.to_day()))}});
    std::string t = tenant;
    absl::Status queued = work_.Add([this, t, job = job]() mutable {
      FinishClose(t, std::move(job), [t](absl::Status s) {
        if (!s.ok()) {
          Log(LogLevel::kError, "settlement.close_failed",
              {{"tenant", t}, {"reason", s.ToString()}});
        }
      });
    });
    if (!queued.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      closing_.erase(tenant);
    }
  }
}

void SettlementService::FinishClose(std::string tenant, perks::storage::v1::CloseJob job,
                                    Done done) {
  auto release = [this, tenant](absl::Status s, Done& done) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_.erase(tenant);
    }
    done(s);
  };
  auto tallied = store_.Tally(tenant, job);
  if (!tallied.ok()) return release(tallied.status(), done);
  AtStep("close.tallied");
  auto shared = std::make_shared<SettlementStore::Tallied>(std::move(*tallied));
  auto finish = std::make_shared<Done>(std::move(done));
  absl::Status queued = writer_->Submit(
      [this, tenant, shared](storage::Txn& txn) {
        return store_.FinishClose(txn, tenant, shared->days, shared->closing);
      },
      [release, finish, tenant, days = shared->days.size()](absl::Status s) mutable {
        if (s.ok()) {
          Log(LogLevel::kInfo, "settlement.day_closed",
              {{"tenant", tenant}, {"days_with_entries", std::to_string(days)}});
        }
        release(s, *finish);
      });
  if (!queued.ok()) release(queued, *finish);
}

void SettlementService::Mutate(const Caller& caller, std::string_view method,
                               const google::protobuf::Message& req,
                               google::protobuf::Message* resp,
                               absl::AnyInvocable<absl::Status(storage::Txn&)> apply, Done done) {
  MutateAndAudit(idempotency_, audit_, caller, ActorName(caller), method, req, resp,
                 absl::ToUnixMillis(clock_->Now()), std::move(apply), std::move(done));
}

SettlementService::Reactor* SettlementService::Post(Ctx* ctx, const perks::v1::PostRequest* req,
                                                    perks::v1::PostResponse* resp) {
  return gate_.Run(ctx, "Post", *req, [this, req, resp](const Caller&, Gate::Done done) {
    if (req->events_size() == 0 || static_cast<size_t>(req->events_size()) > kPostEventsMax) {
      return done(absl::InvalidArgumentError(
          absl::StrCat("send 1 to ", kPostEventsMax, " events; got ", req->events_size())));
    }
    for (int i = 0; i < req->events_size(); ++i) {
      const perks::v1::SettlementEvent& e = req->events(i);
      absl::Status s = e.event_id().empty() ? absl::InvalidArgumentError("event_id is empty")
                                            : PostingsOf(e).status();
      if (!s.ok()) {
        return done(absl::InvalidArgumentError(
            absl::StrCat("events[", i, "] (", e.event_id(), "): ", s.message())));
      }
    }
    auto answer = std::make_shared<Gate::Done>(std::move(done));
    absl::Status queued = writer_->Submit(
        [this, req, resp](storage::Txn& txn) -> absl::Status {
          resp->Clear();
          for (const perks::v1::SettlementEvent& e : req->events()) {
            auto posted = store_.Post(txn, e);
            if (!posted.ok()) return posted.status();
            if (*posted) {
              resp->set_posted(resp->posted() + 1);
            } else {
              resp->set_already_posted(resp->already_posted() + 1);
            }
          }
          return absl::OkStatus();
        },
        [answer](absl::Status s) { (*answer)(s); });
    if (!queued.ok()) (*answer)(queued);
  });
}

SettlementService::Reactor* SettlementService::GetBalances(Ctx* ctx,
                                                           const perks::v1::GetBalancesRequest* req,
                                                           perks::v1::GetBalancesResponse* resp) {
  return gate_.Run(ctx, "GetBalances", *req,
                   [this, req, resp](const Caller& caller, Gate::Done done) {
                     auto tenant = City(caller, req->tenant_id());
                     if (!tenant.ok()) return done(tenant.status());
                     std::vector<perks::v1::AccountBalance> balances;
                     if (req->date().empty()) {
                       auto now = store_.Balances(*tenant);
                       if (!now.ok()) return done(now.status());
                       balances = std::move(*now);
                     } else {
                       auto day = ParseCompactDate(req->date(), "date");
                       if (!day.ok()) return done(day.status());
                       auto closing = store_.ClosingBalances(*tenant, *day);
                       if (!closing.ok()) return done(closing.status());
                       balances = std::move(*closing);
                     }
                     for (auto& b : balances) {
                       resp->set_sum_fen(resp->sum_fen() + b.balance_fen());
                       *resp->add_balances() = std::move(b);
                     }
                     done(absl::OkStatus());
                   });
}

SettlementService::Reactor* SettlementService::CheckLedger(Ctx* ctx,
                                                           const perks::v1::CheckLedgerRequest* req,
                                                           perks::v1::LedgerCheck* resp) {
  return gate_.Run(ctx, "CheckLedger", *req,
                   [this, req, resp](const Caller& caller, Gate::Done done) {
                     auto tenant = City(caller, req->tenant_id());
                     if (!tenant.ok()) return done(tenant.status());
                     auto shared = std::make_shared<Gate::Done>(std::move(done));
                     absl::Status queued = work_.Add([this, tenant = *tenant, resp, shared] {
                       auto check = store_.Check(tenant);
                       if (check.ok()) *resp = std::move(*check);
                       (*shared)(check.status());
                     });
                     if (!queued.ok()) (*shared)(queued);
                   });
}

SettlementService::Reactor* SettlementService::CloseDay(Ctx* ctx,
                                                        const perks::v1::CloseDayRequest* req,
                                                        perks::v1::BusinessDay* resp) {
  return gate_.Run(ctx, "CloseDay", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
    auto tenant = City(caller, req->tenant_id());
    if (!tenant.ok()) return done(tenant.status());
    auto day = ParseCompactDate(req->date(), "date");
    if (!day.ok()) return done(day.status());
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closing_.insert(*tenant).second) {
        return done(absl::UnavailableError(absl::StrCat(
            "a close of ", *tenant, " is under way; send this close again in a moment")));
      }
    }
    const std::string city = *tenant;
    const absl::CivilDay civil = *day;
    auto answer = std::make_shared<Gate::Done>(std::move(done));
    // Answers with the day as it now stands, and lets the next close of the city in.
    auto reply = [this, city, civil, resp, answer](absl::Status s) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        closing_.erase(city);
      }
      if (s.ok()) {
        auto now = store_.GetDay(city, civil);
        if (now.ok()) *resp = std::move(*now);
        s = now.status();
      }
      (*answer)(s);
    };
    auto job = std::make_shared<std::optional<perks::storage::v1::CloseJob>>();
    absl::Status queued = writer_->Submit(
        [this, city, civil, job, actor = ActorName(caller)](storage::Txn& txn) -> absl::Status {
          auto begun = store_.BeginClose(txn, city, civil, clock_->Now(), actor);
          if (!begun.ok()) return begun.status();
          *job = std::move(*begun);
          return absl::OkStatus();
        },
        [this, city, job, reply](absl::Status s) mutable {
          if (!s.ok() || !job->has_value()) return reply(s);
          AtStep("close.begun");
          absl::Status added = work_.Add([this, city, job, reply]() mutable {
            // The close is this process's until it ends: FinishClose lets it go, then reply.
            {
              std::lock_guard<std::mutex> lock(mu_);
              closing_.insert(city);
            }
            FinishClose(city, **job, [reply](absl::Status s) mutable { reply(s); });
          });
          if (!added.ok()) reply(added);  // the job stays written: the next close finishes it
        });
    if (!queued.ok()) reply(queued);
  });
}

SettlementService::Reactor* SettlementService::GetDay(Ctx* ctx, const perks::v1::GetDayRequest* req,
                                                      perks::v1::BusinessDay* resp) {
  return gate_.Run(ctx, "GetDay", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
    auto tenant = City(caller, req->tenant_id());
    if (!tenant.ok()) return done(tenant.status());
    auto day = ParseCompactDate(req->date(), "date");
    if (!day.ok()) return done(day.status());
    auto got = store_.GetDay(*tenant, *day);
    if (got.ok()) *resp = std::move(*got);
    done(got.status());
  });
}

SettlementService::Reactor* SettlementService::GetStatement(
    Ctx* ctx, const perks::v1::GetStatementRequest* req, perks::v1::StatementPage* resp) {
  return gate_.Run(
      ctx, "GetStatement", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
        perks::v1::GetStatementRequest r = *req;
        auto tenant = City(caller, r.tenant_id());
        if (!tenant.ok()) return done(tenant.status());
        r.set_tenant_id(*tenant);
        if (absl::Status s = OwnMerchant(caller, r.mutable_merchant_id()); !s.ok()) return done(s);
        if (r.merchant_id().empty() == (r.funder() == perks::v1::FUNDER_UNSPECIFIED)) {
          return done(absl::InvalidArgumentError(
              "name whose statement: a funder (BANK, UNION, MERCHANT) or a merchant_id, not both"));
        }
        if (r.merchant_id().empty()) {
          if (absl::Status s = MayActFor(caller, r.funder()); !s.ok()) return done(s);
        }
        auto day = ParseCompactDate(r.date(), "date");
        if (!day.ok()) return done(day.status());
        auto got = store_.GetDay(*tenant, *day);
        if (!got.ok()) return done(got.status());
        if (got->state() != perks::v1::BUSINESS_DAY_CLOSED) {
          return done(absl::FailedPreconditionError(
              absl::StrCat("business day ", r.date(), " of ", *tenant,
                           " is still open: its statements exist once it is closed (CloseDay, "
                           "or perkctl settlement close, after the day's cut-off)")));
        }
        done(store_.StatementPage(*got, r, resp));
      });
}

SettlementService::Reactor* SettlementService::ImportBankFile(
    Ctx* ctx, const perks::v1::ImportBankFileRequest* req, perks::v1::Reconciliation* resp) {
  return gate_.Run(
      ctx, "ImportBankFile", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
        if (absl::Status s = ValidateRequestId(req->request_id()); !s.ok()) return done(s);
        auto tenant = City(caller, req->tenant_id());
        if (!tenant.ok()) return done(tenant.status());
        if (absl::Status s = MayActFor(caller, req->funder()); !s.ok()) return done(s);
        auto day = ParseCompactDate(req->date(), "date");
        if (!day.ok()) return done(day.status());
        auto got = store_.GetDay(*tenant, *day);
        if (!got.ok()) return done(got.status());
        if (got->state() != perks::v1::BUSINESS_DAY_CLOSED) {
          return done(absl::FailedPreconditionError(absl::StrCat(
              "business day ", req->date(), " of ", *tenant,
              " is not closed; close it, send its statement, then import the answer")));
        }
        auto bank = ParseBankFile(req->csv(), *tenant, req->date(), FunderName(req->funder()));
        if (!bank.ok()) {
          return done(absl::InvalidArgumentError(
              absl::StrCat("the bank file was not imported, nothing of it was kept: ",
                           bank.status().message())));
        }
        auto ours = store_.FunderLines(*tenant, *day, req->funder());
        if (!ours.ok()) return done(ours.status());
        auto recon = std::make_shared<perks::v1::Reconciliation>();
        recon->set_tenant_id(*tenant);
        recon->set_date(req->date());
        recon->set_funder(req->funder());
        recon->set_imported_at_unix_ms(absl::ToUnixMillis(clock_->Now()));
        recon->set_imported_by(ActorName(caller));
        recon->set_file_sha256(HexEncode(Sha256(req->csv())));
        Reconcile(*ours, *bank, recon.get());
        Mutate(
            caller, "ImportBankFile", *req, resp,
            [this, recon, resp, civil = *day](storage::Txn& txn) -> absl::Status {
              auto before =
                  store_.GetReconciliation(&txn, recon->tenant_id(), civil, recon->funder());
              if (!before.ok()) return before.status();
              if (before->has_value() && (*before)->reconciliation().unresolved() <
                                             (*before)->reconciliation().differences_size()) {
                return absl::FailedPreconditionError(
                    absl::StrCat("the bank file of ", recon->date(),
                                 " was imported before and differences of it "
                                 "are resolved; those resolutions stand (GetReconciliation)"));
              }
              *resp = *recon;
              return store_.SaveReconciliation(txn, *recon);
            },
            std::move(done));
      });
}

SettlementService::Reactor* SettlementService::GetReconciliation(
    Ctx* ctx, const perks::v1::GetReconciliationRequest* req, perks::v1::Reconciliation* resp) {
  return gate_.Run(
      ctx, "GetReconciliation", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
        auto tenant = City(caller, req->tenant_id());
        if (!tenant.ok()) return done(tenant.status());
        if (absl::Status s = MayActFor(caller, req->funder()); !s.ok()) return done(s);
        auto day = ParseCompactDate(req->date(), "date");
        if (!day.ok()) return done(day.status());
        auto got = store_.GetReconciliation(nullptr, *tenant, *day, req->funder());
        if (!got.ok()) return done(got.status());
        if (!got->has_value()) {
          return done(absl::NotFoundError(absl::StrCat("no bank file of ", req->date(), " for ",
                                                       FunderName(req->funder()),
                                                       " was imported; import it first")));
        }
        *resp = (*got)->reconciliation();
        done(absl::OkStatus());
      });
}

SettlementService::Reactor* SettlementService::ResolveDifference(
    Ctx* ctx, const perks::v1::ResolveDifferenceRequest* req, perks::v1::Reconciliation* resp) {
  return gate_.Run(
      ctx, "ResolveDifference", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
        if (absl::Status s = ValidateRequestId(req->request_id()); !s.ok()) return done(s);
        auto tenant = City(caller, req->tenant_id());
        if (!tenant.ok()) return done(tenant.status());
        if (absl::Status s = MayActFor(caller, req->funder()); !s.ok()) return done(s);
        auto day = ParseCompactDate(req->date(), "date");
        if (!day.ok()) return done(day.status());
        if (req->resolution() == perks::v1::RESOLUTION_UNSPECIFIED ||
            !perks::v1::Resolution_IsValid(req->resolution())) {
          return done(absl::InvalidArgumentError(
              "name the resolution: OURS_STANDS, BANKS_STANDS or WRITTEN_OFF"));
        }
        if (req->reason().empty() || req->reason().size() > kReasonBytesMax) {
          return done(absl::InvalidArgumentError(absl::StrCat(
              "say why, in 1 to ", kReasonBytesMax, " bytes: what was found and what was agreed")));
        }
        Mutate(
            caller, "ResolveDifference", *req, resp,
            [this, req, resp, civil = *day, tenant = *tenant,
             by = ActorName(caller)](storage::Txn& txn) -> absl::Status {
              auto got = store_.GetReconciliation(&txn, tenant, civil, req->funder());
              if (!got.ok()) return got.status();
              if (!got->has_value()) {
                return absl::NotFoundError(absl::StrCat("no bank file of ", req->date(),
                                                        " was imported; import it first"));
              }
              perks::v1::Reconciliation& r = *(*got)->mutable_reconciliation();
              perks::v1::Difference* d = nullptr;
              for (auto& diff : *r.mutable_differences()) {
                if (diff.difference_id() == req->difference_id()) d = &diff;
              }
              if (d == nullptr) {
                return absl::NotFoundError(absl::StrCat("the reconciliation has no difference ",
                                                        req->difference_id(), "; it has 1 to ",
                                                        r.differences_size()));
              }
              if (d->resolution() != perks::v1::RESOLUTION_UNSPECIFIED) {
                return absl::FailedPreconditionError(absl::StrCat(
                    "difference ", d->difference_id(), " was resolved by ", d->resolved_by(),
                    " at ", LocalTime(absl::FromUnixMillis(d->resolved_at_unix_ms())), ": ",
                    d->reason()));
              }
              d->set_resolution(req->resolution());
              d->set_reason(req->reason());
              d->set_resolved_by(by);
              d->set_resolved_at_unix_ms(absl::ToUnixMillis(clock_->Now()));
              r.set_unresolved(r.unresolved() - 1);
              *resp = r;
              return store_.SaveReconciliation(txn, r);
            },
            std::move(done));
      });
}

SettlementService::Reactor* SettlementService::GetPayables(Ctx* ctx,
                                                           const perks::v1::GetPayablesRequest* req,
                                                           perks::v1::GetPayablesResponse* resp) {
  return gate_.Run(
      ctx, "GetPayables", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
        perks::v1::GetPayablesRequest r = *req;
        auto tenant = City(caller, r.tenant_id());
        if (!tenant.ok()) return done(tenant.status());
        r.set_tenant_id(*tenant);
        if (absl::Status s = OwnMerchant(caller, r.mutable_merchant_id()); !s.ok()) return done(s);
        if (r.funder() != perks::v1::FUNDER_UNSPECIFIED) {
          if (absl::Status s = MayActFor(caller, r.funder()); !s.ok()) return done(s);
        } else if (caller.role() == perks::v1::ROLE_BANK_OPERATOR) {
          r.set_funder(perks::v1::FUNDER_BANK);
        }
        auto from = ParseCompactDate(r.from_date(), "from_date");
        if (!from.ok()) return done(from.status());
        auto to = ParseCompactDate(r.to_date(), "to_date");
        if (!to.ok()) return done(to.status());
        if (*to < *from) {
          return done(absl::InvalidArgumentError(
              absl::StrCat("to_date ", r.to_date(), " is before from_date ", r.from_date(),
                           ": the period runs from from_date to to_date; swap them")));
        }
        if (*to - *from >= kPayablesDaysMax) {
          return done(absl::InvalidArgumentError(
              absl::StrCat("the period from ", r.from_date(), " to ", r.to_date(),
                           " is longer than ", kPayablesDaysMax, " days; ask for it in parts")));
        }
        done(store_.Payables(r, *from, *to, resp));
      });
}

SettlementService::Reactor* SettlementService::RecordPayout(
    Ctx* ctx, const perks::v1::RecordPayoutRequest* req, perks::v1::Payout* resp) {
  return gate_.Run(
      ctx, "RecordPayout", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
        if (absl::Status s = ValidateRequestId(req->request_id()); !s.ok()) return done(s);
        auto tenant = City(caller, req->tenant_id());
        if (!tenant.ok()) return done(tenant.status());
        if (req->funder() == perks::v1::FUNDER_MERCHANT) {
          return done(
              absl::InvalidArgumentError("a merchant's own discount is not paid out; pay out what "
                                         "the BANK or the UNION owes"));
        }
        if (absl::Status s = MayActFor(caller, req->funder()); !s.ok()) return done(s);
        if (req->merchant_id().empty()) {
          return done(absl::InvalidArgumentError("name the merchant paid: merchant_id"));
        }
        if (req->amount_fen() <= 0 || req->amount_fen() > kAmountFenMax) {
          return done(absl::InvalidArgumentError(absl::StrCat(
              "amount_fen must be 1 to ", kAmountFenMax, " fen; got ", req->amount_fen())));
        }
        if (req->bank_reference().empty() || req->bank_reference().size() > 64) {
          return done(absl::InvalidArgumentError(
              "bank_reference is the transfer's reference, 1 to 64 bytes: it is how the payment is "
              "found again"));
        }
        const absl::Time now = clock_->Now();
        auto payout = std::make_shared<perks::v1::Payout>();
        payout->set_payout_id(
            HexEncode(Sha256(absl::StrCat(*tenant, "/", req->request_id()))).substr(0, 16));
        payout->set_tenant_id(*tenant);
        payout->set_funder(req->funder());
        payout->set_merchant_id(req->merchant_id());
        payout->set_amount_fen(req->amount_fen());
        payout->set_bank_reference(req->bank_reference());
        payout->set_recorded_at_unix_ms(absl::ToUnixMillis(now));
        payout->set_recorded_by(ActorName(caller));
        Mutate(
            caller, "RecordPayout", *req, resp,
            [this, payout, resp, now](storage::Txn& txn) -> absl::Status {
              if (absl::Status s = store_.PostPayout(txn, *payout, now); !s.ok()) return s;
              *resp = *payout;
              return absl::OkStatus();
            },
            std::move(done));
      });
}

SettlementService::Reactor* SettlementService::ListPayouts(Ctx* ctx,
                                                           const perks::v1::ListPayoutsRequest* req,
                                                           perks::v1::ListPayoutsResponse* resp) {
  return gate_.Run(ctx, "ListPayouts", *req,
                   [this, req, resp](const Caller& caller, Gate::Done done) {
                     perks::v1::ListPayoutsRequest r = *req;
                     auto tenant = City(caller, r.tenant_id());
                     if (!tenant.ok()) return done(tenant.status());
                     r.set_tenant_id(*tenant);
                     if (absl::Status s = OwnMerchant(caller, r.mutable_merchant_id()); !s.ok())
                       return done(s);
                     done(store_.ListPayouts(r, resp));
                   });
}

SettlementService::Reactor* SettlementService::ListAudit(Ctx* ctx,
                                                         const perks::v1::ListAuditRequest* req,
                                                         perks::v1::ListAuditResponse* resp) {
  return gate_.ServeAudit(ctx, audit_, req, resp);
}

}  // namespace perks::settlement
