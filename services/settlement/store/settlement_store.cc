#include "services/settlement/store/settlement_store.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "services/common/audit.h"
#include "services/common/calendar.h"
#include "services/common/money.h"
#include "services/common/personal.h"
#include "services/common/records.h"
#include "services/settlement/domain/ledger.h"
#include "services/settlement/domain/statement.h"
#include "services/settlement/store/settlement_keys.h"

namespace perks::settlement {
namespace {

using perks::storage::v1::CloseJob;
using perks::storage::v1::LedgerEntry;
using perks::v1::AccountBalance;
using perks::v1::BusinessDay;
using perks::v1::Funder;

constexpr Funder kFunders[] = {perks::v1::FUNDER_BANK, perks::v1::FUNDER_UNION,
                               perks::v1::FUNDER_MERCHANT};
constexpr int32_t kPageLinesDefault = 5000;
constexpr int32_t kPageLinesMax = 10'000;

absl::Status Unreadable(std::string_view what) {
  return absl::DataLossError(
      absl::StrCat("a stored ", std::string(what), " is unreadable; restore from a backup"));
}

// The day of an entry's key: entry/<tenant>/<day>/<entry_id>.
bool DayOfEntryKey(std::string_view key, uint64_t* day) {
  storage::KeyReader r(key);
  std::string kind, tenant;
  return r.Str(&kind) && r.Str(&tenant) && r.U64(day);
}

std::string Unhex(const std::string& hex) {
  std::string out;
  if (hex.size() % 2 != 0) return out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return "";
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

using BalanceMap = absl::flat_hash_map<std::string, AccountBalance>;

template <typename Map>  // a std::map or a BalanceMap of account to balance
void Apply(Map& balances, const perks::v1::Posting& p) {
  AccountBalance& d = balances[p.debit_account()];
  d.set_account(p.debit_account());
  d.set_debit_fen(d.debit_fen() + p.amount_fen());
  d.set_balance_fen(d.debit_fen() - d.credit_fen());
  AccountBalance& c = balances[p.credit_account()];
  c.set_account(p.credit_account());
  c.set_credit_fen(c.credit_fen() + p.amount_fen());
  c.set_balance_fen(c.debit_fen() - c.credit_fen());
}

// A day's tally while its entries go by (hash maps: a million entries look them up).
struct DayTally {
  int64_t entries = 0;
  std::map<int, StatementTally> funders;
  absl::flat_hash_map<std::string, StatementTally> merchants;
  // What each funder owes each merchant (a payout's merchant may have no lines that day).
  absl::flat_hash_map<std::string, std::map<int, perks::v1::PayableLine>> payables;

  perks::v1::PayableLine& Payable(const std::string& merchant_id, Funder funder) {
    perks::v1::PayableLine& p = payables[merchant_id][funder];
    if (p.merchant_id().empty()) {
      p.set_merchant_id(merchant_id);
      p.set_funder(funder);
    }
    return p;
  }
};

template <typename Map>
std::vector<const typename Map::value_type*> Sorted(const Map& m) {
  std::vector<const typename Map::value_type*> out;
  out.reserve(m.size());
  for (const auto& kv : m) out.push_back(&kv);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->first < b->first; });
  return out;
}

}  // namespace

std::vector<std::string> SettlementStore::ColumnFamilies() {
  return {"entries", "events", "balances", "days", "recon", "payouts", "idempotency", kAuditFamily};
}

SettlementStore::SettlementStore(storage::Db* db, absl::Duration cutoff)
    : db_(db),
      cutoff_(cutoff),
      entries_(db->Family("entries")),
      events_(db->Family("events")),
      balances_(db->Family("balances")),
      days_(db->Family("days")),
      recon_(db->Family("recon")),
      payouts_(db->Family("payouts")),
      idempotency_(db->Family("idempotency")) {}

absl::StatusOr<perks::storage::v1::ClosedThrough> SettlementStore::ClosedThrough(
    storage::Txn* txn, const std::string& tenant) const {
  using Rec = perks::storage::v1::ClosedThrough;
  auto got = txn ? GetRecord<Rec>(*txn, days_, keys::Closed(tenant))
                 : GetRecord<Rec>(*db_, days_, keys::Closed(tenant));
  if (!got.ok()) return got.status();
  return got->value_or(Rec());
}

