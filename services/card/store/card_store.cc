#include "services/card/store/card_store.h"

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/card/store/card_keys.h"
#include "services/common/audit.h"
#include "services/common/personal.h"
#include "services/common/records.h"

namespace perks::card {
namespace {

using perks::storage::v1::BatchRecord;
using perks::storage::v1::CardRecord;
using perks::storage::v1::HistoryRecord;
using perks::storage::v1::MemberRecord;
using perks::storage::v1::ProgramRecord;
using perks::v1::CardState;
using storage::Cf;

constexpr int kCardNumberAttemptsMax = 20;

absl::Status CardNotFound() {
  return absl::NotFoundError("no card with that number or id; check the number on the card");
}

bool InScope(std::string_view tenant_scope, std::string_view tenant) {
  return tenant_scope.empty() || tenant_scope == tenant;
}

}  // namespace

std::vector<std::string> CardStore::ColumnFamilies() {
  return {"programs", "members", "cards",       "index",
          "history",  "batches", "idempotency", kAuditFamily};
}

CardStore::CardStore(storage::Db* db, std::string id_hash_key)
    : db_(db),
      id_hash_key_(std::move(id_hash_key)),
      programs_(db->Family("programs")),
      members_(db->Family("members")),
      cards_(db->Family("cards")),
      index_(db->Family("index")),
      history_(db->Family("history")),
      batches_(db->Family("batches")),
      idempotency_(db->Family("idempotency")),
      rng_(std::random_device{}()) {}

std::string CardStore::CardIdFor(std::string_view card_number) const {
  // A POS names a card by its number: deriving the id from it makes that lookup one read.
  return absl::StrCat(
      "c",
      HexEncode(
          HmacSha256(id_hash_key_, absl::StrCat("card:", std::string(card_number))).substr(0, 10)));
}

std::string CardStore::MemberIdFor(std::string_view tenant_id, std::string_view id_number) const {
  // 80 bits of the keyed hash: collisions are negligible at the province's 6.5 million members.
  std::string subject =
      absl::StrCat("member:", std::string(tenant_id), ":", std::string(id_number));
  return absl::StrCat("m", HexEncode(HmacSha256(id_hash_key_, subject).substr(0, 10)));
}

perks::v1::Member MemberToApi(const MemberRecord& rec) {
  perks::v1::Member m;
  m.set_member_id(rec.member_id());
  m.set_name(rec.name());
  m.set_id_number_last4(rec.id_number_last4());
  m.set_phone_masked(rec.phone_masked());
  m.set_org_code(rec.org_code());
  *m.mutable_tags() = rec.tags();
  m.set_created_at_unix_ms(rec.created_at_unix_ms());
  m.set_updated_at_unix_ms(rec.updated_at_unix_ms());
  return m;
}

absl::Status CardStore::CreateProgram(storage::Txn& txn, const perks::v1::Program& program,
                                      const Mutation& m, perks::v1::Program* out) {
  auto existing = GetRecord<ProgramRecord>(txn, programs_, keys::Program(program.program_id()));
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return absl::AlreadyExistsError(
        absl::StrCat("program '", program.program_id(), "' already exists"));
  }
  ProgramRecord rec;
  *rec.mutable_program() = program;
  rec.mutable_program()->set_created_at_unix_ms(m.now_unix_ms);
  txn.Put(programs_, keys::Program(program.program_id()).bytes(), rec.SerializeAsString());
  *out = rec.program();
  return absl::OkStatus();
}

void CardStore::PutCard(storage::Txn& txn, const CardRecord& card) {
  txn.Put(cards_, keys::Card(card.card_id()).bytes(), card.SerializeAsString());
}

