// The promotion service over gRPC in perkd: campaigns applied from the seed files, published,
// paused and versioned; checkouts evaluated against them and reserved, committed and released;
// budgets; who may do what.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "perks/v1/promotion.grpc.pb.h"
#include "services/promotion/domain/spec.h"
#include "tests/support/server_test.h"
#include "tools/common/campaign_file.h"

namespace perks::testing {
namespace {

using perks::v1::Campaign;
using perks::v1::CampaignSpec;
using perks::v1::Evaluation;
using perks::v1::PromotionService;
using ::testing::HasSubstr;

absl::Time Shanghai(int y, int mo, int d, int h) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, 0, 0), absl::FixedTimeZone(8 * 3600));
}

class PromotionApiTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    promo_ = PromotionService::NewStub(channel_);
    bozhou_ = TokenFor(perks::v1::ROLE_UNION_ADMIN, "bozhou", "", "亳州市总工会 李科长");
  }

  grpc::Status Apply(const CampaignSpec& spec, const std::string& token, Campaign* out) {
    perks::v1::ApplyCampaignRequest req;
    req.set_request_id(NextRequestId("apply"));
    *req.mutable_spec() = spec;
    return promo_->ApplyCampaign(As(token).get(), req, out);
  }

  grpc::Status Publish(const std::string& id, const std::string& token, Campaign* out,
                       const std::string& expect_sha = "") {
    perks::v1::PublishCampaignRequest req;
    req.set_request_id(NextRequestId("publish"));
    req.set_campaign_id(id);
    req.set_expect_sha256(expect_sha);
    return promo_->PublishCampaign(As(token).get(), req, out);
  }

  // Applies and publishes every campaign of an example file.
  void LoadProgram(const std::string& file, const std::string& token) {
    auto program = tools::ReadCampaignFile(std::string(PERKS_EXAMPLES_DIR) + "/" + file);
    ASSERT_TRUE(program.ok()) << program.status();
    for (const auto& spec : program->campaigns()) {
      Campaign c;
      ASSERT_TRUE(Apply(spec, token, &c).ok()) << spec.campaign_id();
      EXPECT_EQ(c.state(), perks::v1::CAMPAIGN_STATE_DRAFT);
      ASSERT_TRUE(Publish(spec.campaign_id(), token, &c).ok()) << spec.campaign_id();
      EXPECT_EQ(c.published_version(), 1);
    }
  }

  Evaluation Supermarket(int64_t amount_fen, const std::string& token) {
    perks::v1::EvaluateRequest req;
    perks::v1::Basket* b = req.mutable_basket();
    b->set_tenant_id("bozhou");
    b->set_program_id("bozhou-member");
    b->set_member_id("m-1");
    b->set_merchant_id("any-supermarket");
    b->set_category("supermarket");
    b->set_amount_fen(amount_fen);
    req.set_explain(true);
    Evaluation e;
    grpc::Status s = promo_->Evaluate(As(token).get(), req, &e);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return e;
  }

  std::unique_ptr<PromotionService::Stub> promo_;
  std::string bozhou_;
};

TEST_F(PromotionApiTest, BozhouProgramLoadsAndA100YuanSupermarketBasketSaves30) {
  LoadProgram("bozhou-member-card.yaml", bozhou_);
  clock_.Set(Shanghai(2026, 12, 5, 10));
  Evaluation e = Supermarket(10000, bozhou_);
  ASSERT_EQ(e.discounts_size(), 1);
  EXPECT_EQ(e.discounts(0).campaign_id(), "bozhou-supermarket-100-30");
  EXPECT_EQ(e.discounts(0).version(), 1);
  EXPECT_EQ(e.discount_fen(), 3000);
  ASSERT_EQ(e.discounts(0).funding_size(), 2);
  EXPECT_EQ(e.discounts(0).funding(0).funder(), perks::v1::FUNDER_BANK);
  EXPECT_EQ(e.discounts(0).funding(0).amount_fen(), 1500);
  EXPECT_EQ(e.discounts(0).funding(1).amount_fen(), 1500);
  EXPECT_EQ(e.to_pay_fen(), 7000);

  // Before the special period: the daily 10%.
  clock_.Set(Shanghai(2026, 11, 20, 10));
  EXPECT_EQ(Supermarket(10000, bozhou_).discount_fen(), 1000);

  // It is all still there after a restart: the rule set is compiled from disk.
  Restart();
  promo_ = PromotionService::NewStub(channel_);
  clock_.Set(Shanghai(2026, 12, 5, 10));
  EXPECT_EQ(Supermarket(10000, bozhou_).discount_fen(), 3000);
  perks::v1::ListCampaignsResponse list;
  ASSERT_TRUE(promo_->ListCampaigns(As(bozhou_).get(), {}, &list).ok());
  EXPECT_EQ(list.campaigns_size(), 4);
}

