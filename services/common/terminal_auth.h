// How a POS terminal proves every call is its own: the terminal id, a timestamp, a nonce and an
// HMAC-SHA256 over the method and the request body, carried in gRPC metadata:
//
//   perks-terminal   the terminal id
//   perks-timestamp  milliseconds since the Unix epoch, UTC
//   perks-nonce      16 to 64 characters [A-Za-z0-9_-], never reused by the terminal
//   perks-signature  lowercase hex of HMAC-SHA256(secret, SigningString(...))
//
// The body is the request message's deterministic protobuf serialization. A call is refused
// (UNAUTHENTICATED) when the signature does not match the terminal's secret (or, during a
// rotation's grace period, its previous secret), when the timestamp is more than the allowed skew
// away from the server's clock, when the nonce was seen before within that window, or when the
// terminal is revoked.
#ifndef PERKS_SERVICES_COMMON_TERMINAL_AUTH_H_
#define PERKS_SERVICES_COMMON_TERMINAL_AUTH_H_

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/time/time.h"

namespace perks {

inline constexpr char kTerminalHeader[] = "perks-terminal";
inline constexpr char kTimestampHeader[] = "perks-timestamp";
inline constexpr char kNonceHeader[] = "perks-nonce";
inline constexpr char kSignatureHeader[] = "perks-signature";

struct TerminalClaim {
  std::string terminal_id;
  int64_t timestamp_ms = 0;
  std::string nonce;
  std::string signature_hex;
};

// "PERKS-TERMINAL-V1\n<method>\n<timestamp_ms>\n<nonce>\n<hex sha256 of body>"
std::string SigningString(std::string_view method, int64_t timestamp_ms, std::string_view nonce,
                          std::string_view body);
std::string SignTerminalCall(std::string_view secret, std::string_view method, int64_t timestamp_ms,
                             std::string_view nonce, std::string_view body);

// Reads the four headers (any missing or malformed: UNAUTHENTICATED saying which).
// `get` returns a header's value, or nullopt when absent.
template <typename Getter>
absl::StatusOr<TerminalClaim> ReadTerminalClaim(const Getter& get);

// What the verifier needs to know of a terminal.
struct TerminalKeys {
  bool revoked = false;
  std::string secret;
  std::string previous_secret;               // empty: none
  int64_t previous_valid_until_unix_ms = 0;  // the previous secret works before this moment
};

// Nonces seen within the skew window, per terminal; bounded in count. Thread-safe.
class NonceWindow {
 public:
  explicit NonceWindow(absl::Duration window, size_t entries_max = 1'000'000)
      : window_(window), entries_max_(entries_max) {}
  // False when (terminal, nonce) was seen within the window, or the window is full (then the call
  // is refused rather than risking a replay: RESOURCE_EXHAUSTED is the caller's to return).
  absl::Status Admit(const std::string& terminal_id, const std::string& nonce, absl::Time now);

 private:
  void Expire(absl::Time now);
  absl::Duration window_;
  size_t entries_max_;
  std::mutex mu_;
  absl::flat_hash_set<std::string> seen_;
  std::deque<std::pair<absl::Time, std::string>> order_;
};

// Checks a claim against the terminal's keys at `now`. Consumes the nonce only when everything
// else holds, so a forged call cannot burn a terminal's nonces.
absl::Status VerifyTerminalClaim(const TerminalClaim& claim, std::string_view method,
                                 std::string_view body, const TerminalKeys& keys, absl::Time now,
                                 absl::Duration skew_max, NonceWindow& nonces);

template <typename Getter>
absl::StatusOr<TerminalClaim> ReadTerminalClaim(const Getter& get) {
  TerminalClaim c;
  auto need = [&](const char* name) -> absl::StatusOr<std::string> {
    std::optional<std::string> v = get(name);
    if (!v || v->empty()) {
      return absl::UnauthenticatedError(std::string("missing the ") + name + " header");
    }
    return *v;
  };
  auto id = need(kTerminalHeader);
  if (!id.ok()) return id.status();
  auto ts = need(kTimestampHeader);
  if (!ts.ok()) return ts.status();
  auto nonce = need(kNonceHeader);
  if (!nonce.ok()) return nonce.status();
  auto sig = need(kSignatureHeader);
  if (!sig.ok()) return sig.status();
  c.terminal_id = *id;
  if (!absl::SimpleAtoi(*ts, &c.timestamp_ms)) {
    return absl::UnauthenticatedError("perks-timestamp is not a number of milliseconds");
  }
  c.nonce = *nonce;
  c.signature_hex = *sig;
  return c;
}

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_TERMINAL_AUTH_H_