absl::StatusOr<uint64_t> SettlementStore::FirstOpenDay(storage::Txn& txn,
                                                       const std::string& tenant) const {
  auto closed = ClosedThrough(&txn, tenant);
  if (!closed.ok()) return closed.status();
  return closed->day() == 0 ? 0 : closed->day() + 1;
}

absl::Status SettlementStore::WriteEntry(storage::Txn& txn, const std::string& tenant, uint64_t day,
                                         const LedgerEntry& entry) {
  txn.Put(entries_, keys::Entry(tenant, day, entry.entry_id()).bytes(), entry.SerializeAsString());
  for (const perks::v1::Posting& p : entry.postings()) {
    for (const auto& [account, debit_fen, credit_fen] :
         {std::tuple{p.debit_account(), p.amount_fen(), int64_t{0}},
          std::tuple{p.credit_account(), int64_t{0}, p.amount_fen()}}) {
      storage::Key key = keys::Balance(tenant, account);
      auto kept = GetRecord<AccountBalance>(txn, balances_, key);
      if (!kept.ok()) return kept.status();
      AccountBalance b = kept->value_or(AccountBalance());
      b.set_account(account);
      b.set_debit_fen(b.debit_fen() + debit_fen);
      b.set_credit_fen(b.credit_fen() + credit_fen);
      b.set_balance_fen(b.debit_fen() - b.credit_fen());
      txn.Put(balances_, key.bytes(), b.SerializeAsString());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SettlementStore::Post(storage::Txn& txn,
                                           const perks::v1::SettlementEvent& event) {
  storage::Key seen_key = keys::Event(event.event_id());
  auto seen = txn.Get(events_, seen_key.bytes());
  if (!seen.ok()) return seen.status();
  if (seen->has_value()) return false;
  auto postings = PostingsOf(event);
  if (!postings.ok()) return postings.status();
  auto first_open = FirstOpenDay(txn, event.tenant_id());
  if (!first_open.ok()) return first_open.status();
  const uint64_t day =
      std::max(DayNumber(BusinessDayOf(absl::FromUnixMillis(event.occurred_at_unix_ms()), cutoff_)),
               *first_open);
  LedgerEntry entry;
  entry.set_entry_id(event.event_id());
  *entry.mutable_event() = event;
  for (auto& p : *postings) *entry.add_postings() = std::move(p);
  if (absl::Status s = WriteEntry(txn, event.tenant_id(), day, entry); !s.ok()) return s;
  perks::storage::v1::PostedEvent posted;
  posted.set_day(day);
  txn.Put(events_, seen_key.bytes(), posted.SerializeAsString());
  return true;
}

absl::StatusOr<std::optional<CloseJob>> SettlementStore::BeginClose(storage::Txn& txn,
                                                                    const std::string& tenant,
                                                                    absl::CivilDay day,
                                                                    absl::Time now,
                                                                    const std::string& actor) {
  const uint64_t n = DayNumber(day);
  auto running = GetRecord<CloseJob>(txn, days_, keys::Closing(tenant));
  if (!running.ok()) return running.status();
  if (running->has_value()) {
    if (n <= (*running)->to_day()) return std::optional<CloseJob>(**running);
    return absl::UnavailableError(absl::StrCat(
        "the close of ", tenant, " through ", FormatCompactDate(DayOfNumber((*running)->to_day())),
        " is under way; send this close again when it has finished"));
  }
  auto closed = ClosedThrough(&txn, tenant);
  if (!closed.ok()) return closed.status();
  if (closed->day() != 0 && n <= closed->day()) return std::optional<CloseJob>();
  const absl::Time end = DayEnd(day, cutoff_);
  if (now < end) {
    return absl::FailedPreconditionError(
        absl::StrCat("business day ", FormatCompactDate(day), " of ", tenant, " runs until ",
                     absl::FormatTime("%Y-%m-%d %H:%M:%S", end, ShanghaiZone()),
                     " (Asia/Shanghai); close it after that"));
  }
  CloseJob job;
  job.set_from_day(closed->day() == 0 ? 0 : closed->day() + 1);
  job.set_to_day(n);
  job.set_closed_by(actor);
  job.set_started_at_unix_ms(absl::ToUnixMillis(now));
  closed->set_day(n);
  txn.Put(days_, keys::Closed(tenant).bytes(), closed->SerializeAsString());
  txn.Put(days_, keys::Closing(tenant).bytes(), job.SerializeAsString());
  return std::optional<CloseJob>(job);
}

absl::StatusOr<SettlementStore::Tallied> SettlementStore::Tally(const std::string& tenant,
                                                                const CloseJob& job) const {
  auto closed = ClosedThrough(nullptr, tenant);
  if (!closed.ok()) return closed.status();
  BalanceMap running;
  for (const AccountBalance& b : closed->balances()) running[b.account()] = b;

  Tallied out;
  std::optional<uint64_t> current;
  DayTally tally;
  LedgerEntry entry;      // one message for every entry of the scan: its fields keep their memory
  StatementLine scratch;  // likewise, one line for every line
  auto finish_day = [&]() {
    if (!current) return;
    const absl::CivilDay civil = DayOfNumber(*current);
    BusinessDay d;
    d.set_tenant_id(tenant);
    d.set_date(FormatCompactDate(civil));
    d.set_state(perks::v1::BUSINESS_DAY_CLOSED);
    d.set_starts_at_unix_ms(absl::ToUnixMillis(DayStart(civil, cutoff_)));
    d.set_ends_at_unix_ms(absl::ToUnixMillis(DayEnd(civil, cutoff_)));
    d.set_closed_at_unix_ms(job.started_at_unix_ms());
    d.set_closed_by(job.closed_by());
    d.set_entries(tally.entries);
    for (Funder f : kFunders) {
      perks::v1::StatementSummary s = tally.funders[f].Summary();
      s.set_funder(f);
      s.set_file_name(StatementFileName(tenant, d.date(), s));
      *d.add_funder_statements() = std::move(s);
    }
    for (const auto* m : Sorted(tally.merchants)) {
      perks::v1::StatementSummary s = m->second.Summary();
      s.set_merchant_id(m->first);
      s.set_file_name(StatementFileName(tenant, d.date(), s));
      *d.add_merchant_statements() = std::move(s);
    }
    for (const auto* m : Sorted(tally.payables)) {
      for (const auto& [funder, line] : m->second) *d.add_payables() = line;
    }
    for (const auto* b : Sorted(running)) *d.add_closing_balances() = b->second;
    out.days.push_back(std::move(d));
    tally = DayTally();
  };
  absl::Status scanned = ScanEach(
      *db_, entries_, keys::EntriesOfDay(tenant, job.from_day()).bytes(),
      keys::EntriesOfDay(tenant, job.to_day() + 1).bytes(),
      [&](std::string_view key, std::string_view value) -> absl::Status {
        uint64_t day = 0;
        if (!DayOfEntryKey(key, &day) || !entry.ParseFromArray(value.data(), value.size())) {
          return Unreadable("ledger entry");
        }
        if (current != day) {
          finish_day();
          current = day;
        }
        ++tally.entries;
        for (const perks::v1::Posting& p : entry.postings()) Apply(running, p);
        ForEachLine(entry, LineFilter(), scratch, [&](const StatementLine& line) {
          tally.funders[line.funder].Add(line);
          tally.merchants[line.merchant_id].Add(line);
          if (line.funder == perks::v1::FUNDER_MERCHANT) return;  // never paid out
          auto& p = tally.Payable(line.merchant_id, line.funder);
          p.set_owed_fen(p.owed_fen() + line.share_fen);
        });
        if (entry.has_payout()) {
          const perks::v1::Payout& po = entry.payout();
          auto& p = tally.Payable(po.merchant_id(), po.funder());
          p.set_paid_fen(p.paid_fen() + po.amount_fen());
        }
        return absl::OkStatus();
      });
  if (!scanned.ok()) return scanned;
  finish_day();
  for (const auto* b : Sorted(running)) out.closing.push_back(b->second);
  return out;
}

absl::Status SettlementStore::FinishClose(storage::Txn& txn, const std::string& tenant,
                                          const std::vector<BusinessDay>& days,
                                          const std::vector<AccountBalance>& closing) {
  auto job = GetRecord<CloseJob>(txn, days_, keys::Closing(tenant));
  if (!job.ok()) return job.status();
  if (!job->has_value()) return absl::OkStatus();  // finished already
  for (const BusinessDay& d : days) {
    auto civil = ParseCompactDate(d.date(), "date");
    if (!civil.ok()) return civil.status();
    txn.Put(days_, keys::Day(tenant, DayNumber(*civil)).bytes(), d.SerializeAsString());
  }
  auto closed = ClosedThrough(&txn, tenant);
  if (!closed.ok()) return closed.status();
  closed->set_balances_day((*job)->to_day());
  closed->clear_balances();
  for (const AccountBalance& b : closing) *closed->add_balances() = b;
  txn.Put(days_, keys::Closed(tenant).bytes(), closed->SerializeAsString());
  txn.Delete(days_, keys::Closing(tenant).bytes());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, CloseJob>>> SettlementStore::Jobs() const {
  std::vector<std::pair<std::string, CloseJob>> out;
  storage::Key prefix = keys::ClosingPrefix();
  absl::Status s = ScanEach(
      *db_, days_, prefix.bytes(), prefix.PrefixEnd(),
      [&](std::string_view key, std::string_view value) -> absl::Status {
        storage::KeyReader r(key);
        std::string kind, tenant;
        CloseJob job;
        if (!r.Str(&kind) || !r.Str(&tenant) || !job.ParseFromArray(value.data(), value.size())) {
          return Unreadable("close job");
        }
        out.emplace_back(std::move(tenant), std::move(job));
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<BusinessDay> SettlementStore::GetDay(const std::string& tenant,
                                                    absl::CivilDay day) const {
  const uint64_t n = DayNumber(day);
  auto kept = GetRecord<BusinessDay>(*db_, days_, keys::Day(tenant, n));
  if (!kept.ok()) return kept.status();
  if (kept->has_value()) return std::move(**kept);
  BusinessDay d;
  d.set_tenant_id(tenant);
  d.set_date(FormatCompactDate(day));
  d.set_starts_at_unix_ms(absl::ToUnixMillis(DayStart(day, cutoff_)));
  d.set_ends_at_unix_ms(absl::ToUnixMillis(DayEnd(day, cutoff_)));
  auto closed = ClosedThrough(nullptr, tenant);
  if (!closed.ok()) return closed.status();
  auto job = GetRecord<CloseJob>(*db_, days_, keys::Closing(tenant));
  if (!job.ok()) return job.status();
  if (closed->day() == 0 || n > closed->day()) {
    d.set_state(perks::v1::BUSINESS_DAY_OPEN);
  } else if (job->has_value() && n >= (*job)->from_day()) {
    d.set_state(perks::v1::BUSINESS_DAY_CLOSING);
  } else {
    d.set_state(perks::v1::BUSINESS_DAY_CLOSED);  // closed with no entries
    for (Funder f : kFunders) {
      perks::v1::StatementSummary s = StatementTally().Summary();
      s.set_funder(f);
      s.set_file_name(StatementFileName(tenant, d.date(), s));
      *d.add_funder_statements() = std::move(s);
    }
  }
  return d;
}

absl::StatusOr<std::vector<AccountBalance>> SettlementStore::Balances(
    const std::string& tenant) const {
  std::vector<AccountBalance> out;
  storage::Key prefix = keys::BalancesOf(tenant);
  absl::Status s = ScanEach(*db_, balances_, prefix.bytes(), prefix.PrefixEnd(),
                            [&](std::string_view, std::string_view value) -> absl::Status {
                              AccountBalance b;
                              if (!b.ParseFromArray(value.data(), value.size())) {
                                return Unreadable("balance");
                              }
                              out.push_back(std::move(b));
                              return absl::OkStatus();
                            });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<AccountBalance>> SettlementStore::ClosingBalances(
    const std::string& tenant, absl::CivilDay day) const {
  auto state = GetDay(tenant, day);
  if (!state.ok()) return state.status();
  if (state->state() != perks::v1::BUSINESS_DAY_CLOSED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "business day ", FormatCompactDate(day), " of ", tenant,
        " is not closed: its closing balances exist once it is; ask without a date for now"));
  }
  // The latest day with entries up to `day`: a day without entries closes as the one before.
  std::vector<AccountBalance> out;
  absl::Status s = ScanEach(*db_, days_, keys::DaysOf(tenant).bytes(),
                            keys::Day(tenant, DayNumber(day) + 1).bytes(),
                            [&](std::string_view, std::string_view value) -> absl::Status {
                              BusinessDay d;
                              if (!d.ParseFromArray(value.data(), value.size())) {
                                return Unreadable("business day");
                              }
                              out.assign(d.closing_balances().begin(), d.closing_balances().end());
                              return absl::OkStatus();
                            });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<perks::v1::LedgerCheck> SettlementStore::Check(const std::string& tenant) const {
  perks::v1::LedgerCheck out;
  std::map<std::string, AccountBalance> recomputed;
  bool postings_ok = true;
  storage::Key prefix = keys::EntriesOf(tenant);
  absl::Status s =
      ScanEach(*db_, entries_, prefix.bytes(), prefix.PrefixEnd(),
               [&](std::string_view, std::string_view value) -> absl::Status {
                 LedgerEntry entry;
                 if (!entry.ParseFromArray(value.data(), value.size()))
                   return Unreadable("ledger entry");
                 out.set_entries(out.entries() + 1);
                 for (const perks::v1::Posting& p : entry.postings()) {
                   out.set_postings(out.postings() + 1);
                   if (p.amount_fen() <= 0 || p.debit_account() == p.credit_account()) {
                     postings_ok = false;
                     out.add_mismatches(
                         absl::StrCat("entry ", entry.entry_id(), ": a posting of ", p.amount_fen(),
                                      " fen from ", p.debit_account(), " to ", p.credit_account()));
                   }
                   Apply(recomputed, p);
                 }
                 return absl::OkStatus();
               });
  if (!s.ok()) return s;
  auto kept = Balances(tenant);
  if (!kept.ok()) return kept.status();
  int64_t sum_fen = 0;
  for (const AccountBalance& b : *kept) {
    sum_fen += b.balance_fen();
    auto it = recomputed.find(b.account());
    const int64_t debit = it == recomputed.end() ? 0 : it->second.debit_fen();
    const int64_t credit = it == recomputed.end() ? 0 : it->second.credit_fen();
    if (debit != b.debit_fen() || credit != b.credit_fen()) {
      out.add_mismatches(absl::StrCat(b.account(), ": kept ", b.debit_fen(), "/", b.credit_fen(),
                                      " fen (debit/credit), postings make ", debit, "/", credit));
    }
    if (it != recomputed.end()) recomputed.erase(it);
  }
  for (const auto& [account, b] : recomputed) {
    out.add_mismatches(absl::StrCat(account, ": no balance kept, postings make ", b.debit_fen(),
                                    "/", b.credit_fen()));
  }
  out.set_sum_fen(sum_fen);
  out.set_balanced(postings_ok && sum_fen == 0 && out.mismatches_size() == 0);
  return out;
}

absl::Status SettlementStore::StatementPage(const BusinessDay& day,
                                            const perks::v1::GetStatementRequest& req,
                                            perks::v1::StatementPage* out) const {
  auto civil = ParseCompactDate(day.date(), "date");
  if (!civil.ok()) return civil.status();
  const uint64_t n = DayNumber(*civil);
  const bool by_merchant = !req.merchant_id().empty();
  perks::v1::StatementSummary summary = StatementTally().Summary();
  summary.set_funder(req.funder());
  summary.set_merchant_id(req.merchant_id());
  summary.set_file_name(StatementFileName(day.tenant_id(), day.date(), summary));
  for (const auto& s : by_merchant ? day.merchant_statements() : day.funder_statements()) {
    if (by_merchant ? s.merchant_id() == req.merchant_id() : s.funder() == req.funder()) {
      summary = s;
    }
  }
  const int32_t page_lines =
      req.page_lines() <= 0 ? kPageLinesDefault : std::min(req.page_lines(), kPageLinesMax);
  std::string start = keys::EntriesOfDay(day.tenant_id(), n).bytes();
  if (!req.page_token().empty()) {
    start = Unhex(req.page_token());
    if (start.rfind(keys::EntriesOfDay(day.tenant_id(), n).bytes(), 0) != 0) {
      return absl::InvalidArgumentError(
          "page_token is not one this statement gave; start again with an empty page_token");
    }
  }
  std::string csv;
  if (req.page_token().empty()) {
    csv = StatementHead(
        day.tenant_id(), day.date(),
        by_merchant ? absl::StrCat("MERCHANT:", req.merchant_id()) : FunderName(req.funder()));
  }
  csv.reserve(csv.size() + static_cast<size_t>(page_lines) * 200);
  LineFilter which;
  if (by_merchant) {
    which.merchant_id = req.merchant_id();
  } else {
    which.funder = req.funder();
  }
  std::string last;
  bool bad = false;
  LedgerEntry entry;  // reused, as in Tally
  StatementLine scratch;
  auto visited = db_->Scan(
      entries_, start, keys::EntriesOfDay(day.tenant_id(), n + 1).bytes(),
      static_cast<size_t>(page_lines), [&](std::string_view key, std::string_view value) {
        last.assign(key);
        if (!entry.ParseFromArray(value.data(), value.size())) {
          bad = true;
          return false;
        }
        ForEachLine(entry, which, scratch, [&](const StatementLine& line) { csv += line.csv; });
        return true;
      });
  if (!visited.ok()) return visited.status();
  if (bad) return Unreadable("ledger entry");
  if (*visited == static_cast<size_t>(page_lines)) {
    out->set_next_page_token(HexEncode(last + '\0'));
  } else {
    csv += StatementTrailer(summary);
  }
  out->set_csv(std::move(csv));
  *out->mutable_summary() = std::move(summary);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<OurLine>> SettlementStore::FunderLines(const std::string& tenant,
                                                                  absl::CivilDay day,
                                                                  Funder funder) const {
  std::vector<OurLine> out;
  const uint64_t n = DayNumber(day);
  LineFilter which;
  which.funder = funder;
  which.csv = false;
  LedgerEntry entry;  // reused, as in Tally
  StatementLine scratch;
  absl::Status s = ScanEach(*db_, entries_, keys::EntriesOfDay(tenant, n).bytes(),
                            keys::EntriesOfDay(tenant, n + 1).bytes(),
                            [&](std::string_view, std::string_view value) -> absl::Status {
                              if (!entry.ParseFromArray(value.data(), value.size())) {
                                return Unreadable("ledger entry");
                              }
                              ForEachLine(entry, which, scratch, [&](const StatementLine& line) {
                                out.push_back({line.reference, line.share_fen});
                              });
                              return absl::OkStatus();
                            });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<perks::storage::v1::StoredReconciliation>>
SettlementStore::GetReconciliation(storage::Txn* txn, const std::string& tenant, absl::CivilDay day,
                                   Funder funder) const {
  using Rec = perks::storage::v1::StoredReconciliation;
  storage::Key key = keys::Recon(tenant, DayNumber(day), static_cast<uint64_t>(funder));
  return txn ? GetRecord<Rec>(*txn, recon_, key) : GetRecord<Rec>(*db_, recon_, key);
}

absl::Status SettlementStore::SaveReconciliation(storage::Txn& txn,
                                                 const perks::v1::Reconciliation& r) {
  auto day = ParseCompactDate(r.date(), "date");
  if (!day.ok()) return day.status();
  perks::storage::v1::StoredReconciliation rec;
  *rec.mutable_reconciliation() = r;
  txn.Put(recon_,
          keys::Recon(r.tenant_id(), DayNumber(*day), static_cast<uint64_t>(r.funder())).bytes(),
          rec.SerializeAsString());
  return absl::OkStatus();
}

absl::Status SettlementStore::PostPayout(storage::Txn& txn, perks::v1::Payout& payout,
                                         absl::Time now) {
  const std::string account =
      MerchantAccount(payout.tenant_id(), payout.merchant_id(), payout.funder());
  auto kept = GetRecord<AccountBalance>(txn, balances_, keys::Balance(payout.tenant_id(), account));
  if (!kept.ok()) return kept.status();
  const int64_t owed_fen = -kept->value_or(AccountBalance()).balance_fen();
  if (payout.amount_fen() > owed_fen) {
    return absl::FailedPreconditionError(
        absl::StrCat(FunderName(payout.funder()), " owes merchant ", payout.merchant_id(), " ",
                     FormatYuan(owed_fen), " yuan now, less than the payout of ",
                     FormatYuan(payout.amount_fen()), "; check the amount against GetPayables"));
  }
  auto first_open = FirstOpenDay(txn, payout.tenant_id());
  if (!first_open.ok()) return first_open.status();
  const uint64_t day = std::max(DayNumber(BusinessDayOf(now, cutoff_)), *first_open);
  payout.set_date(FormatCompactDate(DayOfNumber(day)));
  LedgerEntry entry;
  entry.set_entry_id(absl::StrCat("payout/", payout.payout_id()));
  *entry.mutable_payout() = payout;
  for (auto& p : PostingsOf(payout)) *entry.add_postings() = std::move(p);
  if (absl::Status s = WriteEntry(txn, payout.tenant_id(), day, entry); !s.ok()) return s;
  txn.Put(payouts_, keys::Payout(payout.tenant_id(), payout.payout_id()).bytes(),
          payout.SerializeAsString());
  return absl::OkStatus();
}

absl::Status SettlementStore::Payables(const perks::v1::GetPayablesRequest& req,
                                       absl::CivilDay from, absl::CivilDay to,
                                       perks::v1::GetPayablesResponse* out) const {
  std::map<std::pair<std::string, int>, perks::v1::PayableLine> lines;
  absl::Status s =
      ScanEach(*db_, days_, keys::Day(req.tenant_id(), DayNumber(from)).bytes(),
               keys::Day(req.tenant_id(), DayNumber(to) + 1).bytes(),
               [&](std::string_view, std::string_view value) -> absl::Status {
                 BusinessDay d;
                 if (!d.ParseFromArray(value.data(), value.size()))
                   return Unreadable("business day");
                 for (const perks::v1::PayableLine& p : d.payables()) {
                   if (req.funder() != perks::v1::FUNDER_UNSPECIFIED && p.funder() != req.funder())
                     continue;
                   if (!req.merchant_id().empty() && p.merchant_id() != req.merchant_id()) continue;
                   auto& line = lines[{p.merchant_id(), p.funder()}];
                   line.set_merchant_id(p.merchant_id());
                   line.set_funder(p.funder());
                   line.set_owed_fen(line.owed_fen() + p.owed_fen());
                   line.set_paid_fen(line.paid_fen() + p.paid_fen());
                 }
                 return absl::OkStatus();
               });
  if (!s.ok()) return s;
  auto balances = Balances(req.tenant_id());
  if (!balances.ok()) return balances.status();
  std::map<std::string, int64_t> balance_of;
  for (const AccountBalance& b : *balances) balance_of[b.account()] = b.balance_fen();
  for (auto& [key, line] : lines) {
    line.set_outstanding_fen(
        -balance_of[MerchantAccount(req.tenant_id(), line.merchant_id(), line.funder())]);
    out->set_owed_fen(out->owed_fen() + line.owed_fen());
    out->set_paid_fen(out->paid_fen() + line.paid_fen());
    *out->add_lines() = std::move(line);
  }
  return absl::OkStatus();
}

absl::Status SettlementStore::ListPayouts(const perks::v1::ListPayoutsRequest& req,
                                          perks::v1::ListPayoutsResponse* out) const {
  storage::Key prefix = keys::PayoutsOf(req.tenant_id());
  return ScanEach(*db_, payouts_, prefix.bytes(), prefix.PrefixEnd(),
                  [&](std::string_view, std::string_view value) -> absl::Status {
                    perks::v1::Payout p;
                    if (!p.ParseFromArray(value.data(), value.size())) return Unreadable("payout");
                    if (req.merchant_id().empty() || p.merchant_id() == req.merchant_id()) {
                      *out->add_payouts() = std::move(p);
                    }
                    return absl::OkStatus();
                  });
}

}  // namespace perks::settlement
