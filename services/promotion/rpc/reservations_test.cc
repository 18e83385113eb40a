#include "services/promotion/rpc/reservations.h"

#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "services/promotion/store/promotion_store.h"
#include "storage/test_dir.h"

namespace perks::promotion {
namespace {

using perks::v1::Basket;
using perks::v1::CampaignSpec;
using perks::v1::Reservation;

const absl::Time kNoon =
    absl::FromCivil(absl::CivilSecond(2026, 12, 5, 12, 0, 0), absl::FixedTimeZone(8 * 3600));

// Supermarkets spend 100 save 30 within a 90-yuan budget, half bank and half merchant; a
// reservation holds for two minutes.
CampaignSpec Supermarket() {
  CampaignSpec s;
  s.set_campaign_id("supermarket-100-30");
  s.set_tenant_id("bozhou");
  s.set_title("spend 100 save 30");
  s.mutable_threshold()->set_min_fen(10000);
  s.mutable_threshold()->set_off_fen(3000);
  s.set_budget_fen(9000);
  s.set_hold_seconds(120);
  for (auto funder : {perks::v1::FUNDER_BANK, perks::v1::FUNDER_MERCHANT}) {
    auto* share = s.add_funding();
    share->set_funder(funder);
    share->set_share_bp(5000);
  }
  return s;
}

// A promotion database on disk with its writer and reservations, reopened by Restart().
class ReservationsTest : public ::testing::Test {
 protected:
  ReservationsTest() : clock_(kNoon) {
    auto set = RuleSet::Compile({RuleSet::Input::Of(Supermarket())});
    EXPECT_TRUE(set.ok()) << set.status();
    rules_ = *set;
    Open();
  }
  ~ReservationsTest() override { Close(); }

  void Open() {
    storage::DbOptions o;
    o.path = dir_.path();
    o.column_families = PromotionStore::ColumnFamilies();
    auto db = storage::Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    writer_ = std::make_unique<storage::GroupCommitWriter>(db_.get(), storage::WriterOptions());
    reservations_ = std::make_unique<Reservations>(db_.get(), writer_.get(), &clock_,
                                                   [this] { return rules_; });
    reservations_->OnExpired([this](const std::string& id) {
      std::lock_guard<std::mutex> lock(mu_);
      expired_.insert(id);
      cv_.notify_all();
    });
    ASSERT_TRUE(reservations_->Restore().ok());
  }
  void Close() {
    writer_->Stop();  // its queued commands (an expiry among them) finish first
    reservations_.reset();
    writer_.reset();
    db_.reset();
  }
  void Restart() {
    Close();
    Open();
  }

  Mutation Till(const std::string& merchant = "m1") {
    return Mutation{"terminal T1", absl::ToUnixMillis(clock_.Now()), "bozhou", merchant};
  }
  Basket For(const std::string& member, const std::string& merchant = "m1") {
    Basket b;
    b.set_tenant_id("bozhou");
    b.set_member_id(member);
    b.set_merchant_id(merchant);
    b.set_amount_fen(10000);
    b.set_at_unix_ms(absl::ToUnixMillis(clock_.Now()));
    return b;
  }

  // Reserve as the service does: on the writer, then Reserved (or Undo) once durable.
  Reservation Reserve(const Basket& basket) {
    Reservation r;
    std::vector<Hold> held;
    absl::Status s = writer_->Run([&](storage::Txn& txn) {
      return reservations_->Reserve(txn, basket, Till(basket.merchant_id()), &r, &held);
    });
    EXPECT_TRUE(s.ok()) << s;
    if (s.ok()) reservations_->Reserved(r);
    return r;
  }
  absl::StatusOr<Reservation> Commit(const std::string& id, const Mutation& m,
                                     const std::string& reference = "") {
    Reservation r;
    std::vector<Hold> settled;
    perks::v1::CommitRequest req;
    req.set_reservation_id(id);
    req.set_reference(reference);
    absl::Status s = writer_->Run(
        [&](storage::Txn& txn) { return reservations_->Commit(txn, req, m, &r, &settled); });
    if (!s.ok()) return s;
    reservations_->Committed(id, settled);
    return r;
  }
  absl::StatusOr<Reservation> Release(const std::string& id) {
    Reservation r;
    std::vector<Hold> settled;
    perks::v1::ReleaseRequest req;
    req.set_reservation_id(id);
    absl::Status s = writer_->Run(
        [&](storage::Txn& txn) { return reservations_->Release(txn, req, Till(), &r, &settled); });
    if (!s.ok()) return s;
    reservations_->Released(id, settled);
    return r;
  }
  void WaitExpired(const std::string& id) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return expired_.count(id) > 0; });
  }
  Counter Total() const { return reservations_->book().CampaignTotal("supermarket-100-30"); }

  storage::TestDir dir_;
  ManualClock clock_;
  std::shared_ptr<const RuleSet> rules_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  std::unique_ptr<Reservations> reservations_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> expired_;
};