void CardStore::AppendHistory(storage::Txn& txn, CardRecord& card, perks::v1::HistoryEntry entry,
                              const Mutation& m) {
  uint64_t seq = static_cast<uint64_t>(card.next_history_seq());
  card.set_next_history_seq(card.next_history_seq() + 1);
  entry.set_seq(static_cast<int64_t>(seq));
  entry.set_at_unix_ms(m.now_unix_ms);
  entry.set_actor(m.actor);
  entry.set_request_id(m.request_id);
  HistoryRecord rec;
  *rec.mutable_entry() = std::move(entry);
  txn.Put(history_, keys::History(card.card_id(), seq).bytes(), rec.SerializeAsString());
}

absl::StatusOr<CardRecord> CardStore::NewCard(storage::Txn& txn, const perks::v1::Program& program,
                                              std::string_view member_id, std::string_view batch_id,
                                              const Mutation& m) {
  std::string number;
  for (int attempt = 0;; ++attempt) {
    if (attempt == kCardNumberAttemptsMax) {
      return absl::ResourceExhaustedError(
          absl::StrCat("program '", program.program_id(),
                       "' is running out of card numbers; give it a longer card_number_length"));
    }
    number = NewCardNumber(program.bin_prefix(), program.card_number_length(), rng_);
    // The id is derived from the number, so a taken id is a taken number (or, once in about
    // 10^24 pairs, a hash collision): either way, draw again.
    auto taken = txn.Get(cards_, keys::Card(CardIdFor(number)).bytes());
    if (!taken.ok()) return taken.status();
    if (!taken->has_value()) break;
  }
  CardRecord card;
  card.set_card_id(CardIdFor(number));
  card.set_card_number(number);
  card.set_program_id(program.program_id());
  card.set_tenant_id(program.tenant_id());
  card.set_member_id(std::string(member_id));
  card.set_state(perks::v1::CARD_STATE_ISSUED);
  card.set_batch_id(std::string(batch_id));
  card.set_issued_at_unix_ms(m.now_unix_ms);
  card.set_updated_at_unix_ms(m.now_unix_ms);
  perks::v1::HistoryEntry entry;
  entry.mutable_transition()->set_from(perks::v1::CARD_STATE_UNSPECIFIED);
  entry.mutable_transition()->set_to(perks::v1::CARD_STATE_ISSUED);
  AppendHistory(txn, card, std::move(entry), m);
  txn.Put(index_, keys::Live(member_id, program.program_id()).bytes(), card.card_id());
  txn.Put(batches_, keys::BatchCard(batch_id, card.card_id()).bytes(), "");
  PutCard(txn, card);
  return card;
}

absl::Status CardStore::AddToBatch(storage::Txn& txn, std::string_view batch_id,
                                   std::string_view program_id, int64_t cards, const Mutation& m) {
  auto existing = GetRecord<BatchRecord>(txn, batches_, keys::Batch(batch_id));
  if (!existing.ok()) return existing.status();
  BatchRecord rec;
  if (existing->has_value()) {
    rec = **existing;
    if (rec.program_id() != program_id) {
      return absl::FailedPreconditionError(absl::StrCat("batch '", std::string(batch_id),
                                                        "' belongs to program '", rec.program_id(),
                                                        "'; use a new batch id"));
    }
  } else {
    rec.set_batch_id(std::string(batch_id));
    rec.set_program_id(std::string(program_id));
    rec.set_actor(m.actor);
    rec.set_created_at_unix_ms(m.now_unix_ms);
  }
  rec.set_card_count(rec.card_count() + cards);
  txn.Put(batches_, keys::Batch(batch_id).bytes(), rec.SerializeAsString());
  return absl::OkStatus();
}

