#include "services/common/idempotency.h"

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "perks/storage/v1/idempotency.pb.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/common/personal.h"
#include "storage/keys.h"

namespace perks {
namespace {

using google::protobuf::Message;

std::string IdempotencyKey(std::string_view method, std::string_view request_id) {
  return storage::Key().Str("idem").Str(method).Str(request_id).bytes();
}

// What an existing record says about this request: nullopt when there is none.
std::optional<absl::Status> Replay(const std::optional<std::string>& stored,
                                   const std::string& fingerprint, std::string_view request_id,
                                   Message* response) {
  if (!stored.has_value()) return std::nullopt;
  perks::storage::v1::IdempotencyRecord record;
  if (!record.ParseFromString(*stored)) {
    return absl::DataLossError("an idempotency record is unreadable; restore from backup");
  }
  if (record.request_fingerprint() != fingerprint) {
    return absl::AlreadyExistsError(absl::StrCat(
        "request id '", std::string(request_id),
        "' was already used for a different request; use a new request id for a new operation"));
  }
  if (!response->ParseFromString(record.response())) {
    return absl::DataLossError("a recorded answer is unreadable; restore from backup");
  }
  return absl::OkStatus();
}

}  // namespace

std::string RequestIdOf(const Message& request) {
  const auto* field = request.GetDescriptor()->FindFieldByName("request_id");
  if (field == nullptr) return "";
  return request.GetReflection()->GetString(request, field);
}

absl::Status ValidateRequestId(std::string_view request_id) {
  if (request_id.empty()) {
    return absl::InvalidArgumentError(
        "request_id is empty; every change needs a request id (a fresh one per operation, the "
        "same one when retrying)");
  }
  if (request_id.size() > kRequestIdBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id is ", request_id.size(), " bytes; at most ", kRequestIdBytesMax));
  }
  for (char c : request_id) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("request_id may hold printable ASCII characters only");
    }
  }
  return absl::OkStatus();
}

std::string RequestFingerprint(const Message& request, std::string_view scope) {
  std::unique_ptr<Message> copy(request.New());
  copy->CopyFrom(request);
  if (const auto* field = copy->GetDescriptor()->FindFieldByName("request_id")) {
    copy->GetReflection()->ClearField(copy.get(), field);
  }
  // An empty scope leaves the fingerprint as it always was.
  if (scope.empty()) return Sha256(DeterministicBytes(*copy));
  return Sha256(absl::StrCat(scope.size(), ":", std::string(scope), DeterministicBytes(*copy)));
}

void MutateOnce(const IdempotencyStore& store, std::string_view method, std::string_view scope,
                const Message& request, Message* response,
                absl::AnyInvocable<absl::Status(storage::Txn&)> apply,
                absl::AnyInvocable<void(absl::Status)> done) {
  std::string request_id = RequestIdOf(request);
  if (absl::Status s = ValidateRequestId(request_id); !s.ok()) return done(s);
  std::string fingerprint = RequestFingerprint(request, scope);
  std::string key = IdempotencyKey(method, request_id);

  // A retry of an answered request needs no turn on the writer.
  auto stored = store.db->Get(store.cf, key);
  if (!stored.ok()) return done(stored.status());
  if (auto replay = Replay(*stored, fingerprint, request_id, response)) return done(*replay);

  auto shared_done = std::make_shared<absl::AnyInvocable<void(absl::Status)>>(std::move(done));
  absl::Status submitted = store.writer->Submit(
      [store, key, fingerprint, request_id, response,
       apply = std::move(apply)](storage::Txn& txn) mutable -> absl::Status {
        // Checked again here: a twin of this request may have gone ahead since the read above.
        auto again = txn.Get(store.cf, key);
        if (!again.ok()) return again.status();
        if (auto replay = Replay(*again, fingerprint, request_id, response)) return *replay;
        if (absl::Status s = apply(txn); !s.ok()) return s;
        perks::storage::v1::IdempotencyRecord record;
        record.set_request_fingerprint(fingerprint);
        record.set_response(response->SerializeAsString());
        record.set_created_at_unix_ms(absl::ToUnixMillis(store.clock->Now()));
        txn.Put(store.cf, key, record.SerializeAsString());
        return absl::OkStatus();
      },
      [shared_done](absl::Status s) { (*shared_done)(std::move(s)); });
  if (!submitted.ok()) (*shared_done)(submitted);
}

}  // namespace perks
