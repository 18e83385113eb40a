#include "services/common/terminal_auth.h"

#include "gtest/gtest.h"

namespace perks {
namespace {

constexpr char kMethod[] = "/perks.v1.CardService/LookupCard";
const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

TerminalClaim Claim(const std::string& secret, const std::string& body, absl::Time at,
                    const std::string& nonce = "nonce-0123456789abcdef") {
  TerminalClaim c;
  c.terminal_id = "T1";
  c.timestamp_ms = absl::ToUnixMillis(at);
  c.nonce = nonce;
  c.signature_hex = SignTerminalCall(secret, kMethod, c.timestamp_ms, nonce, body);
  return c;
}

TerminalKeys Keys(const std::string& secret) {
  TerminalKeys k;
  k.secret = secret;
  return k;
}

TEST(TerminalAuthTest, AcceptsAFreshCorrectlySignedCall) {
  NonceWindow nonces(absl::Minutes(10));
  EXPECT_TRUE(VerifyTerminalClaim(Claim("s3cret", "body", kNow), kMethod, "body", Keys("s3cret"),
                                  kNow, absl::Minutes(5), nonces)
                  .ok());
}

TEST(TerminalAuthTest, RefusesForgedTamperedOrRedirectedCalls) {
  NonceWindow nonces(absl::Minutes(10));
  auto verify = [&](const TerminalClaim& c, std::string_view method, std::string_view body) {
    return VerifyTerminalClaim(c, method, body, Keys("s3cret"), kNow, absl::Minutes(5), nonces)
        .code();
  };
  EXPECT_EQ(verify(Claim("wrong", "body", kNow), kMethod, "body"),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(verify(Claim("s3cret", "body", kNow), kMethod, "other body"),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(verify(Claim("s3cret", "body", kNow), "/perks.v1.CardService/DebitBalance", "body"),
            absl::StatusCode::kUnauthenticated);
}

TEST(TerminalAuthTest, RefusesReplaysAndStaleTimestamps) {
  NonceWindow nonces(absl::Minutes(10));
  TerminalClaim c = Claim("s3cret", "body", kNow);
  ASSERT_TRUE(
      VerifyTerminalClaim(c, kMethod, "body", Keys("s3cret"), kNow, absl::Minutes(5), nonces).ok());
  absl::Status replay =
      VerifyTerminalClaim(c, kMethod, "body", Keys("s3cret"), kNow, absl::Minutes(5), nonces);
  EXPECT_EQ(replay.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(replay.message().find("replayed"), std::string::npos);
  TerminalClaim stale = Claim("s3cret", "body", kNow - absl::Minutes(6), "nonce-stale-0123456789");
  EXPECT_NE(
      VerifyTerminalClaim(stale, kMethod, "body", Keys("s3cret"), kNow, absl::Minutes(5), nonces)
          .message()
          .find("clock"),
      std::string::npos);
  TerminalClaim future = Claim("s3cret", "body", kNow + absl::Minutes(6), "nonce-future-012345678");
  EXPECT_EQ(
      VerifyTerminalClaim(future, kMethod, "body", Keys("s3cret"), kNow, absl::Minutes(5), nonces)
          .code(),
      absl::StatusCode::kUnauthenticated);
}

TEST(TerminalAuthTest, ForgedCallDoesNotBurnTheNonce) {
  NonceWindow nonces(absl::Minutes(10));
  TerminalClaim forged = Claim("wrong", "body", kNow);
  EXPECT_FALSE(
      VerifyTerminalClaim(forged, kMethod, "body", Keys("s3cret"), kNow, absl::Minutes(5), nonces)
          .ok());
  TerminalClaim real = Claim("s3cret", "body", kNow);  // same nonce
  EXPECT_TRUE(
      VerifyTerminalClaim(real, kMethod, "body", Keys("s3cret"), kNow, absl::Minutes(5), nonces)
          .ok());
}

TEST(TerminalAuthTest, PreviousSecretWorksOnlyDuringGraceAndRevokedTerminalNever) {
  NonceWindow nonces(absl::Minutes(10));
  TerminalKeys k = Keys("new");
  k.previous_secret = "old";
  k.previous_valid_until_unix_ms = absl::ToUnixMillis(kNow + absl::Minutes(1));
  EXPECT_TRUE(VerifyTerminalClaim(Claim("old", "b", kNow, "nonce-grace-0123456789"), kMethod, "b",
                                  k, kNow, absl::Minutes(5), nonces)
                  .ok());
  absl::Time later = kNow + absl::Minutes(2);
  EXPECT_FALSE(VerifyTerminalClaim(Claim("old", "b", later, "nonce-late-01234567890"), kMethod, "b",
                                   k, later, absl::Minutes(5), nonces)
                   .ok());
  k.revoked = true;
  EXPECT_NE(VerifyTerminalClaim(Claim("new", "b", kNow, "nonce-revoked-012345678"), kMethod, "b", k,
                                kNow, absl::Minutes(5), nonces)
                .message()
                .find("revoked"),
            std::string::npos);
}

TEST(TerminalAuthTest, NonceWindowForgetsOldNoncesAndIsBounded) {
  NonceWindow nonces(absl::Minutes(10), /*entries_max=*/2);
  EXPECT_TRUE(nonces.Admit("T1", "a", kNow).ok());
  EXPECT_TRUE(nonces.Admit("T2", "a", kNow).ok());  // another terminal's nonce is its own
  EXPECT_EQ(nonces.Admit("T1", "b", kNow).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(nonces.Admit("T1", "a", kNow + absl::Minutes(11)).ok());  // expired, then admitted
}

TEST(TerminalAuthTest, ReadsClaimFromHeaders) {
  std::map<std::string, std::string> md = {{kTerminalHeader, "T1"},
                                           {kTimestampHeader, "1790000000000"},
                                           {kNonceHeader, "nonce-0123456789abcdef"},
                                           {kSignatureHeader, "ab"}};
  auto get = [&](const char* name) -> std::optional<std::string> {
    auto it = md.find(name);
    return it == md.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  auto claim = ReadTerminalClaim(get);
  ASSERT_TRUE(claim.ok());
  EXPECT_EQ(claim->timestamp_ms, 1790000000000);
  md.erase(kNonceHeader);
  EXPECT_NE(ReadTerminalClaim(get).status().message().find("perks-nonce"), std::string::npos);
  md[kNonceHeader] = "n";
  md[kTimestampHeader] = "yesterday";
  EXPECT_EQ(ReadTerminalClaim(get).status().code(), absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace perks