absl::Status CardStore::ImportMembers(storage::Txn& txn, const std::vector<ImportRow>& rows,
                                      std::string_view issue_program_id, std::string_view batch_id,
                                      const Mutation& m, perks::v1::ImportMembersResponse* out) {
  if (m.tenant_scope.empty()) {
    return absl::InvalidArgumentError("name the city (tenant_id) the members belong to");
  }
  std::optional<perks::v1::Program> program;
  if (!issue_program_id.empty()) {
    auto p = FindProgram(txn, issue_program_id, m.tenant_scope);
    if (!p.ok()) return p.status();
    program = std::move(*p);
  }
  int64_t issued = 0;
  for (const ImportRow& row : rows) {
    const ValidMember& v = row.member;
    std::string member_id = MemberIdFor(m.tenant_scope, v.id_number);
    auto existing = GetRecord<MemberRecord>(txn, members_, keys::Member(member_id));
    if (!existing.ok()) return existing.status();
    MemberRecord rec;
    rec.set_member_id(member_id);
    rec.set_tenant_id(m.tenant_scope);
    rec.set_name(v.name);
    rec.set_id_number_last4(v.id_number.substr(v.id_number.size() - 4));
    rec.set_phone_masked(v.phone_masked);
    rec.set_org_code(v.org_code);
    for (const auto& t : v.tags) rec.add_tags(t);
    if (!existing->has_value()) {
      rec.set_created_at_unix_ms(m.now_unix_ms);
      rec.set_updated_at_unix_ms(m.now_unix_ms);
      txn.Put(members_, keys::Member(member_id).bytes(), rec.SerializeAsString());
      out->set_created(out->created() + 1);
    } else {
      const MemberRecord& old = **existing;
      rec.set_created_at_unix_ms(old.created_at_unix_ms());
      rec.set_updated_at_unix_ms(old.updated_at_unix_ms());
      if (rec.SerializeAsString() == old.SerializeAsString()) {
        out->set_unchanged(out->unchanged() + 1);
      } else {
        rec.set_updated_at_unix_ms(m.now_unix_ms);
        txn.Put(members_, keys::Member(member_id).bytes(), rec.SerializeAsString());
        out->set_updated(out->updated() + 1);
      }
    }
    if (program) {
      auto live = txn.Get(index_, keys::Live(member_id, program->program_id()).bytes());
      if (!live.ok()) return live.status();
      if (!live->has_value()) {
        auto card = NewCard(txn, *program, member_id, batch_id, m);
        if (!card.ok()) return card.status();
        ++issued;
      }
    }
  }
  if (issued > 0) {
    if (absl::Status s = AddToBatch(txn, batch_id, program->program_id(), issued, m); !s.ok()) {
      return s;
    }
  }
  out->set_cards_issued(issued);
  return absl::OkStatus();
}

absl::Status CardStore::IssueCards(storage::Txn& txn, std::string_view program_id,
                                   const std::vector<std::string>& member_ids,
                                   std::string_view batch_id, const Mutation& m,
                                   perks::v1::IssueCardsResponse* out) {
  auto p = FindProgram(txn, program_id, m.tenant_scope);
  if (!p.ok()) return p.status();
  const perks::v1::Program& program = *p;
  out->set_batch_id(std::string(batch_id));
  for (const auto& member_id : member_ids) {
    auto member = GetRecord<MemberRecord>(txn, members_, keys::Member(member_id));
    if (!member.ok()) return member.status();
    // A program issues cards to its own city's members only.
    if (!member->has_value() || (*member)->tenant_id() != program.tenant_id()) {
      return absl::NotFoundError(
          absl::StrCat("no member '", member_id, "'; import members before issuing their cards"));
    }
    auto live = txn.Get(index_, keys::Live(member_id, program_id).bytes());
    if (!live.ok()) return live.status();
    if (live->has_value()) {
      out->add_already_held(member_id);
      continue;
    }
    auto card = NewCard(txn, program, member_id, batch_id, m);
    if (!card.ok()) return card.status();
    auto api = ToApi(*card, {(*member)->tags().begin(), (*member)->tags().end()});
    if (!api.ok()) return api.status();
    *out->add_cards() = std::move(*api);
  }
  out->set_issued(out->cards_size());
  if (out->issued() > 0) return AddToBatch(txn, batch_id, program_id, out->issued(), m);
  return absl::OkStatus();
}

