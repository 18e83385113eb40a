#include "services/promotion/rpc/reservations.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/personal.h"
#include "services/common/records.h"
#include "services/promotion/store/promotion_keys.h"

namespace perks::promotion {
namespace {

using perks::storage::v1::HoldRecord;
using perks::storage::v1::ReservationRecord;
using perks::storage::v1::UsedRecord;
using perks::v1::Reservation;

constexpr int64_t kHoldSecondsDefault = 15 * 60;

HoldRecord ToRecord(const Hold& h) {
  HoldRecord r;
  r.set_campaign_id(h.campaign_id);
  r.set_version(h.version);
  r.set_amount_fen(h.amount_fen);
  for (const auto& share : h.funding) *r.add_funding() = share;
  r.set_member_id(h.member_id);
  r.set_merchant_id(h.merchant_id);
  r.set_day(h.day);
  r.set_week(h.week);
  r.set_month(h.month);
  return r;
}

Hold FromRecord(const HoldRecord& r) {
  Hold h;
  h.campaign_id = r.campaign_id();
  h.version = r.version();
  h.amount_fen = r.amount_fen();
  h.funding.assign(r.funding().begin(), r.funding().end());
  h.member_id = r.member_id();
  h.merchant_id = r.merchant_id();
  h.day = r.day();
  h.week = r.week();
  h.month = r.month();
  return h;
}

std::vector<Hold> HoldsOf(const ReservationRecord& rec) {
  std::vector<Hold> holds;
  for (const HoldRecord& r : rec.holds()) holds.push_back(FromRecord(r));
  return holds;
}

absl::Status Unreadable() {
  return absl::DataLossError("a stored reservation is unreadable; restore from a backup");
}

const char* StateName(perks::v1::ReservationState s) {
  switch (s) {
    case perks::v1::RESERVATION_STATE_HELD:
      return "held";
    case perks::v1::RESERVATION_STATE_COMMITTED:
      return "committed";
    case perks::v1::RESERVATION_STATE_RELEASED:
      return "released";
    case perks::v1::RESERVATION_STATE_EXPIRED:
      return "expired";
    default:
      return "unknown";
  }
}

}  // namespace

Reservations::Reservations(storage::Db* db, storage::GroupCommitWriter* writer, const Clock* clock,
                           Rules rules)
    : db_(db),
      writer_(writer),
      clock_(clock),
      rules_(std::move(rules)),
      reservations_(db->Family("reservations")),
      usage_(db->Family("usage")),
      expiry_(clock, [this](std::vector<std::string> ids) { Expire(std::move(ids)); }) {}

Reservations::~Reservations() { Stop(); }

void Reservations::Stop() { expiry_.Stop(); }

absl::Status Reservations::Restore() {
  absl::Status s = ScanEach(
      *db_, usage_, keys::UsedPrefix().bytes(), keys::UsedPrefix().PrefixEnd(),
      [&](std::string_view key, std::string_view value) {
        storage::KeyReader reader(key);
        std::string prefix, counter;
        UsedRecord used;
        if (!reader.Str(&prefix) || !reader.Str(&counter) ||
            !used.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return absl::DataLossError("a stored usage counter is unreadable; restore from a backup");
        }
        book_.LoadUsed(counter, used.used_fen(), used.used_count());
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return ScanEach(*db_, reservations_, keys::OpenPrefix().bytes(), keys::OpenPrefix().PrefixEnd(),
                  [&](std::string_view key, std::string_view) -> absl::Status {
                    storage::KeyReader reader(key);
                    std::string prefix, id;
                    if (!reader.Str(&prefix) || !reader.Str(&id)) return Unreadable();
                    auto rec =
                        GetRecord<ReservationRecord>(*db_, reservations_, keys::Reservation(id));
                    if (!rec.ok()) return rec.status();
                    if (!rec->has_value()) return Unreadable();
                    const Reservation& r = (*rec)->reservation();
                    if (r.state() != perks::v1::RESERVATION_STATE_HELD) return absl::OkStatus();
                    book_.Restore(HoldsOf(**rec));
                    expiry_.Add(id, absl::FromUnixMillis(r.expires_at_unix_ms()));
                    return absl::OkStatus();
                  });
}

absl::Status Reservations::Reserve(storage::Txn& txn, const perks::v1::Basket& basket,
                                   const Mutation& m, Reservation* out, std::vector<Hold>* held) {
  std::shared_ptr<const RuleSet> rules = rules_();
  EvalResult result;
  *held = book_.Reserve(*rules, basket, result);
  int64_t hold_seconds = kHoldSecondsDefault;
  for (const AppliedDiscount& a : result.applied) {
    int64_t s = rules->campaign(a.campaign).spec().hold_seconds();
    if (s > 0) hold_seconds = std::min(hold_seconds, s);
  }
  ReservationRecord rec;
  Reservation& r = *rec.mutable_reservation();
  r.set_reservation_id(absl::StrCat("R", RandomHex(10)));
  r.set_state(perks::v1::RESERVATION_STATE_HELD);
  rules->ToProto(basket, result, r.mutable_evaluation());
  r.set_created_at_unix_ms(m.now_unix_ms);
  r.set_expires_at_unix_ms(m.now_unix_ms + hold_seconds * 1000);
  r.set_tenant_id(basket.tenant_id());
  for (const Hold& h : *held) *rec.add_holds() = ToRecord(h);
  rec.set_tenant_id(basket.tenant_id());
  rec.set_merchant_id(basket.merchant_id());
  rec.set_updated_at_unix_ms(m.now_unix_ms);
  txn.Put(reservations_, keys::Reservation(r.reservation_id()).bytes(), rec.SerializeAsString());
  txn.Put(reservations_, keys::Open(r.reservation_id()).bytes(), "");
  *out = r;
  return absl::OkStatus();
}

void Reservations::Undo(const std::vector<Hold>& held) { book_.Release(held); }

void Reservations::Reserved(const Reservation& r) {
  if (r.state() != perks::v1::RESERVATION_STATE_HELD) return;
  expiry_.Add(r.reservation_id(), absl::FromUnixMillis(r.expires_at_unix_ms()));
}

absl::StatusOr<ReservationRecord> Reservations::LoadFor(storage::Txn& txn, const std::string& id,
                                                        const Mutation& m) {
  if (id.empty()) return absl::InvalidArgumentError("name the reservation_id Reserve answered");
  auto rec = GetRecord<ReservationRecord>(txn, reservations_, keys::Reservation(id));
  if (!rec.ok()) return rec.status();
  if (!rec->has_value() || (!m.tenant_id.empty() && (*rec)->tenant_id() != m.tenant_id) ||
      (!m.merchant_id.empty() && (*rec)->merchant_id() != m.merchant_id)) {
    return absl::NotFoundError(absl::StrCat("no reservation ", id, " of yours"));
  }
  return std::move(**rec);
}

absl::Status Reservations::Settle(storage::Txn& txn, ReservationRecord& rec,
                                  perks::v1::ReservationState state, const std::string& reason,
                                  int64_t now_ms, std::vector<Hold>* settled) {
  Reservation& r = *rec.mutable_reservation();
  r.set_state(state);
  r.set_reason(reason);
  r.set_settled_at_unix_ms(now_ms);
  rec.set_updated_at_unix_ms(now_ms);
  txn.Put(reservations_, keys::Reservation(r.reservation_id()).bytes(), rec.SerializeAsString());
  txn.Delete(reservations_, keys::Open(r.reservation_id()).bytes());
  *settled = HoldsOf(rec);
  return absl::OkStatus();
}

absl::Status Reservations::Commit(storage::Txn& txn, const perks::v1::CommitRequest& req,
                                  const Mutation& m, Reservation* out, std::vector<Hold>* settled) {
  auto rec = LoadFor(txn, req.reservation_id(), m);
  if (!rec.ok()) return rec.status();
  const Reservation& r = rec->reservation();
  switch (r.state()) {
    case perks::v1::RESERVATION_STATE_COMMITTED:
      *out = r;
      return absl::OkStatus();
    case perks::v1::RESERVATION_STATE_HELD:
      break;
    default:
      return absl::FailedPreconditionError(
          absl::StrCat("reservation ", r.reservation_id(), " was ", StateName(r.state()), " (",
                       r.reason(), "); its discounts are no longer held: reserve again"));
  }
  if (m.now_unix_ms >= r.expires_at_unix_ms()) {
    return absl::FailedPreconditionError(
        absl::StrCat("reservation ", r.reservation_id(),
                     " has expired; its discounts are no longer held: reserve again"));
  }
  rec->mutable_reservation()->set_reference(req.reference());
  if (absl::Status s =
          Settle(txn, *rec, perks::v1::RESERVATION_STATE_COMMITTED, "", m.now_unix_ms, settled);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AddUsed(txn, *settled); !s.ok()) return s;
  *out = rec->reservation();
  return absl::OkStatus();
}

// What is used survives restarts in one record per counter.
//
// The record's value is not read from the database: it is what the book counts as used, plus what
// this group's earlier commands added. The book's used counts move only in the Dones of this
// writer's commands (Committed), which run once their group is written and before the next
// group's commands; so outside this group's own writes the book and the stored records agree.
absl::Status Reservations::AddUsed(storage::Txn& txn, const std::vector<Hold>& holds) {
  struct GroupWrites {  // reads this group's own writes only
    storage::Txn& txn;
    auto Get(storage::Cf cf, std::string_view key) { return txn.GetWritten(cf, key); }
  } group_writes{txn};
  absl::Status bad = absl::OkStatus();
  for (const Hold& h : holds) {
    UsageBook::ForEachCounter(h, [&](const std::string& counter, int64_t fen) {
      if (!bad.ok()) return;
      storage::Key key = keys::Used(counter);
      auto written = GetRecord<UsedRecord>(group_writes, usage_, key);
      if (!written.ok()) {
        bad = written.status();
        return;
      }
      UsedRecord next;
      if (written->has_value()) {
        next = std::move(**written);
      } else {
        const Counter book = book_.Of(counter);
        next.set_used_fen(book.used_fen);
        next.set_used_count(book.used_count);
      }
      next.set_used_fen(next.used_fen() + fen);
      next.set_used_count(next.used_count() + 1);
      txn.Put(usage_, key.bytes(), next.SerializeAsString());
    });
  }
  return bad;
}

absl::Status Reservations::Grant(storage::Txn& txn, const perks::v1::GrantRequest& req,
                                 const perks::v1::Basket& member, const Mutation& m,
                                 perks::v1::GrantResult* out, std::vector<Hold>* held) {
  std::shared_ptr<const RuleSet> rules = rules_();
  GrantAnswer answer;
  *held =
      book_.ReserveGrants(*rules, req.event(), member, req.claim_fen(), req.campaign_id(), answer);
  rules->GrantsToProto(member, answer, out);
  // Kept like a reservation committed at once, so the grant can be found and replayed.
  ReservationRecord rec;
  Reservation& r = *rec.mutable_reservation();
  r.set_reservation_id(absl::StrCat("G", RandomHex(10)));
  r.set_state(perks::v1::RESERVATION_STATE_COMMITTED);
  r.set_created_at_unix_ms(m.now_unix_ms);
  r.set_tenant_id(member.tenant_id());
  r.set_reason(absl::StrCat("grant ", perks::v1::GrantEvent_Name(req.event())));
  for (const Hold& h : *held) *rec.add_holds() = ToRecord(h);
  rec.set_tenant_id(member.tenant_id());
  rec.set_updated_at_unix_ms(m.now_unix_ms);
  txn.Put(reservations_, keys::Reservation(r.reservation_id()).bytes(), rec.SerializeAsString());
  out->set_grant_id(r.reservation_id());
  return AddUsed(txn, *held);
}

void Reservations::Committed(const std::string& reservation_id, const std::vector<Hold>& settled) {
  book_.Commit(settled);
  expiry_.Remove(reservation_id);
}

absl::Status Reservations::Release(storage::Txn& txn, const perks::v1::ReleaseRequest& req,
                                   const Mutation& m, Reservation* out,
                                   std::vector<Hold>* settled) {
  auto rec = LoadFor(txn, req.reservation_id(), m);
  if (!rec.ok()) return rec.status();
  const Reservation& r = rec->reservation();
  switch (r.state()) {
    case perks::v1::RESERVATION_STATE_RELEASED:
    case perks::v1::RESERVATION_STATE_EXPIRED:
      *out = r;
      return absl::OkStatus();
    case perks::v1::RESERVATION_STATE_HELD:
      break;
    default:
      return absl::FailedPreconditionError(
          absl::StrCat("reservation ", r.reservation_id(),
                       " was committed; a committed discount is returned by a refund at checkout"));
  }
  std::string reason = req.reason().empty() ? "released by " + m.actor : req.reason();
  if (absl::Status s =
          Settle(txn, *rec, perks::v1::RESERVATION_STATE_RELEASED, reason, m.now_unix_ms, settled);
      !s.ok()) {
    return s;
  }
  *out = rec->reservation();
  return absl::OkStatus();
}

void Reservations::Released(const std::string& reservation_id, const std::vector<Hold>& settled) {
  book_.Release(settled);
  expiry_.Remove(reservation_id);
}

void Reservations::Expire(std::vector<std::string> ids) {
  struct Work {
    std::vector<std::string> ids;
    std::vector<std::string> expired;
    std::vector<Hold> holds;
  };
  auto work = std::make_shared<Work>();
  work->ids = std::move(ids);
  absl::Status submitted = writer_->Submit(
      [this, work](storage::Txn& txn) -> absl::Status {
        work->expired.clear();
        work->holds.clear();
        int64_t now_ms = absl::ToUnixMillis(clock_->Now());
        for (const std::string& id : work->ids) {
          auto rec = GetRecord<ReservationRecord>(txn, reservations_, keys::Reservation(id));
          if (!rec.ok()) return rec.status();
          if (!rec->has_value()) continue;
          const Reservation& r = (*rec)->reservation();
          if (r.state() != perks::v1::RESERVATION_STATE_HELD) continue;  // settled meanwhile
          if (r.expires_at_unix_ms() > now_ms) continue;
          std::vector<Hold> holds;
          std::string reason =
              absl::StrCat("held ", (r.expires_at_unix_ms() - r.created_at_unix_ms()) / 1000,
                           " s and neither committed nor released");
          if (absl::Status s =
                  Settle(txn, **rec, perks::v1::RESERVATION_STATE_EXPIRED, reason, now_ms, &holds);
              !s.ok()) {
            return s;
          }
          work->expired.push_back(id);
          work->holds.insert(work->holds.end(), holds.begin(), holds.end());
        }
        return absl::OkStatus();
      },
      [this, work](absl::Status s) {
        if (!s.ok()) {
          // Not written: they are still held and will be tried again.
          for (const std::string& id : work->ids) expiry_.Add(id, clock_->Now() + absl::Seconds(1));
          return;
        }
        book_.Release(work->holds);
        if (expired_) {
          for (const std::string& id : work->expired) expired_(id);
        }
      });
  if (!submitted.ok() && absl::IsResourceExhausted(submitted)) {
    // The writer is full: try again in a second (after Stop, nothing is expired any more).
    for (const std::string& id : work->ids) expiry_.Add(id, clock_->Now() + absl::Seconds(1));
  }
}

absl::StatusOr<Reservation> Reservations::Get(const std::string& reservation_id,
                                              const Mutation& scope) const {
  auto rec = GetRecord<ReservationRecord>(*db_, reservations_, keys::Reservation(reservation_id));
  if (!rec.ok()) return rec.status();
  if (!rec->has_value() || (!scope.tenant_id.empty() && (*rec)->tenant_id() != scope.tenant_id) ||
      (!scope.merchant_id.empty() && (*rec)->merchant_id() != scope.merchant_id)) {
    return absl::NotFoundError(absl::StrCat("no reservation ", reservation_id, " of yours"));
  }
  return (*rec)->reservation();
}

perks::v1::CampaignBudgets Reservations::Budgets(const perks::v1::CampaignSpec& spec) const {
  perks::v1::CampaignBudgets out;
  out.set_campaign_id(spec.campaign_id());
  auto add = [&](std::string name, int64_t limit, int64_t used, int64_t held) {
    perks::v1::BudgetUse* b = out.add_budgets();
    b->set_name(std::move(name));
    b->set_limit(limit);
    b->set_used(used);
    b->set_held(held);
    b->set_left(limit > 0 ? std::max<int64_t>(0, limit - used - held) : 0);
    b->set_unlimited(limit == 0);
  };
  Counter total = book_.CampaignTotal(spec.campaign_id());
  add("campaign", spec.budget_fen(), total.used_fen, total.held_fen);
  add("campaign count", spec.budget_count(), total.used_count, total.held_count);
  for (const perks::v1::FundingShare& share : spec.funding()) {
    Counter f = book_.FunderTotal(spec.campaign_id(), share.funder());
    std::string name = perks::v1::Funder_Name(share.funder());
    add(absl::AsciiStrToLower(name.substr(name.find('_') + 1)), share.budget_fen(), f.used_fen,
        f.held_fen);
  }
  return out;
}

}  // namespace perks::promotion
