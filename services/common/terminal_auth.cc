#include "services/common/terminal_auth.h"

#include <openssl/crypto.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/personal.h"

namespace perks {
namespace {

bool NonceShapeOk(const std::string& nonce) {
  if (nonce.size() < 16 || nonce.size() > 64) return false;
  for (char c : nonce) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

bool SignatureMatches(std::string_view secret, const std::string& expected_input,
                      const std::string& given_hex) {
  std::string expected = HexEncode(HmacSha256(secret, expected_input));
  return expected.size() == given_hex.size() &&
         CRYPTO_memcmp(expected.data(), given_hex.data(), expected.size()) == 0;
}

}  // namespace

std::string SigningString(std::string_view method, int64_t timestamp_ms, std::string_view nonce,
                          std::string_view body) {
  return absl::StrCat("PERKS-TERMINAL-V1\n", std::string(method), "\n", timestamp_ms, "\n",
                      std::string(nonce), "\n", HexEncode(Sha256(body)));
}

std::string SignTerminalCall(std::string_view secret, std::string_view method, int64_t timestamp_ms,
                             std::string_view nonce, std::string_view body) {
  return HexEncode(HmacSha256(secret, SigningString(method, timestamp_ms, nonce, body)));
}

absl::Status NonceWindow::Admit(const std::string& terminal_id, const std::string& nonce,
                                absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  Expire(now);
  std::string key = absl::StrCat(terminal_id, "/", nonce);
  if (seen_.contains(key)) {
    return absl::UnauthenticatedError("this nonce was already used: a replayed call is refused");
  }
  if (seen_.size() >= entries_max_) {
    return absl::ResourceExhaustedError("too many calls in the replay window; retry shortly");
  }
  seen_.insert(key);
  order_.emplace_back(now, std::move(key));
  return absl::OkStatus();
}

void NonceWindow::Expire(absl::Time now) {
  while (!order_.empty() && order_.front().first + window_ < now) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
}

absl::Status VerifyTerminalClaim(const TerminalClaim& claim, std::string_view method,
                                 std::string_view body, const TerminalKeys& keys, absl::Time now,
                                 absl::Duration skew_max, NonceWindow& nonces) {
  if (keys.revoked) return absl::UnauthenticatedError("this terminal has been revoked");
  if (!NonceShapeOk(claim.nonce)) {
    return absl::UnauthenticatedError("perks-nonce must be 16 to 64 of [A-Za-z0-9_-]");
  }
  absl::Time at = absl::FromUnixMillis(claim.timestamp_ms);
  if (at < now - skew_max || at > now + skew_max) {
    return absl::UnauthenticatedError(
        absl::StrCat("perks-timestamp is more than ", absl::FormatDuration(skew_max),
                     " away from the server's clock; check the terminal's clock"));
  }
  std::string input = SigningString(method, claim.timestamp_ms, claim.nonce, body);
  bool ok = SignatureMatches(keys.secret, input, claim.signature_hex);
  if (!ok && !keys.previous_secret.empty() &&
      absl::ToUnixMillis(now) < keys.previous_valid_until_unix_ms) {
    ok = SignatureMatches(keys.previous_secret, input, claim.signature_hex);
  }
  if (!ok) return absl::UnauthenticatedError("the signature does not match this terminal's key");
  return nonces.Admit(claim.terminal_id, claim.nonce, now);
}

}  // namespace perks
