// A till's calls to a perkd in another process: signed with the real clock (the process's), each
// with a deadline, for one trace date.
#ifndef PERKS_TESTS_SUPPORT_TILL_CLIENT_H_
#define PERKS_TESTS_SUPPORT_TILL_CLIENT_H_

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "perks/v1/checkout.grpc.pb.h"
#include "tools/common/client.h"

namespace perks::testing {

class TillClient {
 public:
  TillClient(const std::string& address, tools::TerminalCredentials till, std::string date)
      : stub_(perks::v1::CheckoutService::NewStub(tools::MakeChannel(address))),
        till_(std::move(till)),
        date_(std::move(date)) {}

  std::string IdOf(int trace) const {
    return absl::StrCat(till_.terminal_id, ":", date_, ":", trace);
  }

  grpc::Status Authorize(int trace, const std::string& card, int64_t amount_fen,
                         perks::v1::Checkout* out) {
    perks::v1::AuthorizeRequest req;
    *req.mutable_trace() = Trace(trace);
    req.mutable_card()->set_card_number(card);
    req.set_amount_fen(amount_fen);
    return stub_->Authorize(Signed("Authorize", req).get(), req, out);
  }
  grpc::Status Confirm(int trace, perks::v1::Checkout* out) {
    perks::v1::ConfirmRequest req;
    *req.mutable_trace() = Trace(trace);
    return stub_->Confirm(Signed("Confirm", req).get(), req, out);
  }
  grpc::Status Reverse(int trace, perks::v1::Checkout* out) {
    perks::v1::ReverseRequest req;
    *req.mutable_trace() = Trace(trace);
    return stub_->Reverse(Signed("Reverse", req).get(), req, out);
  }
  grpc::Status Refund(int trace, const std::string& checkout_id, int64_t amount_fen,
                      perks::v1::RefundResult* out) {
    perks::v1::RefundRequest req;
    *req.mutable_trace() = Trace(trace);
    req.set_checkout_id(checkout_id);
    req.set_amount_fen(amount_fen);
    return stub_->Refund(Signed("Refund", req).get(), req, out);
  }

 private:
  perks::v1::TraceRef Trace(int n) const {
    perks::v1::TraceRef t;
    t.set_trace(std::to_string(n));
    t.set_date(date_);
    return t;
  }
  std::unique_ptr<grpc::ClientContext> Signed(const std::string& method,
                                              const google::protobuf::Message& req) const {
    auto ctx = tools::MakeContext(absl::Seconds(5));
    tools::SignAsTerminal(*ctx, till_, "/perks.v1.CheckoutService/" + method, req, absl::Now());
    return ctx;
  }

  std::unique_ptr<perks::v1::CheckoutService::Stub> stub_;
  tools::TerminalCredentials till_;
  std::string date_;
};

}  // namespace perks::testing

#endif  // PERKS_TESTS_SUPPORT_TILL_CLIENT_H_