template <typename Reader>
absl::StatusOr<std::vector<std::string>> CardStore::MemberTags(Reader& r,
                                                               std::string_view member_id) const {
  auto member = GetRecord<MemberRecord>(r, members_, keys::Member(member_id));
  if (!member.ok()) return member.status();
  std::vector<std::string> tags;
  if (member->has_value()) tags.assign((*member)->tags().begin(), (*member)->tags().end());
  return tags;
}

template <typename Reader>
absl::StatusOr<perks::v1::Program> CardStore::FindProgram(Reader& r, std::string_view program_id,
                                                          std::string_view tenant_scope) const {
  auto p = GetRecord<ProgramRecord>(r, programs_, keys::Program(program_id));
  if (!p.ok()) return p.status();
  if (!p->has_value() || !InScope(tenant_scope, (*p)->program().tenant_id())) {
    return absl::NotFoundError(absl::StrCat("no program '", std::string(program_id),
                                            "'; create it first (perkctl programs create)"));
  }
  return (*p)->program();
}

template <typename Reader>
absl::StatusOr<CardRecord> CardStore::FindCard(Reader& r, const perks::v1::CardRef& ref,
                                               std::string_view tenant_scope) const {
  std::string card_id;
  switch (ref.ref_case()) {
    case perks::v1::CardRef::kCardNumber: {
      if (absl::Status s = ValidateCardNumber(ref.card_number()); !s.ok()) return s;
      card_id = CardIdFor(ref.card_number());
      break;
    }
    case perks::v1::CardRef::kCardId:
      if (absl::Status s = ValidateName("card_id", ref.card_id()); !s.ok()) return s;
      card_id = ref.card_id();
      break;
    default:
      return absl::InvalidArgumentError("name the card by card_number or card_id");
  }
  auto card = GetRecord<CardRecord>(r, cards_, keys::Card(card_id));
  if (!card.ok()) return card.status();
  if (!card->has_value()) return CardNotFound();
  if (ref.has_card_number() && (*card)->card_number() != ref.card_number()) return CardNotFound();
  if (!InScope(tenant_scope, (*card)->tenant_id())) return CardNotFound();
  return std::move(**card);
}

absl::StatusOr<perks::v1::Card> CardStore::ToApi(const CardRecord& rec,
                                                 const std::vector<std::string>& tags) const {
  perks::v1::Card c;
  c.set_card_id(rec.card_id());
  c.set_card_number_masked(MaskCardNumber(rec.card_number()));
  c.set_program_id(rec.program_id());
  c.set_tenant_id(rec.tenant_id());
  c.set_member_id(rec.member_id());
  c.set_state(rec.state());
  for (const auto& t : tags) c.add_member_tags(t);
  std::vector<std::string> names;
  for (const auto& [name, _] : rec.balances()) names.push_back(name);
  std::sort(names.begin(), names.end());  // map order is unspecified; answers are stable
  for (const auto& name : names) *c.add_balances() = rec.balances().at(name);
  c.set_replaced_by_card_id(rec.replaced_by_card_id());
  c.set_replaces_card_id(rec.replaces_card_id());
  c.set_issued_at_unix_ms(rec.issued_at_unix_ms());
  c.set_updated_at_unix_ms(rec.updated_at_unix_ms());
  return c;
}

absl::Status CardStore::ChangeState(storage::Txn& txn, const perks::v1::ChangeCardStateRequest& req,
                                    const Mutation& m, perks::v1::Card* out) {
  auto card = FindCard(txn, req.card(), m.tenant_scope);
  if (!card.ok()) return card.status();
  auto next = NextState(card->state(), req.action());
  if (!next.ok()) return next.status();
  perks::v1::HistoryEntry entry;
  entry.mutable_transition()->set_from(card->state());
  entry.mutable_transition()->set_to(*next);
  entry.mutable_transition()->set_reason(req.reason());
  card->set_state(*next);
  card->set_updated_at_unix_ms(m.now_unix_ms);
  AppendHistory(txn, *card, std::move(entry), m);
  if (!IsLive(*next)) {
    // Free the member's place in the program, unless a replacement card already holds it.
    std::string live_key = keys::Live(card->member_id(), card->program_id()).bytes();
    auto live = txn.Get(index_, live_key);
    if (!live.ok()) return live.status();
    if (live->has_value() && **live == card->card_id()) txn.Delete(index_, live_key);
  }
  PutCard(txn, *card);
  auto tags = MemberTags(txn, card->member_id());
  if (!tags.ok()) return tags.status();
  auto api = ToApi(*card, *tags);
  if (!api.ok()) return api.status();
  *out = std::move(*api);
  return absl::OkStatus();
}

