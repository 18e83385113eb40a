#include "services/card/rpc/card_service.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/common/personal.h"
#include "services/gate/admitted.h"

namespace perks::card {
namespace {

using perks::v1::Caller;

std::string BatchIdFor(std::string_view given, std::string_view request_id) {
  if (!given.empty()) return std::string(given);
  std::string id = "b-";
  for (char c : request_id) id.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '-');
  return id.substr(0, 40);
}

// The city a caller acts in for this service: empty for callers of every city.
std::string ScopeOf(const Caller& caller) {
  return SeesTenant(caller, "") ? std::string() : caller.tenant_id();
}

// The one city a call that makes things (a program, members) acts in.
absl::StatusOr<std::string> OneCity(const Caller& caller, const std::string& requested) {
  auto tenant = TenantFor(caller, requested);
  if (tenant.ok() && tenant->empty()) {
    return absl::InvalidArgumentError("name the city (tenant_id), e.g. bozhou");
  }
  return tenant;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CardService>> CardService::Open(const CardServiceOptions& options) {
  if (options.id_hash_key.size() < 16) {
    return absl::InvalidArgumentError("the ID-number hash key must be at least 16 bytes");
  }
  storage::DbOptions db_options;
  db_options.path = options.db_path;
  db_options.column_families = CardStore::ColumnFamilies();
  db_options.schema_version = CardStore::kSchemaVersion;
  db_options.block_cache_bytes = options.cache_bytes;
  auto db = storage::Db::Open(db_options);
  if (!db.ok()) return db.status();
  return std::unique_ptr<CardService>(new CardService(std::move(*db), options));
}

CardService::CardService(std::unique_ptr<storage::Db> db, const CardServiceOptions& options)
    : db_(std::move(db)),
      writer_(std::make_unique<storage::GroupCommitWriter>(db_.get(), options.writer)),
      store_(db_.get(), options.id_hash_key),
      clock_(options.clock),
      idempotency_{db_.get(), writer_.get(), store_.idempotency_family(), options.clock},
      audit_(db_.get(), "card"),
      gate_("perks.v1.CardService", options.gate),
      promotions_(&gate_) {
  // What a checkout (or a grant) in this process asks of a card, called without gRPC.
  gate_.ServeLocally<perks::v1::LookupCardRequest, perks::v1::Card>(
      "LookupCard", [this](auto* req, auto* resp) { return LookingUp(req, resp); });
  gate_.ServeLocally<perks::v1::DebitBalanceRequest, perks::v1::BalanceChange>(
      "DebitBalance", [this](auto* req, auto* resp) { return Debiting(req, resp); });
  gate_.ServeLocally<perks::v1::CreditBalanceRequest, perks::v1::BalanceChange>(
      "CreditBalance", [this](auto* req, auto* resp) { return Crediting(req, resp); });
}

CardService::~CardService() { (void)Close(); }

absl::Status CardService::Close() {
  if (writer_) writer_->Stop();
  return db_->Close();
}

CardService::Reactor* CardService::Mutate(Ctx* ctx, std::string_view method,
                                          const google::protobuf::Message& req,
                                          google::protobuf::Message* resp, Check check,
                                          Apply apply) {
  return gate_.Run(ctx, method, req,
                   Mutating(method, req, resp, std::move(check), std::move(apply)));
}

Gate::Handler CardService::Mutating(std::string_view method, const google::protobuf::Message& req,
                                    google::protobuf::Message* resp, Check check, Apply apply) {
  MutationSteps<Mutation> steps;
  steps.make = [this, &req](const Caller& caller) {
    return Mutation{ActorName(caller), RequestIdOf(req), absl::ToUnixMillis(clock_->Now()),
                    ScopeOf(caller)};
  };
  steps.check = std::move(check);
  steps.apply = std::move(apply);
  return MutateHandler(idempotency_, audit_, method, req, resp, std::move(steps));
}

CardService::Reactor* CardService::Read(Ctx* ctx, std::string_view method,
                                        const google::protobuf::Message& req,
                                        absl::AnyInvocable<absl::Status(const Caller&)> read) {
  return AdmitAndRead(gate_, ctx, method, req, std::move(read));
}

CardService::Reactor* CardService::CreateProgram(Ctx* ctx,
                                                 const perks::v1::CreateProgramRequest* req,
                                                 perks::v1::Program* resp) {
  return Mutate(
      ctx, "CreateProgram", *req, resp,
      [req](const Caller& caller, Mutation&) {
        if (absl::Status s = ValidateProgram(req->program()); !s.ok()) return s;
        return TenantFor(caller, req->program().tenant_id()).status();
      },
      [this, req, resp](storage::Txn& txn, const Mutation& m) {
        return store_.CreateProgram(txn, req->program(), m, resp);
      });
}

CardService::Reactor* CardService::ListPrograms(Ctx* ctx, const perks::v1::ListProgramsRequest* req,
                                                perks::v1::ListProgramsResponse* resp) {
  return Read(ctx, "ListPrograms", *req, [this, req, resp](const Caller& caller) {
    auto tenant = TenantFor(caller, req->tenant_id());
    if (!tenant.ok()) return tenant.status();
    auto programs = store_.ListPrograms(*tenant);
    if (!programs.ok()) return programs.status();
    for (auto& p : *programs) *resp->add_programs() = std::move(p);
    return absl::OkStatus();
  });
}

CardService::Reactor* CardService::ImportMembers(Ctx* ctx,
                                                 const perks::v1::ImportMembersRequest* req,
                                                 perks::v1::ImportMembersResponse* resp) {
  // Rows are checked on the calling thread, so the writer only stores.
  auto rows = std::make_shared<std::vector<ImportRow>>();
  auto rejected = std::make_shared<std::vector<perks::v1::RowRejection>>();
  auto batch_id =
      std::make_shared<std::string>(BatchIdFor(req->issue_batch_id(), req->request_id()));
  return Mutate(
      ctx, "ImportMembers", *req, resp,
      [req, rows, rejected, batch_id](const Caller& caller, Mutation& m) {
        if (req->rows_size() > static_cast<int>(kImportRowsMax)) {
          return absl::InvalidArgumentError(
              absl::StrCat(req->rows_size(), " rows in one call; send at most ", kImportRowsMax));
        }
        auto tenant = OneCity(caller, req->tenant_id());
        if (!tenant.ok()) return tenant.status();
        m.tenant_scope = *tenant;
        if (!req->issue_program_id().empty()) {
          if (absl::Status s = ValidateName("issue_program_id", req->issue_program_id()); !s.ok()) {
            return s;
          }
        }
        if (absl::Status s = ValidateName("issue_batch_id", *batch_id); !s.ok()) return s;
        for (const auto& row : req->rows()) {
          auto valid = ValidateMemberRow(row);
          if (valid.ok()) {
            rows->push_back(ImportRow{row.line(), std::move(*valid)});
          } else {
            perks::v1::RowRejection r;
            r.set_line(row.line());
            r.set_reason(std::string(valid.status().message()));
            rejected->push_back(std::move(r));
          }
        }
        return absl::OkStatus();
      },
      [this, req, resp, rows, rejected, batch_id](storage::Txn& txn, const Mutation& m) {
        resp->Clear();
        for (const auto& r : *rejected) *resp->add_rejected() = r;
        return store_.ImportMembers(txn, *rows, req->issue_program_id(), *batch_id, m, resp);
      });
}

CardService::Reactor* CardService::GetMember(Ctx* ctx, const perks::v1::GetMemberRequest* req,
                                             perks::v1::Member* resp) {
  return Read(ctx, "GetMember", *req, [this, req, resp](const Caller& caller) {
    std::string member_id;
    if (req->ref_case() == perks::v1::GetMemberRequest::kIdNumber) {
      std::string id = absl::AsciiStrToUpper(req->id_number());
      if (absl::Status s = ValidateIdNumber(id); !s.ok()) return s;
      auto tenant = OneCity(caller, req->tenant_id());
      if (!tenant.ok()) return tenant.status();
      member_id = store_.MemberIdFor(*tenant, id);
    } else {
      member_id = req->member_id();
    }
    auto member = store_.GetMember(member_id, ScopeOf(caller));
    if (!member.ok()) return member.status();
    *resp = std::move(*member);
    return absl::OkStatus();
  });
}

CardService::Reactor* CardService::IssueCards(Ctx* ctx, const perks::v1::IssueCardsRequest* req,
                                              perks::v1::IssueCardsResponse* resp) {
  auto member_ids = std::make_shared<std::vector<std::string>>();
  auto batch_id = std::make_shared<std::string>(BatchIdFor(req->batch_id(), req->request_id()));
  return Mutate(
      ctx, "IssueCards", *req, resp,
      [req, member_ids, batch_id](const Caller&, Mutation&) {
        if (absl::Status s = ValidateName("program_id", req->program_id()); !s.ok()) return s;
        if (req->member_ids_size() == 0 ||
            req->member_ids_size() > static_cast<int>(kIssueMembersMax)) {
          return absl::InvalidArgumentError(
              absl::StrCat("name 1 to ", kIssueMembersMax, " member_ids per call"));
        }
        for (const auto& id : req->member_ids()) {
          if (absl::Status s = ValidateName("member_id", id); !s.ok()) return s;
          member_ids->push_back(id);
        }
        return ValidateName("batch_id", *batch_id);
      },
      [this, req, resp, member_ids, batch_id](storage::Txn& txn, const Mutation& m) {
        resp->Clear();
        return store_.IssueCards(txn, req->program_id(), *member_ids, *batch_id, m, resp);
      });
}

CardService::Reactor* CardService::ExportCards(Ctx* ctx, const perks::v1::ExportCardsRequest* req,
                                               perks::v1::ExportCardsResponse* resp) {
  return Read(ctx, "ExportCards", *req, [this, req, resp](const Caller& caller) {
    absl::Status s = store_.ExportCards(*req, ScopeOf(caller), resp);
    if (s.ok()) {
      Log(LogLevel::kInfo, "card.export",
          {{"actor", ActorName(caller)},
           {"batch", req->batch_id()},
           {"cards", std::to_string(resp->cards_size())}});
    }
    return s;
  });
}

CardService::Reactor* CardService::ChangeCardState(Ctx* ctx,
                                                   const perks::v1::ChangeCardStateRequest* req,
                                                   perks::v1::Card* resp) {
  return gate_.Run(
      ctx, "ChangeCardState", *req, [this, req, resp](const Caller& caller, Gate::Done done) {
        MutationSteps<Mutation> steps;
        steps.make = [this, req](const Caller& caller) {
          return Mutation{ActorName(caller), req->request_id(), absl::ToUnixMillis(clock_->Now()),
                          ScopeOf(caller)};
        };
        steps.check = [req](const Caller&, Mutation&) {
          if (req->reason().size() > 200) {
            return absl::InvalidArgumentError("reason is over 200 bytes");
          }
          return absl::OkStatus();
        };
        steps.apply = [this, req, resp](storage::Txn& txn, const Mutation& m) {
          return store_.ChangeState(txn, *req, m, resp);
        };
        bool activates = req->action() == perks::v1::CARD_ACTION_ACTIVATE;
        MutateAdmitted(
            idempotency_, audit_, caller, "ChangeCardState", *req, resp, std::move(steps),
            [this, resp, caller, activates, done = std::move(done)](absl::Status s) mutable {
              if (!s.ok() || !activates) return done(s);
              GrantOnActivation(caller, resp, std::move(done));
            });
      });
}

void CardService::ConnectPromotions(PeerLink promotions) {
  promotions_.Connect(std::move(promotions));
}

void CardService::GrantOnActivation(const Caller& caller, perks::v1::Card* card, Gate::Done done) {
  // No promotion service: nothing is granted.
  if (!promotions_.connected()) return done(absl::OkStatus());
  auto call = Gate::NewCall<perks::v1::GrantRequest, perks::v1::GrantResult>();
  // Once per card, however often the activation is retried.
  call->req.set_request_id(absl::StrCat(kActivationRequestPrefix, card->card_id()));
  call->req.set_event(perks::v1::GRANT_EVENT_CARD_ACTIVATED);
  call->req.mutable_card()->set_card_id(card->card_id());
  promotions_.Call(
      "Grant", &perks::v1::PromotionService::Stub::async::Grant, call,
      [this, call, card, scope = ScopeOf(caller),
       done = std::make_shared<Gate::Done>(std::move(done))](absl::Status why) {
        if (!why.ok()) {
          return (*done)(absl::Status(
              why.code(), absl::StrCat("the card is active, but what activation earns could not ",
                                       "be granted: ", why.message(),
                                       "; send the same request again to finish")));
        }
        if (call->resp.grants_size() > 0) {
          // The answer shows the card with what was credited.
          perks::v1::CardRef ref;
          ref.set_card_id(card->card_id());
          auto now = store_.Lookup(ref, scope);
          if (now.ok()) *card = std::move(*now);
        }
        (*done)(absl::OkStatus());
      });
}

CardService::Reactor* CardService::ReplaceCard(Ctx* ctx, const perks::v1::ReplaceCardRequest* req,
                                               perks::v1::ReplaceCardResponse* resp) {
  return Mutate(
      ctx, "ReplaceCard", *req, resp,
      [req](const Caller&, Mutation&) {
        if (req->reason().size() > 200) {
          return absl::InvalidArgumentError("reason is over 200 bytes");
        }
        return absl::OkStatus();
      },
      [this, req, resp](storage::Txn& txn, const Mutation& m) {
        return store_.Replace(txn, *req, m, resp);
      });
}

CardService::Reactor* CardService::LookupCard(Ctx* ctx, const perks::v1::LookupCardRequest* req,
                                              perks::v1::Card* resp) {
  return gate_.Run(ctx, "LookupCard", *req, LookingUp(req, resp));
}

Gate::Handler CardService::LookingUp(const perks::v1::LookupCardRequest* req,
                                     perks::v1::Card* resp) {
  return ReadHandler([this, req, resp](const Caller& caller) {
    // A till speaks for its own store only.
    if (caller.role() == perks::v1::ROLE_TERMINAL && !req->store_id().empty() &&
        req->store_id() != caller.store_id()) {
      return absl::PermissionDeniedError(absl::StrCat("terminal ", caller.name(),
                                                      " belongs to store ", caller.store_id(),
                                                      ", not ", req->store_id()));
    }
    auto card = store_.Lookup(req->card(), ScopeOf(caller));
    if (!card.ok()) return card.status();
    *resp = std::move(*card);
    return absl::OkStatus();
  });
}

CardService::Reactor* CardService::CreditBalance(Ctx* ctx,
                                                 const perks::v1::CreditBalanceRequest* req,
                                                 perks::v1::BalanceChange* resp) {
  return gate_.Run(ctx, "CreditBalance", *req, Crediting(req, resp));
}

Gate::Handler CardService::Crediting(const perks::v1::CreditBalanceRequest* req,
                                     perks::v1::BalanceChange* resp) {
  return Mutating(
      "CreditBalance", *req, resp, [req](const Caller&, Mutation&) { return ValidateCredit(*req); },
      [this, req, resp](storage::Txn& txn, const Mutation& m) {
        return store_.Credit(txn, *req, m, resp);
      });
}

CardService::Reactor* CardService::DebitBalance(Ctx* ctx, const perks::v1::DebitBalanceRequest* req,
                                                perks::v1::BalanceChange* resp) {
  return gate_.Run(ctx, "DebitBalance", *req, Debiting(req, resp));
}

Gate::Handler CardService::Debiting(const perks::v1::DebitBalanceRequest* req,
                                    perks::v1::BalanceChange* resp) {
  return Mutating(
      "DebitBalance", *req, resp, [req](const Caller&, Mutation&) { return ValidateDebit(*req); },
      [this, req, resp](storage::Txn& txn, const Mutation& m) {
        return store_.Debit(txn, *req, m, resp);
      });
}

CardService::Reactor* CardService::ListCardHistory(Ctx* ctx,
                                                   const perks::v1::ListCardHistoryRequest* req,
                                                   perks::v1::ListCardHistoryResponse* resp) {
  return Read(ctx, "ListCardHistory", *req, [this, req, resp](const Caller& caller) {
    return store_.ListHistory(*req, ScopeOf(caller), resp);
  });
}

CardService::Reactor* CardService::ListAudit(Ctx* ctx, const perks::v1::ListAuditRequest* req,
                                             perks::v1::ListAuditResponse* resp) {
  return gate_.ServeAudit(ctx, audit_, req, resp);
}

}  // namespace perks::card
