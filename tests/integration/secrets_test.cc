// The installation's keys: made once and then read back; two processes starting together
// agree on one; a file that is not a key (a placeholder, a damaged file) is refused, and the
// server does not start on it.
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "services/perkd/server.h"
#include "storage/test_dir.h"

namespace perks {
namespace {

TEST(SecretsTest, AKeyIsMadeOnceAndReadBackTheSame) {
  storage::TestDir dir;
  auto first = LoadOrCreateSecret(dir.path(), "internal");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 64u);
  auto again = LoadOrCreateSecret(dir.path(), "internal");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *first);
  auto other = LoadOrCreateSecret(dir.path(), "id-hash");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *first);
}

TEST(SecretsTest, APlaceholderOrDamagedKeyIsRefusedAndTheServerDoesNotStart) {
  storage::TestDir dir;
  std::filesystem::create_directories(dir.path() + "/secrets");
  for (const char* bad :
       {"REPLACE-WITH-64-HEX-CHARACTERS-FROM-openssl-rand-hex-32", "0123456789abcdef", ""}) {
    {
      std::ofstream out(dir.path() + "/secrets/internal.key", std::ios::trunc);
      out << bad << "\n";
    }
    auto key = LoadOrCreateSecret(dir.path() + "/secrets", "internal");
    EXPECT_EQ(key.status().code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_NE(key.status().message().find("openssl rand -hex 32"), std::string::npos);
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir.path();
    auto server = Server::Start(options);
    EXPECT_EQ(server.status().code(), absl::StatusCode::kDataLoss) << bad;
  }
}

}  // namespace
}  // namespace perks
