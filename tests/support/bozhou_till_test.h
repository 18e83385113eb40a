// The checkout tests' fixture: perkd with the Bozhou member-card program published, a
// supermarket with one signed till, and three active member cards; the till's calls as helpers.
// Needs PERKS_EXAMPLES_DIR (the examples/programs folder) defined by the test target.
#ifndef PERKS_TESTS_SUPPORT_BOZHOU_TILL_TEST_H_
#define PERKS_TESTS_SUPPORT_BOZHOU_TILL_TEST_H_

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "perks/v1/checkout.grpc.pb.h"
#include "perks/v1/promotion.grpc.pb.h"
#include "perks/v1/settlement.grpc.pb.h"
#include "tests/support/server_test.h"
#include "tools/common/campaign_file.h"
#include "tools/common/seed.h"

namespace perks::testing {

using perks::v1::Checkout;
using perks::v1::CheckoutService;

// `digits` and its Luhn check digit: a card number that passes the check but was never issued.
inline std::string WithCheckDigit(const std::string& digits) {
  int sum = 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    int d = digits[digits.size() - 1 - i] - '0';
    if (i % 2 == 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return digits + static_cast<char>('0' + (10 - sum % 10) % 10);
}

// Sends `call` until its answer is not "under way, send again" (as a till does).
template <typename Call>
inline grpc::Status UntilAnswered(Call call) {
  grpc::Status s;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    s = call();
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    std::this_thread::yield();
  }
  return s;
}

inline absl::Time Shanghai(int y, int mo, int d, int h) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, 0, 0), absl::FixedTimeZone(8 * 3600));
}

class BozhouTillTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    checkout_ = CheckoutService::NewStub(channel_);
    promo_ = perks::v1::PromotionService::NewStub(channel_);
    bozhou_ = TokenFor(perks::v1::ROLE_UNION_ADMIN, "bozhou", "", "亳州市总工会 李科长");
    // The Bozhou member card program, in its special period: a 100-yuan supermarket basket saves
    // 30 yuan, half from the bank's subsidy, half from the merchant.
    auto program =
        tools::ReadCampaignFile(std::string(PERKS_EXAMPLES_DIR) + "/bozhou-member-card.yaml");
    ASSERT_TRUE(program.ok()) << program.status();
    for (const auto& spec : program->campaigns()) Publish(spec);
    clock_.Set(Shanghai(2026, 12, 5, 10));
    shop_ = Onboard(5, "bozhou", bozhou_);  // a supermarket
    ASSERT_EQ(shop_.profile().category(), "supermarket");
    till_ = AddTerminal(shop_.stores(0).store_id(), bozhou_);
    cards_ = IssueMemberCards("bozhou", card_count_, bozhou_, "bozhou-member");
    for (const std::string& number : cards_) SetCardState(number, perks::v1::CARD_ACTION_ACTIVATE);
  }

  // As the Bozhou admin, or as `token`.
  void SetCardState(const std::string& number, perks::v1::CardAction action,
                    const std::string& token = "") {
    absl::Status s = tools::Seeder(channel_, token.empty() ? bozhou_ : token, NextRequestId("seed"))
                         .ChangeCardState(number, action);
    ASSERT_TRUE(s.ok()) << s;
  }

  static perks::v1::TraceRef Trace(int n) {
    perks::v1::TraceRef t;
    t.set_trace(absl::StrCat(100000 + n));
    t.set_date("20261205");
    return t;
  }
  std::string IdOf(int n) const {
    return absl::StrCat(till_.terminal_id, ":20261205:", 100000 + n);
  }

  grpc::Status Authorize(int trace, const std::string& card, int64_t amount_fen, Checkout* out) {
    perks::v1::AuthorizeRequest req;
    *req.mutable_trace() = Trace(trace);
    req.mutable_card()->set_card_number(card);
    req.set_amount_fen(amount_fen);
    return checkout_->Authorize(Signed(till_, "/perks.v1.CheckoutService/Authorize", req).get(),
                                req, out);
  }
  grpc::Status Confirm(int trace, Checkout* out, const std::string& bank_ref = "") {
    perks::v1::ConfirmRequest req;
    *req.mutable_trace() = Trace(trace);
    req.set_bank_reference(bank_ref);
    return checkout_->Confirm(Signed(till_, "/perks.v1.CheckoutService/Confirm", req).get(), req,
                              out);
  }
  grpc::Status Reverse(int trace, Checkout* out) {
    perks::v1::ReverseRequest req;
    *req.mutable_trace() = Trace(trace);
    req.set_reason("no answer from the bank");
    return checkout_->Reverse(Signed(till_, "/perks.v1.CheckoutService/Reverse", req).get(), req,
                              out);
  }
  grpc::Status Refund(int trace, const std::string& checkout_id, int64_t amount_fen,
                      perks::v1::RefundResult* out) {
    perks::v1::RefundRequest req;
    *req.mutable_trace() = Trace(trace);
    req.set_checkout_id(checkout_id);
    req.set_amount_fen(amount_fen);
    return checkout_->Refund(Signed(till_, "/perks.v1.CheckoutService/Refund", req).get(), req,
                             out);
  }
  // Applies and publishes a campaign as the city's admin (or as `token`).
  void Publish(const perks::v1::CampaignSpec& spec, const std::string& token = "") {
    absl::Status s = tools::Seeder(channel_, token.empty() ? bozhou_ : token, NextRequestId("seed"))
                         .Publish(spec);
    ASSERT_TRUE(s.ok()) << s;
  }
  // The city's ledger once every confirmation so far has reached it.
  perks::v1::LedgerCheck Ledger(const std::string& tenant = "bozhou") {
    EXPECT_TRUE(server_->WaitSettled(absl::Seconds(30)));
    auto stub = perks::v1::SettlementService::NewStub(channel_);
    perks::v1::CheckLedgerRequest req;
    req.set_tenant_id(tenant);
    perks::v1::LedgerCheck check;
    grpc::Status s = stub->CheckLedger(As(admin_token_).get(), req, &check);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(check.balanced()) << (check.mismatches().empty() ? "" : check.mismatches(0));
    return check;
  }
  // Stops perkd and starts it again on the same data with only `services`, and reconnects. The
  // others are peers that are down: a closed port on 127.0.0.1.
  void RestartWith(std::vector<std::string> services) {
    options_.peers.clear();
    for (const std::string& peer : PeersNeeded(services)) options_.peers[peer] = "127.0.0.1:1";
    options_.services = std::move(services);
    Restart();
    checkout_ = CheckoutService::NewStub(channel_);
    promo_ = perks::v1::PromotionService::NewStub(channel_);
  }
  perks::v1::Reservation ReservationFor(const Checkout& c) {
    perks::v1::GetReservationRequest req;
    req.set_reservation_id(c.reservation_id());
    perks::v1::Reservation r;
    grpc::Status s = promo_->GetReservation(As(bozhou_).get(), req, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r;
  }
  perks::v1::ReservationState ReservationOf(const Checkout& c) { return ReservationFor(c).state(); }

  std::unique_ptr<CheckoutService::Stub> checkout_;
  std::unique_ptr<perks::v1::PromotionService::Stub> promo_;
  std::string bozhou_;
  perks::v1::Merchant shop_;
  tools::TerminalCredentials till_;
  int card_count_ = 3;  // a test may ask for more in its constructor
  std::vector<std::string> cards_;
};

}  // namespace perks::testing

#endif  // PERKS_TESTS_SUPPORT_BOZHOU_TILL_TEST_H_
