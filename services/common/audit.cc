#include "services/common/audit.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/keys.h"

namespace perks {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Visits the singular string fields of `m` and of the singular messages it holds, breadth first,
// up to `depth` levels; stops when `visit` returns true.
template <typename Visit>
bool FindString(const Message& m, int depth, const Visit& visit) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated() || f->cpp_type() != FieldDescriptor::CPPTYPE_STRING) continue;
    std::string value = r->GetString(m, f);
    if (!value.empty() && visit(f->name(), value)) return true;
  }
  if (depth <= 1) return false;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated() || f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (!r->HasField(m, f)) continue;
    if (FindString(r->GetMessage(m, f), depth - 1, visit)) return true;
  }
  return false;
}

// audit/<tenant>/<at ms>/<service>/<method>/<request id>
storage::Key EntryKey(const perks::v1::AuditEntry& e) {
  return storage::Key()
      .Str("audit")
      .Str(e.tenant_id())
      .U64(static_cast<uint64_t>(e.at_unix_ms()))
      .Str(e.method())
      .Str(e.request_id());
}

}  // namespace

std::string TenantIdIn(const Message& m) {
  std::string out;
  FindString(m, 3, [&out](const std::string& name, const std::string& value) {
    if (name != "tenant_id") return false;
    out = value;
    return true;
  });
  return out;
}

std::string TargetIn(const Message& m) {
  std::string out;
  FindString(m, 3, [&out](const std::string& name, const std::string& value) {
    if (!absl::EndsWith(name, "_id") || name == "request_id" || name == "tenant_id") return false;
    out = absl::StrCat(name, " ", value);
    return true;
  });
  return out;
}

bool AuditLog::Records(const perks::v1::Caller& caller) {
  switch (caller.role()) {
    case perks::v1::ROLE_INSTALLATION_ADMIN:
    case perks::v1::ROLE_UNION_ADMIN:
    case perks::v1::ROLE_BANK_OPERATOR:
    case perks::v1::ROLE_MERCHANT_MANAGER:
      return true;
    default:
      return false;
  }
}

void AuditLog::Record(storage::Txn& txn, const perks::v1::Caller& caller, std::string_view actor,
                      std::string_view method, const Message& request, const Message& response,
                      int64_t at_unix_ms) const {
  if (!Records(caller)) return;
  perks::v1::AuditEntry e;
  e.set_at_unix_ms(at_unix_ms);
  std::string tenant = TenantIdIn(response);
  if (tenant.empty()) tenant = TenantIdIn(request);
  e.set_tenant_id(tenant.empty() ? caller.tenant_id() : tenant);
  e.set_actor(std::string(actor));
  e.set_service(service_);
  e.set_method(std::string(method));
  std::string target = TargetIn(response);
  e.set_target(target.empty() ? TargetIn(request) : target);
  const auto* rid = request.GetDescriptor()->FindFieldByName("request_id");
  if (rid) e.set_request_id(request.GetReflection()->GetString(request, rid));
  txn.Put(cf_, EntryKey(e).bytes(), e.SerializeAsString());
}

void MutateAndAudit(const IdempotencyStore& store, const AuditLog& audit,
                    const perks::v1::Caller& caller, std::string actor, std::string_view method,
                    const Message& request, Message* response, int64_t now_unix_ms,
                    absl::AnyInvocable<absl::Status(storage::Txn&)> apply,
                    absl::AnyInvocable<void(absl::Status)> done) {
  // A recorded answer is for the caller's own city, merchant and store: another's replay of the
  // same request is refused, never answered with it.
  std::string scope =
      absl::StrCat(caller.tenant_id(), "/", caller.merchant_id(), "/", caller.store_id());
  MutateOnce(
      store, method, scope, request, response,
      [&audit, caller, actor = std::move(actor), method = std::string(method), &request, response,
       now_unix_ms, apply = std::move(apply)](storage::Txn& txn) mutable {
        absl::Status s = apply(txn);
        if (s.ok()) audit.Record(txn, caller, actor, method, request, *response, now_unix_ms);
        return s;
      },
      std::move(done));
}

absl::Status AuditLog::List(const std::string& tenant_id, const perks::v1::ListAuditRequest& req,
                            perks::v1::ListAuditResponse* out) const {
  if (req.page_size() < 0 || req.page_size() > kAuditPageSizeMax) {
    return absl::InvalidArgumentError(absl::StrCat("page_size must be 0 to ", kAuditPageSizeMax));
  }
  if (req.since_unix_ms() < 0) {
    return absl::InvalidArgumentError("since_unix_ms must not be negative");
  }
  size_t page = req.page_size() == 0 ? kAuditPageSizeMax : static_cast<size_t>(req.page_size());
  storage::Key prefix = storage::Key().Str("audit").Str(tenant_id);
  std::string start = storage::Key(prefix).U64(static_cast<uint64_t>(req.since_unix_ms())).bytes();
  if (!req.page_token().empty()) {
    // A page token is the last key a page returned, in hex; the next page starts just after it.
    bool hex = req.page_token().size() % 2 == 0 &&
               std::all_of(req.page_token().begin(), req.page_token().end(), [](char c) {
                 return absl::ascii_isxdigit(static_cast<unsigned char>(c));
               });
    std::string last = hex ? absl::HexStringToBytes(req.page_token()) : std::string();
    if (!hex || last.compare(0, prefix.bytes().size(), prefix.bytes()) != 0) {
      return absl::InvalidArgumentError("page_token does not belong to this listing");
    }
    start = last + '\0';
  }
  std::string last_key;
  size_t seen = 0;
  bool more = false;
  absl::Status bad;
  auto n = db_->Scan(
      cf_, start, prefix.PrefixEnd(), page + 1, [&](std::string_view key, std::string_view value) {
        if (seen++ == page) {
          more = true;
          return false;
        }
        if (!out->add_entries()->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = absl::DataLossError("an audit entry is unreadable");
          return false;
        }
        last_key = std::string(key);
        return true;
      });
  if (!n.ok()) return n.status();
  if (!bad.ok()) return bad;
  if (more) out->set_next_page_token(absl::BytesToHexString(last_key));
  return absl::OkStatus();
}

}  // namespace perks