TEST_F(PromotionApiTest, EverySeedProgramLoadsAndGivesItsNumbersAtTheTill) {
  std::string installation = admin_token_;
  for (const char* file : {"bozhou-member-card.yaml", "bozhou-medical.yaml",
                           "anqing-green-travel.yaml", "model-workers-free-bus.yaml",
                           "fuyang-warm-heart.yaml", "maanshan-transit-and-county.yaml"}) {
    LoadProgram(file, installation);
  }
  clock_.Set(Shanghai(2026, 12, 5, 10));
  auto evaluate = [&](const std::string& tenant, const std::string& category, int64_t amount,
                      std::initializer_list<const char*> tags = {}, const std::string& region = "",
                      std::pair<std::string, int64_t> balance = {}) {
    perks::v1::EvaluateRequest req;
    perks::v1::Basket* b = req.mutable_basket();
    b->set_tenant_id(tenant);
    b->set_program_id(tenant == "anqing" ? "anqing-green" : tenant + "-member");
    b->set_member_id("m-1");
    b->set_merchant_id(tenant + "-shop");
    b->set_category(category);
    b->set_region(region);
    b->set_amount_fen(amount);
    for (const char* t : tags) b->add_member_tags(t);
    if (!balance.first.empty()) (*b->mutable_balances_fen())[balance.first] = balance.second;
    Evaluation e;
    grpc::Status s = promo_->Evaluate(As(installation).get(), req, &e);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return e;
  };
  EXPECT_EQ(evaluate("bozhou", "dining", 10000).discount_fen(), 5000);  // 满100减50
  EXPECT_EQ(evaluate("bozhou", "fuel", 20000).discount_fen(), 4000);    // 满200减40
  EXPECT_EQ(evaluate("anqing", "bus", 200).to_pay_fen(), 100);          // half price
  EXPECT_EQ(evaluate("maanshan", "bus", 200, {"model_worker"}).to_pay_fen(), 0);
  EXPECT_EQ(evaluate("fuyang", "bus", 150, {"may_day_medal"}).to_pay_fen(), 0);
  EXPECT_EQ(evaluate("maanshan", "supermarket", 20000, {}, "hanshan").discount_fen(), 1000);
  Evaluation voucher =
      evaluate("fuyang", "farm_produce", 55000, {}, "", {"warm-heart-2026", 50000});
  EXPECT_EQ(voucher.from_balances_fen(), 50000);
  EXPECT_EQ(voucher.discount_fen(), 5000);  // the merchant's 10%
  EXPECT_EQ(voucher.to_pay_fen(), 0);
  // Each city sees its own campaigns only.
  perks::v1::ListCampaignsRequest list_req;
  list_req.set_tenant_id("maanshan");
  perks::v1::ListCampaignsResponse list;
  ASSERT_TRUE(promo_->ListCampaigns(As(installation).get(), list_req, &list).ok());
  EXPECT_EQ(list.campaigns_size(), 4);  // bus half, county, coupon, model workers
}

TEST_F(PromotionApiTest, AChangedDraftAppliesOnlyOncePublishedAndEachVersionIsKept) {
  LoadProgram("bozhou-member-card.yaml", bozhou_);
  clock_.Set(Shanghai(2026, 12, 5, 10));
  auto program =
      tools::ReadCampaignFile(std::string(PERKS_EXAMPLES_DIR) + "/bozhou-member-card.yaml");
  CampaignSpec spec;
  for (const auto& s : program->campaigns()) {
    if (s.campaign_id() == "bozhou-supermarket-100-30") spec = s;
  }
  spec.mutable_threshold()->set_off_fen(3500);
  Campaign c;
  ASSERT_TRUE(Apply(spec, bozhou_, &c).ok());
  EXPECT_TRUE(c.draft_differs());
  EXPECT_EQ(Supermarket(10000, bozhou_).discount_fen(), 3000);  // version 1 still runs

  // Publishing what was not reviewed is refused.
  grpc::Status s = Publish(spec.campaign_id(), bozhou_, &c, "0123456789ab");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("preview it again"));
  ASSERT_TRUE(Publish(spec.campaign_id(), bozhou_, &c, promotion::SpecSha256(spec)).ok());
  EXPECT_EQ(c.published_version(), 2);
  Evaluation e = Supermarket(10000, bozhou_);
  EXPECT_EQ(e.discount_fen(), 3500);
  EXPECT_EQ(e.discounts(0).version(), 2);
  // Nothing new: refused with a reason.
  s = Publish(spec.campaign_id(), bozhou_, &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("nothing to publish"));

  perks::v1::GetCampaignVersionRequest vreq;
  vreq.set_campaign_id(spec.campaign_id());
  vreq.set_version(1);
  perks::v1::CampaignVersion v1;
  ASSERT_TRUE(promo_->GetCampaignVersion(As(bozhou_).get(), vreq, &v1).ok());
  EXPECT_EQ(v1.spec().threshold().off_fen(), 3000);
  EXPECT_EQ(v1.content_sha256().size(), 64u);
  EXPECT_THAT(v1.published_by(), HasSubstr("李科长"));
}