absl::Status CardStore::Replace(storage::Txn& txn, const perks::v1::ReplaceCardRequest& req,
                                const Mutation& m, perks::v1::ReplaceCardResponse* out) {
  auto old = FindCard(txn, req.card(), m.tenant_scope);
  if (!old.ok()) return old.status();
  if (absl::Status s = CanReplace(old->state()); !s.ok()) return s;
  auto program = GetRecord<ProgramRecord>(txn, programs_, keys::Program(old->program_id()));
  if (!program.ok()) return program.status();
  if (!program->has_value()) return absl::DataLossError("the card's program record is missing");
  auto fresh = NewCard(txn, (*program)->program(), old->member_id(), old->batch_id(), m);
  if (!fresh.ok()) return fresh.status();

  // Balances move in name order so both cards' histories read the same way.
  std::vector<std::string> names;
  for (const auto& [name, _] : old->balances()) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const perks::v1::Balance& b = old->balances().at(name);
    (*fresh->mutable_balances())[name] = b;
    perks::v1::HistoryEntry out_entry, in_entry;
    out_entry.mutable_movement()->set_balance_name(name);
    out_entry.mutable_movement()->set_delta_fen(-b.amount_fen());
    out_entry.mutable_movement()->set_balance_after_fen(0);
    out_entry.mutable_movement()->set_memo(absl::StrCat("moved to ", fresh->card_id()));
    in_entry.mutable_movement()->set_balance_name(name);
    in_entry.mutable_movement()->set_delta_fen(b.amount_fen());
    in_entry.mutable_movement()->set_balance_after_fen(b.amount_fen());
    in_entry.mutable_movement()->set_memo(absl::StrCat("moved from ", old->card_id()));
    AppendHistory(txn, *old, std::move(out_entry), m);
    AppendHistory(txn, *fresh, std::move(in_entry), m);
  }
  old->clear_balances();

  perks::v1::HistoryEntry entry;
  entry.mutable_transition()->set_from(old->state());
  entry.mutable_transition()->set_to(perks::v1::CARD_STATE_REPLACED);
  entry.mutable_transition()->set_reason(req.reason());
  entry.mutable_transition()->set_related_card_id(fresh->card_id());
  AppendHistory(txn, *old, std::move(entry), m);
  old->set_state(perks::v1::CARD_STATE_REPLACED);
  old->set_replaced_by_card_id(fresh->card_id());
  old->set_updated_at_unix_ms(m.now_unix_ms);
  fresh->set_replaces_card_id(old->card_id());
  PutCard(txn, *old);
  PutCard(txn, *fresh);  // NewCard set the live index to the new card

  auto tags = MemberTags(txn, old->member_id());
  if (!tags.ok()) return tags.status();
  auto old_api = ToApi(*old, *tags);
  auto new_api = ToApi(*fresh, *tags);
  if (!old_api.ok()) return old_api.status();
  if (!new_api.ok()) return new_api.status();
  *out->mutable_old_card() = std::move(*old_api);
  *out->mutable_new_card() = std::move(*new_api);
  return absl::OkStatus();
}