TEST_F(ReservationsTest, AReservationHoldsItsDiscountUntilCommittedAndCommittedIsUsed) {
  Reservation r = Reserve(For("a"));
  EXPECT_EQ(r.state(), perks::v1::RESERVATION_STATE_HELD);
  EXPECT_EQ(r.evaluation().discount_fen(), 3000);
  EXPECT_EQ(r.expires_at_unix_ms(), absl::ToUnixMillis(kNoon + absl::Minutes(2)));
  EXPECT_EQ(Total().held_fen, 3000);

  auto c = Commit(r.reservation_id(), Till());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->state(), perks::v1::RESERVATION_STATE_COMMITTED);
  EXPECT_EQ(Total().held_fen, 0);
  EXPECT_EQ(Total().used_fen, 3000);
  // Committing again answers the same; releasing a committed one is refused.
  EXPECT_EQ(Commit(r.reservation_id(), Till())->state(), perks::v1::RESERVATION_STATE_COMMITTED);
  EXPECT_EQ(Total().used_fen, 3000);
  EXPECT_EQ(Release(r.reservation_id()).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ReservationsTest, ACommitKeepsThePaymentItBelongsToAndWhenAcrossARestart) {
  Reservation r = Reserve(For("a"));
  EXPECT_EQ(r.settled_at_unix_ms(), 0);
  clock_.Advance(absl::Minutes(1));
  const int64_t committed_at = absl::ToUnixMillis(clock_.Now());
  auto c = Commit(r.reservation_id(), Till(), "BANK-0001");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reference(), "BANK-0001");
  clock_.Advance(absl::Minutes(1));
  Restart();
  auto got = reservations_->Get(r.reservation_id(), Till());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->state(), perks::v1::RESERVATION_STATE_COMMITTED);
  EXPECT_EQ(got->reference(), "BANK-0001");
  EXPECT_EQ(got->settled_at_unix_ms(), committed_at);
}

TEST_F(ReservationsTest, TheBudgetIsNeverExceededAndAReleaseGivesItBack) {
  std::vector<Reservation> held;
  for (int i = 0; i < 4; ++i) held.push_back(Reserve(For(absl::StrCat("m", i))));
  EXPECT_EQ(held[3].evaluation().discount_fen(), 0);  // 90 yuan: three discounts of 30
  EXPECT_EQ(held[3].evaluation().not_applied(0).reason(), perks::v1::NOT_APPLIED_BUDGET);
  ASSERT_TRUE(Release(held[0].reservation_id()).ok());
  EXPECT_EQ(Reserve(For("m4")).evaluation().discount_fen(), 3000);
  EXPECT_EQ(Total().held_fen, 9000);
}

TEST_F(ReservationsTest, UsedAndHeldSurviveARestartAndHeldOnesStillExpire) {
  Reservation committed = Reserve(For("a"));
  ASSERT_TRUE(Commit(committed.reservation_id(), Till()).ok());
  Reservation open = Reserve(For("b"));
  Restart();
  EXPECT_EQ(Total().used_fen, 3000);
  EXPECT_EQ(Total().held_fen, 3000);
  EXPECT_EQ(reservations_->ExpiriesPending(), 1u);
  // After the restart the open one is still held: one more 30 fits in the 90, not two.
  EXPECT_EQ(Reserve(For("c")).evaluation().discount_fen(), 3000);
  EXPECT_EQ(Reserve(For("d")).evaluation().discount_fen(), 0);

  clock_.Advance(absl::Minutes(3));
  WaitExpired(open.reservation_id());
  auto r = reservations_->Get(open.reservation_id(), Till());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state(), perks::v1::RESERVATION_STATE_EXPIRED);
  EXPECT_EQ(Total().used_fen, 3000);
}