TEST_F(PromotionApiTest, APausedCampaignStopsApplyingAndResumes) {
  LoadProgram("bozhou-member-card.yaml", bozhou_);
  clock_.Set(Shanghai(2026, 12, 5, 10));
  perks::v1::SetCampaignStateRequest req;
  req.set_request_id("pause-1");
  req.set_campaign_id("bozhou-supermarket-100-30");
  req.set_action(perks::v1::CAMPAIGN_ACTION_PAUSE);
  req.set_reason("budget review");
  Campaign c;
  ASSERT_TRUE(promo_->SetCampaignState(As(bozhou_).get(), req, &c).ok());
  EXPECT_EQ(c.state(), perks::v1::CAMPAIGN_STATE_PAUSED);
  EXPECT_EQ(Supermarket(10000, bozhou_).discount_fen(), 1000);  // the daily 10% instead
  req.set_request_id("resume-1");
  req.set_action(perks::v1::CAMPAIGN_ACTION_RESUME);
  ASSERT_TRUE(promo_->SetCampaignState(As(bozhou_).get(), req, &c).ok());
  EXPECT_EQ(c.state(), perks::v1::CAMPAIGN_STATE_ACTIVE);
  EXPECT_EQ(Supermarket(10000, bozhou_).discount_fen(), 3000);
  req.set_request_id("end-1");
  req.set_action(perks::v1::CAMPAIGN_ACTION_END);
  ASSERT_TRUE(promo_->SetCampaignState(As(bozhou_).get(), req, &c).ok());
  EXPECT_EQ(c.state(), perks::v1::CAMPAIGN_STATE_ENDED);
  req.set_request_id("resume-2");
  req.set_action(perks::v1::CAMPAIGN_ACTION_RESUME);
  EXPECT_EQ(promo_->SetCampaignState(As(bozhou_).get(), req, &c).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(PromotionApiTest, PreviewShowsADraftAgainstSampleBasketsAndWritesNothing) {
  auto program =
      tools::ReadCampaignFile(std::string(PERKS_EXAMPLES_DIR) + "/anqing-green-travel.yaml");
  ASSERT_TRUE(program.ok());
  std::string anqing = TokenFor(perks::v1::ROLE_UNION_ADMIN, "anqing");
  perks::v1::PreviewCampaignRequest req;
  *req.mutable_spec() = program->campaigns(1);  // half-price bus
  for (int64_t fare : {200, 151}) {
    perks::v1::Basket* b = req.add_baskets();
    b->set_program_id("anqing-green");
    b->set_merchant_id("anqing-bus");
    b->set_category("bus");
    b->set_amount_fen(fare);
  }
  auto before = Writes();
  perks::v1::PreviewCampaignResponse resp;
  ASSERT_TRUE(promo_->PreviewCampaign(As(anqing).get(), req, &resp).ok());
  EXPECT_EQ(Writes(), before);
  ASSERT_EQ(resp.evaluations_size(), 2);
  EXPECT_EQ(resp.evaluations(0).to_pay_fen(), 100);
  EXPECT_EQ(resp.evaluations(1).to_pay_fen(), 76);
  EXPECT_EQ(resp.content_sha256(), promotion::SpecSha256(req.spec()));
}

TEST_F(PromotionApiTest, CitiesRolesAndBadInputAreRefusedAndWriteNothing) {
  LoadProgram("bozhou-member-card.yaml", bozhou_);
  auto program =
      tools::ReadCampaignFile(std::string(PERKS_EXAMPLES_DIR) + "/bozhou-member-card.yaml");
  std::string anqing = TokenFor(perks::v1::ROLE_UNION_ADMIN, "anqing");
  std::string bank = TokenFor(perks::v1::ROLE_BANK_OPERATOR, "bozhou");
  auto before = Writes();
  Campaign c;
  // Anqing's admin can neither write Bozhou's campaigns nor see them.
  EXPECT_EQ(Apply(program->campaigns(0), anqing, &c).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  perks::v1::GetCampaignRequest get;
  get.set_campaign_id("bozhou-daily-10");
  EXPECT_EQ(promo_->GetCampaign(As(anqing).get(), get, &c).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Publish("bozhou-daily-10", anqing, &c).error_code(), grpc::StatusCode::NOT_FOUND);
  // The bank reads but does not write.
  EXPECT_TRUE(promo_->GetCampaign(As(bank).get(), get, &c).ok());
  EXPECT_EQ(Apply(program->campaigns(0), bank, &c).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A spec that does not add up.
  CampaignSpec bad = program->campaigns(0);
  bad.mutable_funding(0)->set_share_bp(9000);
  grpc::Status s = Apply(bad, bozhou_, &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("10000"));
  // A basket of a negative amount.
  perks::v1::EvaluateRequest eval;
  eval.mutable_basket()->set_merchant_id("m");
  eval.mutable_basket()->set_amount_fen(-5);
  Evaluation e;
  EXPECT_EQ(promo_->Evaluate(As(bozhou_).get(), eval, &e).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // No credentials at all.
  EXPECT_EQ(promo_->Evaluate(As("").get(), eval, &e).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Writes(), before);
}

TEST_F(PromotionApiTest, ACampaignNamesOnlyMerchantsAndCategoriesThatExist) {
  perks::v1::Merchant mine = Onboard(1, "bozhou", bozhou_);
  perks::v1::Merchant theirs = Onboard(2, "anqing", admin_token_);
  auto program =
      tools::ReadCampaignFile(std::string(PERKS_EXAMPLES_DIR) + "/bozhou-member-card.yaml");
  ASSERT_TRUE(program.ok());
  CampaignSpec spec = program->campaigns(0);
  auto before = Writes();
  Campaign c;
  // A merchant id nobody has, and one of another city: refused, naming the field and the id.
  for (const std::string& id : {std::string("M-nobody"), theirs.merchant_id()}) {
    CampaignSpec named = spec;
    named.mutable_eligibility()->add_merchant_ids(mine.merchant_id());
    named.mutable_eligibility()->add_merchant_ids(id);
    grpc::Status s = Apply(named, bozhou_, &c);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << id;
    EXPECT_THAT(s.error_message(), HasSubstr("eligibility.merchant_ids: no merchant " + id));
  }
  // A category the product does not know.
  CampaignSpec bakery = spec;
  bakery.mutable_eligibility()->add_categories("bakery");
  grpc::Status s = Apply(bakery, bozhou_, &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("unknown category \"bakery\""));
  EXPECT_EQ(Writes(), before);

  // The city's own merchant is fine.
  CampaignSpec named = spec;
  named.mutable_eligibility()->add_merchant_ids(mine.merchant_id());
  s = Apply(named, bozhou_, &c);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(PromotionApiTest, ATillEvaluatesBasketsOfItsOwnMerchantOnly) {
  LoadProgram("bozhou-member-card.yaml", bozhou_);
  clock_.Set(Shanghai(2026, 12, 5, 10));
  perks::v1::Merchant shop = Onboard(1, "bozhou", bozhou_);
  auto till = AddTerminal(shop.stores(0).store_id(), bozhou_);
  perks::v1::EvaluateRequest req;
  perks::v1::Basket* b = req.mutable_basket();
  b->set_program_id("bozhou-member");
  b->set_merchant_id(shop.merchant_id());
  b->set_category("supermarket");
  b->set_amount_fen(10000);
  const std::string method = "/perks.v1.PromotionService/Evaluate";
  Evaluation e;
  grpc::Status s = promo_->Evaluate(Signed(till, method, req).get(), req, &e);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(e.discount_fen(), 3000);
  b->set_merchant_id("someone-else");
  EXPECT_EQ(promo_->Evaluate(Signed(till, method, req).get(), req, &e).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// A till and the calls it makes to hold discounts, signed.
class ReservationApiTest : public PromotionApiTest {
 protected:
  void SetUp() override {
    PromotionApiTest::SetUp();
    clock_.Set(Shanghai(2026, 12, 5, 10));
    shop_ = Onboard(1, "bozhou", bozhou_);
    till_ = AddTerminal(shop_.stores(0).store_id(), bozhou_);
  }

  perks::v1::ReserveRequest Basket(const std::string& request_id, const std::string& member,
                                   int64_t amount_fen = 10000) const {
    perks::v1::ReserveRequest req;
    req.set_request_id(request_id);
    perks::v1::Basket* b = req.mutable_basket();
    b->set_program_id("bozhou-member");
    b->set_member_id(member);
    b->set_merchant_id(shop_.merchant_id());
    b->set_category("supermarket");
    b->set_amount_fen(amount_fen);
    return req;
  }
  grpc::Status Reserve(const perks::v1::ReserveRequest& req, perks::v1::Reservation* out) const {
    return promo_->Reserve(Signed(till_, "/perks.v1.PromotionService/Reserve", req).get(), req,
                           out);
  }
  grpc::Status Commit(const std::string& request_id, const std::string& reservation_id,
                      perks::v1::Reservation* out) const {
    perks::v1::CommitRequest req;
    req.set_request_id(request_id);
    req.set_reservation_id(reservation_id);
    return promo_->Commit(Signed(till_, "/perks.v1.PromotionService/Commit", req).get(), req, out);
  }
  grpc::Status Release(const std::string& request_id, const std::string& reservation_id,
                       perks::v1::Reservation* out) const {
    perks::v1::ReleaseRequest req;
    req.set_request_id(request_id);
    req.set_reservation_id(reservation_id);
    req.set_reason("payment declined");
    return promo_->Release(Signed(till_, "/perks.v1.PromotionService/Release", req).get(), req,
                           out);
  }
  perks::v1::BudgetUse Budget(const std::string& campaign_id, const std::string& name) {
    perks::v1::GetBudgetsRequest req;
    req.set_campaign_id(campaign_id);
    perks::v1::CampaignBudgets budgets;
    grpc::Status s = promo_->GetBudgets(As(bozhou_).get(), req, &budgets);
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const auto& b : budgets.budgets()) {
      if (b.name() == name) return b;
    }
    ADD_FAILURE() << campaign_id << " has no budget named " << name;
    return {};
  }

  // Spend 100 save 30 at supermarkets within `budget_fen`, at most `member_limit` times a member.
  void PublishLimited(int64_t budget_fen, int64_t member_limit) {
    CampaignSpec spec;
    spec.set_campaign_id("bozhou-limited-100-30");
    spec.set_tenant_id("bozhou");
    spec.set_title("满100减30 (限量)");
    spec.mutable_starts_at()->set_seconds(absl::ToUnixSeconds(Shanghai(2026, 12, 1, 0)));
    spec.mutable_ends_at()->set_seconds(absl::ToUnixSeconds(Shanghai(2027, 1, 1, 0)));
    spec.mutable_threshold()->set_min_fen(10000);
    spec.mutable_threshold()->set_off_fen(3000);
    spec.mutable_eligibility()->add_categories("supermarket");
    spec.set_budget_fen(budget_fen);
    spec.mutable_member_limits()->set_per_campaign_count(member_limit);
    for (auto funder : {perks::v1::FUNDER_BANK, perks::v1::FUNDER_MERCHANT}) {
      auto* share = spec.add_funding();
      share->set_funder(funder);
      share->set_share_bp(5000);
    }
    Campaign c;
    ASSERT_TRUE(Apply(spec, bozhou_, &c).ok());
    ASSERT_TRUE(Publish(spec.campaign_id(), bozhou_, &c).ok());
  }

  // 64 threads, each reserving and committing `per_thread` baskets of member `member(t, i)`.
  // Returns the fen of discount committed in all.
  template <typename MemberOf>
  int64_t Race(int per_thread, MemberOf member) {
    std::atomic<int64_t> committed{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 64; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          std::string id = absl::StrCat("race-", t, "-", i);
          perks::v1::Reservation r, c;
          if (!Reserve(Basket(id, member(t, i)), &r).ok() ||
              !Commit(id + "-commit", r.reservation_id(), &c).ok()) {
            ++failures;
            continue;
          }
          committed += c.evaluation().discount_fen();
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    return committed.load();
  }

  perks::v1::Merchant shop_;
  tools::TerminalCredentials till_;
};

TEST_F(ReservationApiTest, AReservationHoldsCommitsAndAnswersRetriesWithTheFirstAnswer) {
  PublishLimited(/*budget_fen=*/6000, /*member_limit=*/0);
  perks::v1::Reservation r, again;
  ASSERT_TRUE(Reserve(Basket("till-1/000123/20261205", "m-1"), &r).ok());
  EXPECT_EQ(r.state(), perks::v1::RESERVATION_STATE_HELD);
  EXPECT_EQ(r.evaluation().discount_fen(), 3000);
  EXPECT_EQ(r.evaluation().discounts(0).funding(0).amount_fen(), 1500);
  EXPECT_EQ(Budget("bozhou-limited-100-30", "campaign").held(), 3000);

  // The till did not get the answer and asks again: the same reservation, nothing more held.
  ASSERT_TRUE(Reserve(Basket("till-1/000123/20261205", "m-1"), &again).ok());
  EXPECT_EQ(again.reservation_id(), r.reservation_id());
  EXPECT_EQ(Budget("bozhou-limited-100-30", "campaign").held(), 3000);
  // The same request id for another basket is refused, saying so.
  grpc::Status s = Reserve(Basket("till-1/000123/20261205", "m-1", 20000), &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();

  ASSERT_TRUE(Commit("commit-1", r.reservation_id(), &again).ok());
  EXPECT_EQ(again.state(), perks::v1::RESERVATION_STATE_COMMITTED);
  perks::v1::BudgetUse campaign = Budget("bozhou-limited-100-30", "campaign");
  EXPECT_EQ(campaign.used(), 3000);
  EXPECT_EQ(campaign.held(), 0);
  EXPECT_EQ(campaign.left(), 3000);
  EXPECT_EQ(Budget("bozhou-limited-100-30", "bank").used(), 1500);

  // A second reservation released (the payment failed) gives its budget back.
  ASSERT_TRUE(Reserve(Basket("till-1/000124/20261205", "m-2"), &r).ok());
  EXPECT_EQ(Budget("bozhou-limited-100-30", "campaign").left(), 0);
  ASSERT_TRUE(Release("release-1", r.reservation_id(), &again).ok());
  EXPECT_EQ(again.state(), perks::v1::RESERVATION_STATE_RELEASED);
  EXPECT_EQ(again.reason(), "payment declined");
  EXPECT_EQ(Budget("bozhou-limited-100-30", "campaign").left(), 3000);
  // It cannot be committed any more.
  s = Commit("commit-2", r.reservation_id(), &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("released"));

  // What was used is still used after a restart.
  Restart();
  promo_ = PromotionService::NewStub(channel_);
  EXPECT_EQ(Budget("bozhou-limited-100-30", "campaign").used(), 3000);
}

TEST_F(ReservationApiTest, SixtyFourTillThreadsGetExactlyTheBudgetNoMore) {
  PublishLimited(/*budget_fen=*/99000, /*member_limit=*/0);  // 33 discounts; 256 are asked for
  int64_t granted = Race(4, [](int t, int i) { return absl::StrCat("m-", t, "-", i); });
  EXPECT_EQ(granted, 99000);
  perks::v1::BudgetUse campaign = Budget("bozhou-limited-100-30", "campaign");
  EXPECT_EQ(campaign.used(), 99000);
  EXPECT_EQ(campaign.held(), 0);
  EXPECT_EQ(Budget("bozhou-limited-100-30", "campaign count").used(), 33);
  Restart();
  promo_ = PromotionService::NewStub(channel_);
  EXPECT_EQ(Budget("bozhou-limited-100-30", "campaign").used(), 99000);
}

TEST_F(ReservationApiTest, SixtyFourTillThreadsForOneMemberGetExactlyTheMembersLimit) {
  PublishLimited(/*budget_fen=*/0, /*member_limit=*/5);
  EXPECT_EQ(Race(2, [](int, int) { return std::string("m-1"); }), 5 * 3000);
}

TEST_F(ReservationApiTest, RefusalsChangeNothing) {
  PublishLimited(/*budget_fen=*/6000, /*member_limit=*/0);
  perks::v1::Reservation r;
  ASSERT_TRUE(Reserve(Basket("ok", "m-1"), &r).ok());
  auto before = Writes();
  // A basket of another merchant.
  perks::v1::ReserveRequest other = Basket("other", "m-1");
  other.mutable_basket()->set_merchant_id("someone-else");
  EXPECT_EQ(Reserve(other, &r).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // No amount.
  EXPECT_EQ(Reserve(Basket("zero", "m-1", 0), &r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // An unknown reservation.
  EXPECT_EQ(Commit("c", "R-nope", &r).error_code(), grpc::StatusCode::NOT_FOUND);
  // An admin does not reserve; a till does not read budgets.
  perks::v1::ReserveRequest req = Basket("admin", "m-1");
  EXPECT_EQ(promo_->Reserve(As(bozhou_).get(), req, &r).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  perks::v1::GetBudgetsRequest budgets;
  budgets.set_campaign_id("bozhou-limited-100-30");
  perks::v1::CampaignBudgets out;
  EXPECT_EQ(promo_
                ->GetBudgets(Signed(till_, "/perks.v1.PromotionService/GetBudgets", budgets).get(),
                             budgets, &out)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Writes(), before);
}

// Grants: what an event earns a member, counted against the campaign's limits and budgets and
// credited to the member's card.
class GrantApiTest : public PromotionApiTest {
 protected:
  grpc::Status Grant(perks::v1::GrantEvent event, const std::string& card_number,
                     const std::string& request_id, perks::v1::GrantResult* out,
                     int64_t claim_fen = 0, const std::string& campaign_id = "",
                     const std::string& token = "") {
    perks::v1::GrantRequest req;
    req.set_request_id(request_id);
    req.set_event(event);
    if (absl::ascii_isdigit(card_number[0])) {
      req.mutable_card()->set_card_number(card_number);
    } else {
      req.mutable_card()->set_card_id(card_number);
    }
    req.set_claim_fen(claim_fen);
    req.set_campaign_id(campaign_id);
    return promo_->Grant(As(token.empty() ? admin_token_ : token).get(), req, out);
  }

  perks::v1::Card Activate(const std::string& card_number, const std::string& request_id) {
    perks::v1::ChangeCardStateRequest req;
    req.set_request_id(request_id);
    req.mutable_card()->set_card_number(card_number);
    req.set_action(perks::v1::CARD_ACTION_ACTIVATE);
    perks::v1::Card card;
    grpc::Status s = card_->ChangeCardState(As(admin_token_).get(), req, &card);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return card;
  }
};

TEST_F(GrantApiTest, AnqingActivationCreditsThirtyYuanOfTransitOncePerMember) {
  LoadProgram("anqing-green-travel.yaml", admin_token_);
  std::vector<std::string> cards = IssueMemberCards("anqing", 2, admin_token_, "anqing-green");
  // Activating the card is what earns the credit: the answer shows it on the card.
  perks::v1::Card active = Activate(cards[0], "activate-1");
  EXPECT_EQ(active.state(), perks::v1::CARD_STATE_ACTIVE);
  ASSERT_EQ(active.balances_size(), 1);
  EXPECT_EQ(active.balances(0).name(), "transit");
  EXPECT_EQ(active.balances(0).amount_fen(), 3000);
  // The app retries the activation: nothing more.
  Activate(cards[0], "activate-1");
  EXPECT_EQ(BalanceOf(cards[0], "transit"), 3000);
  // Another city's admin sending the very same request is not shown its answer.
  {
    perks::v1::ChangeCardStateRequest req;
    req.set_request_id("activate-1");
    req.mutable_card()->set_card_number(cards[0]);
    req.set_action(perks::v1::CARD_ACTION_ACTIVATE);
    perks::v1::Card seen;
    grpc::Status s = card_->ChangeCardState(As(bozhou_).get(), req, &seen);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
    EXPECT_EQ(seen.card_id(), "");
  }
  // Asking for the activation grant again, under any request id, grants nothing more.
  perks::v1::GrantResult again;
  ASSERT_TRUE(Grant(perks::v1::GRANT_EVENT_CARD_ACTIVATED, cards[0], "again", &again).ok());
  EXPECT_EQ(again.grants_size(), 0);
  ASSERT_EQ(again.not_applied_size(), 1);
  EXPECT_EQ(again.not_applied(0).reason(), perks::v1::NOT_APPLIED_MEMBER_LIMIT);
  EXPECT_EQ(BalanceOf(cards[0], "transit"), 3000);
  // The union's budget shows the one activation; the card's history names the campaign version.
  perks::v1::GetBudgetsRequest budgets_req;
  budgets_req.set_campaign_id("anqing-activation-30");
  perks::v1::CampaignBudgets budgets;
  ASSERT_TRUE(promo_->GetBudgets(As(admin_token_).get(), budgets_req, &budgets).ok());
  ASSERT_GE(budgets.budgets_size(), 1);
  EXPECT_EQ(budgets.budgets(0).name(), "campaign");
  EXPECT_EQ(budgets.budgets(0).used(), 3000);
  EXPECT_EQ(budgets.budgets(0).left(), 60000000 - 3000);
  perks::v1::ListCardHistoryRequest history_req;
  history_req.mutable_card()->set_card_number(cards[0]);
  perks::v1::ListCardHistoryResponse history;
  ASSERT_TRUE(card_->ListCardHistory(As(admin_token_).get(), history_req, &history).ok());
  EXPECT_THAT(history.DebugString(), HasSubstr("campaign anqing-activation-30 version 1"));
  // A card not yet active earns nothing on activation's account, and says why.
  perks::v1::GrantResult none;
  grpc::Status s = Grant(perks::v1::GRANT_EVENT_CARD_ACTIVATED, cards[1], "early", &none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("not active"));
  EXPECT_EQ(BalanceOf(cards[1], "transit"), 0);
  // Half-price bus on the credit's card.
  Evaluation bus = [&] {
    perks::v1::EvaluateRequest req;
    req.mutable_basket()->set_tenant_id("anqing");
    req.mutable_basket()->set_program_id("anqing-green");
    req.mutable_basket()->set_category("bus");
    req.mutable_basket()->set_amount_fen(200);
    Evaluation e;
    EXPECT_TRUE(promo_->Evaluate(As(admin_token_).get(), req, &e).ok());
    return e;
  }();
  EXPECT_EQ(bus.to_pay_fen(), 100);
}

TEST_F(GrantApiTest, FuyangVouchersGoToNeedyHouseholdsOnlyAndBuy550YuanOfFarmProduce) {
  LoadProgram("fuyang-warm-heart.yaml", admin_token_);
  std::vector<std::string> needy =
      IssueMemberCards("fuyang", 2, admin_token_, "fuyang-member", {"needy_household"});
  std::vector<std::string> others = IssueMemberCards("fuyang", 1, admin_token_, "fuyang-other");
  for (size_t i = 0; i < needy.size(); ++i) {
    perks::v1::GrantResult r;
    grpc::Status s = Grant(perks::v1::GRANT_EVENT_ISSUE_BATCH, needy[i], absl::StrCat("v-", i), &r,
                           0, "fuyang-warm-heart-2026");
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(r.grants_size(), 1);
    EXPECT_EQ(r.grants(0).amount_fen(), 50000);
    EXPECT_EQ(r.grants(0).balance_kind(), perks::v1::GRANT_BALANCE_KIND_VOUCHER);
    EXPECT_GT(r.grants(0).card_history_seq(), 0);
    ASSERT_EQ(r.grants(0).funding_size(), 1);
    EXPECT_EQ(r.grants(0).funding(0).funder(), perks::v1::FUNDER_UNION);
    EXPECT_FALSE(r.grant_id().empty());
    // The same request again: the first answer, and one voucher.
    perks::v1::GrantResult again;
    ASSERT_TRUE(Grant(perks::v1::GRANT_EVENT_ISSUE_BATCH, needy[i], absl::StrCat("v-", i), &again,
                      0, "fuyang-warm-heart-2026")
                    .ok());
    EXPECT_EQ(again.grant_id(), r.grant_id());
    EXPECT_EQ(BalanceOf(needy[i], "warm-heart-2026"), 50000);
  }
  perks::v1::GrantResult other;
  ASSERT_TRUE(Grant(perks::v1::GRANT_EVENT_ISSUE_BATCH, others[0], "v-other", &other, 0,
                    "fuyang-warm-heart-2026")
                  .ok());
  EXPECT_EQ(other.grants_size(), 0);
  ASSERT_EQ(other.not_applied_size(), 1);
  EXPECT_EQ(other.not_applied(0).reason(), perks::v1::NOT_APPLIED_MEMBER_TAGS);
  EXPECT_EQ(BalanceOf(others[0], "warm-heart-2026"), 0);

  // At a farm-produce merchant the voucher and the merchant's 10% pay for 550 yuan.
  perks::v1::EvaluateRequest req;
  perks::v1::Basket* b = req.mutable_basket();
  b->set_tenant_id("fuyang");
  b->set_program_id("fuyang-member");
  b->set_merchant_id("fuyang-farm");
  b->set_category("farm_produce");
  b->set_amount_fen(55000);
  (*b->mutable_balances_fen())["warm-heart-2026"] = BalanceOf(needy[0], "warm-heart-2026");
  Evaluation e;
  ASSERT_TRUE(promo_->Evaluate(As(admin_token_).get(), req, &e).ok());
  EXPECT_EQ(e.from_balances_fen(), 50000);
  EXPECT_EQ(e.discount_fen(), 5000);
  EXPECT_EQ(e.to_pay_fen(), 0);
}

TEST_F(GrantApiTest, AGrantTheCardWouldRefuseUsesNoBudget) {
  LoadProgram("fuyang-warm-heart.yaml", admin_token_);
  std::vector<std::string> needy =
      IssueMemberCards("fuyang", 1, admin_token_, "fuyang-member", {"needy_household"});
  // The card already holds a voucher of that name, which expires at another time.
  perks::v1::CreditBalanceRequest credit;
  credit.set_request_id("older-voucher");
  credit.mutable_card()->set_card_number(needy[0]);
  credit.set_balance_name("warm-heart-2026");
  credit.set_kind(perks::v1::BALANCE_KIND_VOUCHER);
  credit.set_amount_fen(10000);
  credit.add_allowed_categories("farm_produce");
  perks::v1::BalanceChange change;
  ASSERT_TRUE(card_->CreditBalance(As(admin_token_).get(), credit, &change).ok());
  perks::v1::GrantResult r;
  grpc::Status s =
      Grant(perks::v1::GRANT_EVENT_ISSUE_BATCH, needy[0], "v-1", &r, 0, "fuyang-warm-heart-2026");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("warm-heart-2026"));
  EXPECT_EQ(BalanceOf(needy[0], "warm-heart-2026"), 10000);
  perks::v1::GetBudgetsRequest budgets_req;
  budgets_req.set_campaign_id("fuyang-warm-heart-2026");
  perks::v1::CampaignBudgets budgets;
  ASSERT_TRUE(promo_->GetBudgets(As(admin_token_).get(), budgets_req, &budgets).ok());
  for (const auto& b : budgets.budgets()) {
    EXPECT_EQ(b.used(), 0) << b.name();
    EXPECT_EQ(b.held(), 0) << b.name();
  }
}

TEST_F(GrantApiTest, BozhouMedicalPayoutFromAThousandYuanOutOfPocketOnce) {
  LoadProgram("bozhou-medical.yaml", bozhou_);
  std::vector<std::string> cards = IssueMemberCards("bozhou", 1, bozhou_, "bozhou-member");
  perks::v1::GrantResult small;
  ASSERT_TRUE(
      Grant(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, cards[0], "claim-1", &small, 80000, "", bozhou_)
          .ok());
  EXPECT_EQ(small.grants_size(), 0);
  ASSERT_EQ(small.not_applied_size(), 1);
  EXPECT_EQ(small.not_applied(0).reason(), perks::v1::NOT_APPLIED_CLAIM_TOO_SMALL);
  // The longest request id a caller may send still credits the card.
  const std::string long_id(128, 'r');
  perks::v1::GrantResult paid;
  ASSERT_TRUE(
      Grant(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, cards[0], long_id, &paid, 120000, "", bozhou_)
          .ok());
  ASSERT_EQ(paid.grants_size(), 1);
  EXPECT_EQ(paid.grants(0).amount_fen(), 50000);
  EXPECT_EQ(BalanceOf(cards[0], "medical"), 50000);
  perks::v1::GrantResult twice;
  ASSERT_TRUE(
      Grant(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, cards[0], "claim-3", &twice, 150000, "", bozhou_)
          .ok());
  EXPECT_EQ(twice.grants_size(), 0);
  EXPECT_EQ(BalanceOf(cards[0], "medical"), 50000);
  // What was granted is still counted after a restart.
  Restart();
  promo_ = PromotionService::NewStub(channel_);
  ASSERT_TRUE(
      Grant(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, cards[0], "claim-4", &twice, 150000, "", bozhou_)
          .ok());
  EXPECT_EQ(twice.grants_size(), 0);
  EXPECT_EQ(BalanceOf(cards[0], "medical"), 50000);
}

TEST_F(GrantApiTest, BadGrantsAreRefusedAndWriteNothing) {
  LoadProgram("bozhou-medical.yaml", bozhou_);
  std::vector<std::string> cards = IssueMemberCards("bozhou", 1, bozhou_, "bozhou-member");
  std::string anqing = TokenFor(perks::v1::ROLE_UNION_ADMIN, "anqing", "", "安庆市总工会");
  auto before = Writes();
  perks::v1::GrantResult r;
  grpc::Status s = Grant(perks::v1::GRANT_EVENT_UNSPECIFIED, cards[0], "g1", &r, 0, "", bozhou_);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("event"));
  s = Grant(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, cards[0], "g2", &r, 0, "", bozhou_);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("claim_fen"));
  s = Grant(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, cards[0], "g3", &r, -5, "", bozhou_);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Activation ids are the card service's: an admin taking one first would block a card's credit.
  s = Grant(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, cards[0], "activate/c123", &r, 120000, "",
            bozhou_);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("card service"));
  s = Grant(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, "no-such-card", "g4", &r, 120000, "", bozhou_);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  // Another city's admin does not see the card.
  s = Grant(perks::v1::GRANT_EVENT_MEDICAL_CLAIM, cards[0], "g5", &r, 120000, "", anqing);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_EQ(Writes(), before);
  EXPECT_EQ(BalanceOf(cards[0], "medical"), 0);
}

}  // namespace
}  // namespace perks::testing