absl::Status CardStore::MoveBalance(storage::Txn& txn, const perks::v1::CardRef& ref,
                                    const std::string& balance_name, int64_t delta_fen,
                                    const std::string& memo, const BalanceRule& rule,
                                    const Mutation& m, perks::v1::BalanceChange* out) {
  auto card = FindCard(txn, ref, m.tenant_scope);
  if (!card.ok()) return card.status();
  auto it = card->balances().find(balance_name);
  const perks::v1::Balance* existing = it == card->balances().end() ? nullptr : &it->second;
  auto after = rule(card->state(), existing);
  if (!after.ok()) return after.status();
  (*card->mutable_balances())[balance_name] = *after;
  perks::v1::HistoryEntry entry;
  entry.mutable_movement()->set_balance_name(balance_name);
  entry.mutable_movement()->set_delta_fen(delta_fen);
  entry.mutable_movement()->set_balance_after_fen(after->amount_fen());
  entry.mutable_movement()->set_memo(memo);
  out->set_history_seq(card->next_history_seq());
  AppendHistory(txn, *card, std::move(entry), m);
  card->set_updated_at_unix_ms(m.now_unix_ms);
  PutCard(txn, *card);
  out->set_card_id(card->card_id());
  *out->mutable_balance() = *after;
  return absl::OkStatus();
}

absl::Status CardStore::Credit(storage::Txn& txn, const perks::v1::CreditBalanceRequest& req,
                               const Mutation& m, perks::v1::BalanceChange* out) {
  return MoveBalance(
      txn, req.card(), req.balance_name(), req.amount_fen(), req.memo(),
      [&req](perks::v1::CardState state, const perks::v1::Balance* existing) {
        return ApplyCredit(state, existing, req);
      },
      m, out);
}

absl::Status CardStore::Debit(storage::Txn& txn, const perks::v1::DebitBalanceRequest& req,
                              const Mutation& m, perks::v1::BalanceChange* out) {
  return MoveBalance(
      txn, req.card(), req.balance_name(), -req.amount_fen(), req.memo(),
      [&req, &m](perks::v1::CardState state, const perks::v1::Balance* existing) {
        return ApplyDebit(state, existing, req, m.now_unix_ms);
      },
      m, out);
}

absl::StatusOr<perks::v1::Card> CardStore::Lookup(const perks::v1::CardRef& ref,
                                                  std::string_view tenant_scope) const {
  auto card = FindCard(*db_, ref, tenant_scope);
  if (!card.ok()) return card.status();
  auto tags = MemberTags(*db_, card->member_id());
  if (!tags.ok()) return tags.status();
  return ToApi(*card, *tags);
}

absl::StatusOr<perks::v1::Member> CardStore::GetMember(std::string_view member_id,
                                                       std::string_view tenant_scope) const {
  if (absl::Status s = ValidateName("member_id", member_id); !s.ok()) return s;
  auto member = GetRecord<MemberRecord>(*db_, members_, keys::Member(member_id));
  if (!member.ok()) return member.status();
  if (!member->has_value() || !InScope(tenant_scope, (*member)->tenant_id())) {
    return absl::NotFoundError("no such member");
  }
  return MemberToApi(**member);
}

absl::StatusOr<std::vector<perks::v1::Program>> CardStore::ListPrograms(
    std::string_view tenant_scope) const {
  std::vector<perks::v1::Program> programs;
  storage::Key prefix = keys::ProgramPrefix();
  auto n = db_->Scan(programs_, prefix.bytes(), prefix.PrefixEnd(), storage::kScanLimitMax,
                     [&](std::string_view, std::string_view value) {
                       ProgramRecord rec;
                       if (rec.ParseFromArray(value.data(), static_cast<int>(value.size())) &&
                           InScope(tenant_scope, rec.program().tenant_id())) {
                         programs.push_back(rec.program());
                       }
                       return true;
                     });
  if (!n.ok()) return n.status();
  return programs;
}

