// What every service's rpc layer does around its handlers, in one place: admit the caller through
// the gate, then either read, or change state exactly once per request id with the change and its
// audit entry in one write.
#ifndef PERKS_SERVICES_GATE_ADMITTED_H_
#define PERKS_SERVICES_GATE_ADMITTED_H_

#include <string>
#include <string_view>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "services/common/audit.h"
#include "services/common/idempotency.h"
#include "services/gate/gate.h"

namespace perks {

// The handler that answers with `read`.
inline Gate::Handler ReadHandler(absl::AnyInvocable<absl::Status(const perks::v1::Caller&)> read) {
  return [read = std::move(read)](const perks::v1::Caller& caller, Gate::Done done) mutable {
    done(read(caller));
  };
}

// Admits the caller of `method`, then answers with `read`.
inline grpc::ServerUnaryReactor* AdmitAndRead(
    Gate& gate, grpc::CallbackServerContext* ctx, std::string_view method,
    const google::protobuf::Message& req,
    absl::AnyInvocable<absl::Status(const perks::v1::Caller&)> read) {
  return gate.Run(ctx, method, req, ReadHandler(std::move(read)));
}

// How a service changes state for an admitted caller. M is the service's Mutation: who (actor)
// and when (now_unix_ms), plus whatever scope the service keeps.
template <typename M>
struct MutationSteps {
  // The Mutation for this caller.
  absl::AnyInvocable<M(const perks::v1::Caller&)> make;
  // May refuse before anything is written (and may fill in the Mutation).
  absl::AnyInvocable<absl::Status(const perks::v1::Caller&, M&)> check;
  // The change, on the group-commit writer, once per request id.
  absl::AnyInvocable<absl::Status(storage::Txn&, const M&)> apply;
  // Runs after a successful (or replayed) change, before the caller is answered; may fail it.
  absl::AnyInvocable<absl::Status()> after;
  // Runs instead when the change was not made (refused, or its write failed): gives back what
  // `apply` took outside the database.
  absl::AnyInvocable<void()> undo;
};

// For a caller already admitted: runs `steps` and answers `done`.
template <typename M>
void MutateAdmitted(const IdempotencyStore& idempotency, const AuditLog& audit,
                    const perks::v1::Caller& caller, std::string_view method,
                    const google::protobuf::Message& req, google::protobuf::Message* resp,
                    MutationSteps<M> steps, Gate::Done done) {
  M m = steps.make(caller);
  if (steps.check) {
    if (absl::Status s = steps.check(caller, m); !s.ok()) return done(s);
  }
  std::string actor = m.actor;
  int64_t now = m.now_unix_ms;
  MutateAndAudit(
      idempotency, audit, caller, std::move(actor), method, req, resp, now,
      [m = std::move(m), apply = std::move(steps.apply)](storage::Txn& txn) mutable {
        return apply(txn, m);
      },
      [after = std::move(steps.after), undo = std::move(steps.undo),
       done = std::move(done)](absl::Status s) mutable {
        if (s.ok()) {
          if (after) s = after();
        } else if (undo) {
          undo();
        }
        done(s);
      });
}

// The handler that runs `steps` for `method`'s request `req`, answering into `resp`.
template <typename M>
Gate::Handler MutateHandler(const IdempotencyStore& idempotency, const AuditLog& audit,
                            std::string_view method, const google::protobuf::Message& req,
                            google::protobuf::Message* resp, MutationSteps<M> steps) {
  return [&idempotency, &audit, method = std::string(method), &req, resp, steps = std::move(steps)](
             const perks::v1::Caller& caller, Gate::Done done) mutable {
    MutateAdmitted(idempotency, audit, caller, method, req, resp, std::move(steps),
                   std::move(done));
  };
}

template <typename M>
grpc::ServerUnaryReactor* AdmitAndMutate(Gate& gate, const IdempotencyStore& idempotency,
                                         const AuditLog& audit, grpc::CallbackServerContext* ctx,
                                         std::string_view method,
                                         const google::protobuf::Message& req,
                                         google::protobuf::Message* resp, MutationSteps<M> steps) {
  return gate.Run(ctx, method, req,
                  MutateHandler(idempotency, audit, method, req, resp, std::move(steps)));
}

}  // namespace perks

#endif  // PERKS_SERVICES_GATE_ADMITTED_H_