TEST_F(ReservationsTest, CommitsThatShareAGroupAreAllCountedAfterARestart) {
  std::vector<Reservation> held;
  for (const char* member : {"a", "b", "c"}) held.push_back(Reserve(For(member)));
  ASSERT_TRUE(Commit(held[0].reservation_id(), Till()).ok());
  // The other two commit in one group, each counted once its group is written, as the service
  // does (in the command's Done).
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  ASSERT_TRUE(writer_
                  ->Submit(
                      [opened](storage::Txn&) {
                        opened.wait();
                        return absl::OkStatus();
                      },
                      [](absl::Status) {})
                  .ok());
  std::vector<std::promise<absl::Status>> done(2);
  std::vector<std::vector<Hold>> settled(2);
  std::vector<Reservation> out(2);
  for (size_t i = 0; i < 2; ++i) {
    perks::v1::CommitRequest req;
    req.set_reservation_id(held[i + 1].reservation_id());
    ASSERT_TRUE(writer_
                    ->Submit(
                        [this, req, i, &settled, &out](storage::Txn& txn) {
                          return reservations_->Commit(txn, req, Till(), &out[i], &settled[i]);
                        },
                        [this, req, i, &settled, &done](absl::Status s) {
                          if (s.ok()) reservations_->Committed(req.reservation_id(), settled[i]);
                          done[i].set_value(s);
                        })
                    .ok());
  }
  gate.set_value();
  for (auto& d : done) ASSERT_TRUE(d.get_future().get().ok());
  EXPECT_EQ(Total().used_fen, 9000);
  Restart();
  EXPECT_EQ(Total().used_fen, 9000);
  EXPECT_EQ(Total().used_count, 3);
  EXPECT_EQ(
      reservations_->book().FunderTotal("supermarket-100-30", perks::v1::FUNDER_BANK).used_fen,
      4500);
  // The budget of 90 yuan is used up: nothing more fits.
  EXPECT_EQ(Reserve(For("d")).evaluation().discount_fen(), 0);
}

TEST_F(ReservationsTest, AnExpiredReservationReturnsItsBudgetByItselfAndCannotBeCommitted) {
  Reservation r = Reserve(For("a"));
  clock_.Advance(absl::Seconds(121));
  WaitExpired(r.reservation_id());
  EXPECT_EQ(Total().held_fen, 0);
  EXPECT_EQ(reservations_->ExpiriesPending(), 0u);
  auto c = Commit(r.reservation_id(), Till());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("expired"), std::string::npos) << c.status();
  // A release of an expired reservation answers it as it is.
  EXPECT_EQ(Release(r.reservation_id())->state(), perks::v1::RESERVATION_STATE_EXPIRED);
  Restart();
  EXPECT_EQ(Total().held_fen, 0);
  EXPECT_EQ(Total().used_fen, 0);
}

TEST_F(ReservationsTest, ATillSettlesOnlyItsOwnMerchantsReservations) {
  Reservation r = Reserve(For("a", "m1"));
  auto other = Commit(r.reservation_id(), Till("m2"));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Total().held_fen, 3000);
  EXPECT_EQ(reservations_->Get(r.reservation_id(), Till("m2")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Commit(r.reservation_id(), Till("m1")).ok());
}

TEST_F(ReservationsTest, BudgetsShowUsedHeldAndLeft) {
  ASSERT_TRUE(Commit(Reserve(For("a")).reservation_id(), Till()).ok());
  Reserve(For("b"));
  perks::v1::CampaignBudgets b = reservations_->Budgets(Supermarket());
  ASSERT_EQ(b.budgets_size(), 4);  // campaign, campaign count, bank, merchant
  EXPECT_EQ(b.budgets(0).name(), "campaign");
  EXPECT_EQ(b.budgets(0).limit(), 9000);
  EXPECT_EQ(b.budgets(0).used(), 3000);
  EXPECT_EQ(b.budgets(0).held(), 3000);
  EXPECT_EQ(b.budgets(0).left(), 3000);
  EXPECT_TRUE(b.budgets(1).unlimited());
  EXPECT_EQ(b.budgets(1).used(), 1);
  EXPECT_EQ(b.budgets(2).name(), "bank");
  EXPECT_EQ(b.budgets(2).used(), 1500);
  EXPECT_EQ(b.budgets(3).name(), "merchant");
  EXPECT_EQ(b.budgets(3).held(), 1500);
}

}  // namespace
}  // namespace perks::promotion
