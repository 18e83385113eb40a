// Calls between services in one process: a linked Peer runs the callee's handler directly, as a
// Perks service, and is told its answer as a gRPC call would be.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "perks/v1/card.grpc.pb.h"
#include "services/common/clock.h"
#include "services/gate/gate.h"

namespace perks {
namespace {

using perks::v1::Caller;

GateOptions Options(const Clock* clock) {
  GateOptions o;
  o.clock = clock;
  o.internal_key = std::string(32, 'k');
  return o;
}

// A card service's gate serving LookupCard locally: the answer names who asked.
class LocalCallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    callee_.ServeLocally<perks::v1::LookupCardRequest, perks::v1::Card>(
        "LookupCard", [](const perks::v1::LookupCardRequest* req, perks::v1::Card* resp) {
          return [req, resp](const Caller& caller, Gate::Done done) {
            if (req->card().card_id() == "missing") {
              return done(absl::NotFoundError("no such card"));
            }
            resp->set_card_id(req->card().card_id());
            resp->set_member_id(std::string(perks::v1::Role_Name(caller.role())));
            done(absl::OkStatus());
          };
        });
    callee_.OnLocalAnswer([this](const std::string& method, int code, std::chrono::nanoseconds) {
      answers_.push_back(method + " " + std::to_string(code));
    });
  }

  ManualClock clock_{absl::FromUnixSeconds(1'780'000'000)};
  Gate caller_{"perks.v1.CheckoutService", Options(&clock_)};
  Gate callee_{"perks.v1.CardService", Options(&clock_)};
  std::vector<std::string> answers_;
};

TEST_F(LocalCallTest, ALinkedPeerRunsTheHandlerAsAPerksServiceWithoutAChannel) {
  Peer<perks::v1::CardService> cards(&caller_);
  cards.Connect(PeerLink(nullptr, &callee_));
  ASSERT_TRUE(cards.connected());
  auto call = Gate::NewCall<perks::v1::LookupCardRequest, perks::v1::Card>();
  call->req.mutable_card()->set_card_id("c-1");
  absl::Status answer = absl::UnknownError("not answered");
  cards.Call("LookupCard", &perks::v1::CardService::Stub::async::LookupCard, call,
             [&answer](absl::Status s) { answer = std::move(s); });
  ASSERT_TRUE(answer.ok()) << answer;
  EXPECT_EQ(call->resp.card_id(), "c-1");
  EXPECT_EQ(call->resp.member_id(), "ROLE_SERVICE");
  EXPECT_EQ(call->ctx, nullptr);  // no gRPC call was made
  EXPECT_EQ(answers_, std::vector<std::string>{"/perks.v1.CardService/LookupCard 0"});
}

TEST_F(LocalCallTest, ARefusalComesBackWithItsCodeAndIsCounted) {
  Peer<perks::v1::CardService> cards(&caller_);
  cards.Connect(PeerLink(nullptr, &callee_));
  auto call = Gate::NewCall<perks::v1::LookupCardRequest, perks::v1::Card>();
  call->req.mutable_card()->set_card_id("missing");
  absl::Status answer;
  cards.Call("LookupCard", &perks::v1::CardService::Stub::async::LookupCard, call,
             [&answer](absl::Status s) { answer = std::move(s); });
  EXPECT_EQ(answer.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(answers_, std::vector<std::string>{"/perks.v1.CardService/LookupCard 5"});
}

TEST_F(LocalCallTest, AMethodNotServedLocallyGoesOverGrpcAndIsUnavailableWithoutAChannel) {
  Peer<perks::v1::CardService> cards(&caller_);
  cards.Connect(PeerLink(nullptr, &callee_));
  auto call = Gate::NewCall<perks::v1::DebitBalanceRequest, perks::v1::BalanceChange>();
  absl::Status answer;
  cards.Call("DebitBalance", &perks::v1::CardService::Stub::async::DebitBalance, call,
             [&answer](absl::Status s) { answer = std::move(s); });
  EXPECT_EQ(answer.code(), absl::StatusCode::kUnavailable) << answer;
  EXPECT_TRUE(answers_.empty());
}

TEST_F(LocalCallTest, OnceStoppedALocalCallIsAnsweredUnavailableWithoutRunningTheHandler) {
  Peer<perks::v1::CardService> cards(&caller_);
  cards.Connect(PeerLink(nullptr, &callee_));
  callee_.StopServingLocally();
  auto call = Gate::NewCall<perks::v1::LookupCardRequest, perks::v1::Card>();
  call->req.mutable_card()->set_card_id("c-1");
  absl::Status answer;
  cards.Call("LookupCard", &perks::v1::CardService::Stub::async::LookupCard, call,
             [&answer](absl::Status s) { answer = std::move(s); });
  EXPECT_EQ(answer.code(), absl::StatusCode::kUnavailable) << answer;
  EXPECT_EQ(call->resp.card_id(), "");  // the handler did not run
}

TEST_F(LocalCallTest, AnUnconnectedPeerAnswersUnavailable) {
  Peer<perks::v1::CardService> cards(&caller_);
  EXPECT_FALSE(cards.connected());
  auto call = Gate::NewCall<perks::v1::LookupCardRequest, perks::v1::Card>();
  absl::Status answer;
  cards.Call("LookupCard", &perks::v1::CardService::Stub::async::LookupCard, call,
             [&answer](absl::Status s) { answer = std::move(s); });
  EXPECT_EQ(answer.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(answer.message().find("starting"), std::string::npos) << answer;
}

TEST(LocalCallDeathTest, OnlyAMethodAServiceMayCallIsServedLocally) {
  ManualClock clock(absl::FromUnixSeconds(1'780'000'000));
  Gate gate("perks.v1.CardService", Options(&clock));
  // Issuing cards is the union admin's, never another service's.
  auto serve = [&gate] {
    gate.ServeLocally<perks::v1::IssueCardsRequest, perks::v1::IssueCardsResponse>(
        "IssueCards", [](auto*, auto*) -> Gate::Handler {
          return [](const Caller&, Gate::Done done) { done(absl::OkStatus()); };
        });
  };
  EXPECT_DEATH(serve(), "gate.local_refused");
}

}  // namespace
}  // namespace perks
