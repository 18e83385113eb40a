#include "services/card/rpc/card_service.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/common/personal.h"

namespace perks::card {
namespace {

std::string BatchIdFor(std::string_view given, std::string_view request_id) {
  if (!given.empty()) return std::string(given);
  std::string id = "b-";
  for (char c : request_id) id.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '-');
  return id.substr(0, 40);
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
      idempotency_{db_.get(), writer_.get(), store_.idempotency_family(), options.clock} {}

CardService::~CardService() { (void)Close(); }

absl::Status CardService::Close() {
  if (writer_) writer_->Stop();
  return db_->Close();
}

Mutation CardService::MutationFor(grpc::CallbackServerContext* ctx,
                                  std::string_view request_id) const {
  return Mutation{ActorOf(*ctx), std::string(request_id), absl::ToUnixMillis(clock_->Now())};
}

grpc::ServerUnaryReactor* CardService::Mutate(grpc::CallbackServerContext* ctx,
                                              std::string_view method,
                                              const google::protobuf::Message& req,
                                              google::protobuf::Message* resp, Apply apply) {
  return MutateAndFinish(ctx, idempotency_, "card", method, req, resp, std::move(apply));
}

grpc::ServerUnaryReactor* CardService::CreateProgram(grpc::CallbackServerContext* ctx,
                                                     const perks::v1::CreateProgramRequest* req,
                                                     perks::v1::Program* resp) {
  if (absl::Status s = ValidateProgram(req->program()); !s.ok()) return FinishNow(ctx, s);
  Mutation m = MutationFor(ctx, req->request_id());
  return Mutate(ctx, "CreateProgram", *req, resp, [this, req, resp, m](storage::Txn& txn) {
    return store_.CreateProgram(txn, req->program(), m, resp);
  });
}

grpc::ServerUnaryReactor* CardService::ListPrograms(grpc::CallbackServerContext* ctx,
                                                    const perks::v1::ListProgramsRequest*,
                                                    perks::v1::ListProgramsResponse* resp) {
  auto programs = store_.ListPrograms();
  if (!programs.ok()) return FinishNow(ctx, programs.status());
  for (auto& p : *programs) *resp->add_programs() = std::move(p);
  return FinishNow(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* CardService::ImportMembers(grpc::CallbackServerContext* ctx,
                                                     const perks::v1::ImportMembersRequest* req,
                                                     perks::v1::ImportMembersResponse* resp) {
  if (req->rows_size() > static_cast<int>(kImportRowsMax)) {
    return FinishNow(ctx,
                     absl::InvalidArgumentError(absl::StrCat(
                         req->rows_size(), " rows in one call; send at most ", kImportRowsMax)));
  }
  if (!req->issue_program_id().empty()) {
    if (absl::Status s = ValidateName("issue_program_id", req->issue_program_id()); !s.ok()) {
      return FinishNow(ctx, s);
    }
  }
  std::string batch_id = BatchIdFor(req->issue_batch_id(), req->request_id());
  if (absl::Status s = ValidateName("issue_batch_id", batch_id); !s.ok()) return FinishNow(ctx, s);
  // Rows are checked here, on the calling thread, so the writer only stores.
  auto rows = std::make_shared<std::vector<ImportRow>>();
  auto rejected = std::make_shared<std::vector<perks::v1::RowRejection>>();
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
  Mutation m = MutationFor(ctx, req->request_id());
  return Mutate(ctx, "ImportMembers", *req, resp,
                [this, req, resp, m, rows, rejected, batch_id](storage::Txn& txn) {
                  resp->Clear();
                  for (const auto& r : *rejected) *resp->add_rejected() = r;
                  return store_.ImportMembers(txn, *rows, req->issue_program_id(), batch_id, m,
                                              resp);
                });
}

grpc::ServerUnaryReactor* CardService::GetMember(grpc::CallbackServerContext* ctx,
                                                 const perks::v1::GetMemberRequest* req,
                                                 perks::v1::Member* resp) {
  std::string member_id;
  if (req->ref_case() == perks::v1::GetMemberRequest::kIdNumber) {
    std::string id = absl::AsciiStrToUpper(req->id_number());
    if (absl::Status s = ValidateIdNumber(id); !s.ok()) return FinishNow(ctx, s);
    member_id = store_.MemberIdFor(id);
  } else {
    member_id = req->member_id();
  }
  auto member = store_.GetMember(member_id);
  if (!member.ok()) return FinishNow(ctx, member.status());
  *resp = std::move(*member);
  return FinishNow(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* CardService::IssueCards(grpc::CallbackServerContext* ctx,
                                                  const perks::v1::IssueCardsRequest* req,
                                                  perks::v1::IssueCardsResponse* resp) {
  if (absl::Status s = ValidateName("program_id", req->program_id()); !s.ok()) {
    return FinishNow(ctx, s);
  }
  if (req->member_ids_size() == 0 || req->member_ids_size() > static_cast<int>(kIssueMembersMax)) {
    return FinishNow(ctx, absl::InvalidArgumentError(absl::StrCat("name 1 to ", kIssueMembersMax,
                                                                  " member_ids per call")));
  }
  auto member_ids = std::make_shared<std::vector<std::string>>();
  for (const auto& id : req->member_ids()) {
    if (absl::Status s = ValidateName("member_id", id); !s.ok()) return FinishNow(ctx, s);
    member_ids->push_back(id);
  }
  std::string batch_id = BatchIdFor(req->batch_id(), req->request_id());
  if (absl::Status s = ValidateName("batch_id", batch_id); !s.ok()) return FinishNow(ctx, s);
  Mutation m = MutationFor(ctx, req->request_id());
  return Mutate(ctx, "IssueCards", *req, resp,
                [this, req, resp, m, member_ids, batch_id](storage::Txn& txn) {
                  resp->Clear();
                  return store_.IssueCards(txn, req->program_id(), *member_ids, batch_id, m, resp);
                });
}

grpc::ServerUnaryReactor* CardService::ExportCards(grpc::CallbackServerContext* ctx,
                                                   const perks::v1::ExportCardsRequest* req,
                                                   perks::v1::ExportCardsResponse* resp) {
  absl::Status s = store_.ExportCards(*req, resp);
  if (s.ok()) {
    Log(LogLevel::kInfo, "card.export",
        {{"actor", ActorOf(*ctx)},
         {"batch", req->batch_id()},
         {"cards", std::to_string(resp->cards_size())}});
  }
  return FinishNow(ctx, s);
}

grpc::ServerUnaryReactor* CardService::ChangeCardState(grpc::CallbackServerContext* ctx,
                                                       const perks::v1::ChangeCardStateRequest* req,
                                                       perks::v1::Card* resp) {
  if (req->reason().size() > 200) {
    return FinishNow(ctx, absl::InvalidArgumentError("reason is over 200 bytes"));
  }
  Mutation m = MutationFor(ctx, req->request_id());
  return Mutate(ctx, "ChangeCardState", *req, resp, [this, req, resp, m](storage::Txn& txn) {
    return store_.ChangeState(txn, *req, m, resp);
  });
}

grpc::ServerUnaryReactor* CardService::ReplaceCard(grpc::CallbackServerContext* ctx,
                                                   const perks::v1::ReplaceCardRequest* req,
                                                   perks::v1::ReplaceCardResponse* resp) {
  if (req->reason().size() > 200) {
    return FinishNow(ctx, absl::InvalidArgumentError("reason is over 200 bytes"));
  }
  Mutation m = MutationFor(ctx, req->request_id());
  return Mutate(ctx, "ReplaceCard", *req, resp, [this, req, resp, m](storage::Txn& txn) {
    return store_.Replace(txn, *req, m, resp);
  });
}

grpc::ServerUnaryReactor* CardService::LookupCard(grpc::CallbackServerContext* ctx,
                                                  const perks::v1::LookupCardRequest* req,
                                                  perks::v1::Card* resp) {
  auto card = store_.Lookup(req->card());
  if (!card.ok()) return FinishNow(ctx, card.status());
  *resp = std::move(*card);
  return FinishNow(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* CardService::CreditBalance(grpc::CallbackServerContext* ctx,
                                                     const perks::v1::CreditBalanceRequest* req,
                                                     perks::v1::BalanceChange* resp) {
  if (absl::Status s = ValidateCredit(*req); !s.ok()) return FinishNow(ctx, s);
  Mutation m = MutationFor(ctx, req->request_id());
  return Mutate(ctx, "CreditBalance", *req, resp, [this, req, resp, m](storage::Txn& txn) {
    return store_.Credit(txn, *req, m, resp);
  });
}

grpc::ServerUnaryReactor* CardService::DebitBalance(grpc::CallbackServerContext* ctx,
                                                    const perks::v1::DebitBalanceRequest* req,
                                                    perks::v1::BalanceChange* resp) {
  if (absl::Status s = ValidateDebit(*req); !s.ok()) return FinishNow(ctx, s);
  Mutation m = MutationFor(ctx, req->request_id());
  return Mutate(ctx, "DebitBalance", *req, resp, [this, req, resp, m](storage::Txn& txn) {
    return store_.Debit(txn, *req, m, resp);
  });
}

grpc::ServerUnaryReactor* CardService::ListCardHistory(grpc::CallbackServerContext* ctx,
                                                       const perks::v1::ListCardHistoryRequest* req,
                                                       perks::v1::ListCardHistoryResponse* resp) {
  return FinishNow(ctx, store_.ListHistory(*req, resp));
}

}  // namespace perks::card
