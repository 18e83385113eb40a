// Personal data: national ID numbers (身份证号), card numbers and phones. They are validated here,
// masked here, and hashed here; nothing else decides how they look in logs or answers.
#ifndef PERKS_SERVICES_COMMON_PERSONAL_H_
#define PERKS_SERVICES_COMMON_PERSONAL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace perks {

// Checks an 18-character resident ID number: 17 digits, a plausible birth date, and the GB 11643
// check character (0-9 or X; a lowercase x is accepted and means X). The message says which part is
// wrong without echoing the number.
absl::Status ValidateIdNumber(std::string_view id_number);

// The GB 11643 check character for the first 17 digits. REQUIRES: 17 ASCII digits.
char IdCheckCharacter(std::string_view first17);

// The Luhn check digit that completes `digits`. REQUIRES: all ASCII digits.
char LuhnCheckDigit(std::string_view digits);
bool LuhnValid(std::string_view number);

// "623668*********0123": first six and last four kept. Short inputs are fully masked.
std::string MaskCardNumber(std::string_view number);
// "**************123X": only the last four kept.
std::string MaskIdNumber(std::string_view id_number);
// "138****5678" for an 11-digit mobile number; other shapes keep only the last two.
std::string MaskPhone(std::string_view phone);

// Replaces every run of 12 or more digits (an ID number's trailing X included) with its masked
// form. Log lines pass through this, so a number that slips into a message is still not written.
std::string ScrubPersonalNumbers(std::string_view text);

// HMAC-SHA256(key, message), 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view message);
std::string Sha256(std::string_view data);

// SHA-256 over data given in pieces (a statement's lines, a file), for when the whole is never in
// memory at once.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(Sha256Stream&& other) noexcept;
  Sha256Stream& operator=(Sha256Stream&&) = delete;
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void Update(std::string_view data);
  // The digest of everything so far, as hex. The stream goes on from there.
  std::string HexDigest() const;

 private:
  void* ctx_;  // an EVP_MD_CTX
};
std::string HexEncode(std::string_view bytes);
// `bytes` random bytes from OpenSSL's generator, as hex.
std::string RandomHex(size_t bytes);

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_PERSONAL_H_
