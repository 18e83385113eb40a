#include <gtest/gtest.h>

#include "tools/common/client.h"

namespace perks::tools {
namespace {

TEST(EndpointsTest, OneAddressAnswersForEveryService) {
  auto e = Endpoints::Parse("127.0.0.1:7400");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e->Of("card"), "127.0.0.1:7400");
  EXPECT_EQ(*e->Of("settlement"), "127.0.0.1:7400");
  EXPECT_EQ(e->Addresses(), std::vector<std::string>{"127.0.0.1:7400"});
}

TEST(EndpointsTest, EachServiceAtItsOwnAddressAndEachProcessListedOnce) {
  auto e =
      Endpoints::Parse("auth=h:2, card=h:1,merchant=h:2,promotion=h:3,checkout=h:4,settlement=h:5");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e->Of("card"), "h:1");
  EXPECT_EQ(*e->Of("auth"), "h:2");
  EXPECT_EQ(*e->Of("checkout"), "h:4");
  EXPECT_EQ(e->Addresses(), (std::vector<std::string>{"h:2", "h:1", "h:4", "h:3", "h:5"}));
}

TEST(EndpointsTest, BackupsGoToCallersBeforeTheServicesTheyCall) {
  auto e =
      Endpoints::Parse("auth=h:2,card=h:1,merchant=h:2,promotion=h:3,checkout=h:4,settlement=h:5");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->AddressesCallersFirst(),
            (std::vector<std::string>{"h:4", "h:1", "h:3", "h:5", "h:2"}));
  auto one = Endpoints::Parse("h:9");
  EXPECT_EQ(one->AddressesCallersFirst(), std::vector<std::string>{"h:9"});
}

TEST(EndpointsTest, SpacesAroundNamesAndAddressesAreIgnored) {
  auto e = Endpoints::Parse(" card = h:1 , checkout=h:4 ");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e->Of("card"), "h:1");
  EXPECT_EQ(*e->Of("checkout"), "h:4");
}

TEST(EndpointsTest, ABareAddressAnswersForTheServicesNotNamed) {
  auto e = Endpoints::Parse("checkout=h:4,h:9");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e->Of("checkout"), "h:4");
  EXPECT_EQ(*e->Of("card"), "h:9");
}

TEST(EndpointsTest, AServiceNobodyNamedIsNotFoundWithTheFix) {
  auto e = Endpoints::Parse("card=h:1");
  ASSERT_TRUE(e.ok()) << e.status();
  auto checkout = e->Of("checkout");
  EXPECT_EQ(checkout.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(checkout.status().message().find("checkout=HOST:PORT"), std::string::npos);
}

TEST(EndpointsTest, MalformedSpecsAreRefusedSayingWhy) {
  for (const char* bad :
       {"", "card", "cards=h:1", "card=h:1,card=h:2", "h:1,h:2", "card=h", "=h:1"}) {
    auto e = Endpoints::Parse(bad);
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace perks::tools