absl::Status CardStore::ExportCards(const perks::v1::ExportCardsRequest& req,
                                    std::string_view tenant_scope,
                                    perks::v1::ExportCardsResponse* out) const {
  if (absl::Status s = ValidateName("batch_id", req.batch_id()); !s.ok()) return s;
  if (req.page_size() < 0 || req.page_size() > kPageSizeMax) {
    return absl::InvalidArgumentError(absl::StrCat("page_size must be 0 to ", kPageSizeMax));
  }
  int32_t page_size = req.page_size() == 0 ? kPageSizeMax : req.page_size();
  auto batch = GetRecord<BatchRecord>(*db_, batches_, keys::Batch(req.batch_id()));
  if (!batch.ok()) return batch.status();
  if (!batch->has_value() || !FindProgram(*db_, (*batch)->program_id(), tenant_scope).ok()) {
    return absl::NotFoundError(absl::StrCat("no batch '", req.batch_id(), "'"));
  }
  storage::Key prefix = keys::BatchCardPrefix(req.batch_id());
  std::string start = req.page_token().empty()
                          ? prefix.bytes()
                          : keys::BatchCard(req.batch_id(), req.page_token()).bytes() + '\0';
  std::vector<std::string> card_ids;
  auto n = db_->Scan(batches_, start, prefix.PrefixEnd(), static_cast<size_t>(page_size) + 1,
                     [&](std::string_view key, std::string_view) {
                       storage::KeyReader r(key);
                       std::string kind, batch_id, card_id;
                       if (r.Str(&kind) && r.Str(&batch_id) && r.Str(&card_id)) {
                         card_ids.push_back(std::move(card_id));
                       }
                       return true;
                     });
  if (!n.ok()) return n.status();
  bool more = card_ids.size() > static_cast<size_t>(page_size);
  if (more) card_ids.pop_back();
  for (const auto& id : card_ids) {
    auto card = GetRecord<CardRecord>(*db_, cards_, keys::Card(id));
    if (!card.ok()) return card.status();
    if (!card->has_value()) continue;
    auto member = GetRecord<MemberRecord>(*db_, members_, keys::Member((*card)->member_id()));
    if (!member.ok()) return member.status();
    auto* e = out->add_cards();
    e->set_card_id(id);
    e->set_card_number((*card)->card_number());
    e->set_member_id((*card)->member_id());
    if (member->has_value()) e->set_member_name((*member)->name());
  }
  if (more) out->set_next_page_token(card_ids.back());
  return absl::OkStatus();
}

absl::Status CardStore::ListHistory(const perks::v1::ListCardHistoryRequest& req,
                                    std::string_view tenant_scope,
                                    perks::v1::ListCardHistoryResponse* out) const {
  constexpr int32_t kHistoryPageMax = 500;
  if (req.page_size() < 0 || req.page_size() > kHistoryPageMax) {
    return absl::InvalidArgumentError(absl::StrCat("page_size must be 0 to ", kHistoryPageMax));
  }
  int32_t page_size = req.page_size() == 0 ? kHistoryPageMax : req.page_size();
  auto card = FindCard(*db_, req.card(), tenant_scope);
  if (!card.ok()) return card.status();
  uint64_t from_seq = 0;
  if (!req.page_token().empty()) {
    if (!absl::SimpleAtoi(req.page_token(), &from_seq)) {
      return absl::InvalidArgumentError("page_token is not one this service gave out");
    }
  }
  storage::Key prefix = keys::HistoryPrefix(card->card_id());
  auto n =
      db_->Scan(history_, keys::History(card->card_id(), from_seq).bytes(), prefix.PrefixEnd(),
                static_cast<size_t>(page_size) + 1, [&](std::string_view, std::string_view value) {
                  HistoryRecord rec;
                  if (rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                    *out->add_entries() = rec.entry();
                  }
                  return true;
                });
  if (!n.ok()) return n.status();
  if (out->entries_size() > page_size) {
    out->set_next_page_token(absl::StrCat(out->entries(page_size).seq()));
    out->mutable_entries()->RemoveLast();
  }
  return absl::OkStatus();
}

}  // namespace perks::card
