#include "services/common/personal.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace perks {
namespace {

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

char IdCheckCharacter(std::string_view first17) {
  static constexpr int kWeights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (first17[i] - '0') * kWeights[i];
  return kCheck[sum % 11];
}

absl::Status ValidateIdNumber(std::string_view id) {
  if (id.size() != 18) {
    return absl::InvalidArgumentError(
        absl::StrCat("ID number has ", id.size(), " characters; a resident ID number has 18"));
  }
  std::string_view first17 = id.substr(0, 17);
  if (!AllDigits(first17)) {
    return absl::InvalidArgumentError("ID number: the first 17 characters must be digits");
  }
  int year = std::stoi(std::string(id.substr(6, 4)));
  int month = std::stoi(std::string(id.substr(10, 2)));
  int day = std::stoi(std::string(id.substr(12, 2)));
  if (year < 1900 || year > 2100 || month < 1 || month > 12 || day < 1 ||
      day > DaysInMonth(year, month)) {
    return absl::InvalidArgumentError("ID number: characters 7-14 are not a valid birth date");
  }
  char given = absl::ascii_toupper(static_cast<unsigned char>(id[17]));
  char expected = IdCheckCharacter(first17);
  if (given != expected) {
    return absl::InvalidArgumentError(
        "ID number: the check character (the 18th) does not match the first 17; check for a "
        "mistyped digit");
  }
  return absl::OkStatus();
}

char LuhnCheckDigit(std::string_view digits) {
  int sum = 0;
  bool double_it = true;  // the digit left of the check digit is doubled
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (double_it) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double_it = !double_it;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool LuhnValid(std::string_view number) {
  if (number.size() < 2 || !AllDigits(number)) return false;
  return LuhnCheckDigit(number.substr(0, number.size() - 1)) == number.back();
}

std::string MaskCardNumber(std::string_view number) {
  if (number.size() < 12) return std::string(number.size(), '*');
  return absl::StrCat(std::string(number.substr(0, 6)), std::string(number.size() - 10, '*'),
                      std::string(number.substr(number.size() - 4)));
}

std::string MaskIdNumber(std::string_view id) {
  if (id.size() <= 4) return std::string(id.size(), '*');
  return absl::StrCat(std::string(id.size() - 4, '*'), std::string(id.substr(id.size() - 4)));
}

std::string MaskPhone(std::string_view phone) {
  if (phone.size() == 11 && AllDigits(phone)) {
    return absl::StrCat(std::string(phone.substr(0, 3)), "****", std::string(phone.substr(7)));
  }
  if (phone.size() <= 2) return std::string(phone.size(), '*');
  return absl::StrCat(std::string(phone.size() - 2, '*'),
                      std::string(phone.substr(phone.size() - 2)));
}

std::string ScrubPersonalNumbers(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      out.push_back(text[i++]);
      continue;
    }
    size_t j = i;
    while (j < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j < text.size() && (text[j] == 'X' || text[j] == 'x') && j - i == 17) ++j;
    std::string_view run = text.substr(i, j - i);
    if (run.size() >= 12) {
      out +=
          run.size() == 18 && !AllDigits(run.substr(17)) ? MaskIdNumber(run) : MaskCardNumber(run);
    } else {
      out.append(run);
    }
    i = j;
  }
  return out;
}

namespace {

// OpenSSL 3 looks an algorithm up by name on every one-shot call (HMAC(), SHA256()); on the
// signed-lookup path that lookup cost more than the hashing. The algorithms are fetched once and
// each thread keeps its own context, re-keyed per call.
struct ShaContexts {
  ShaContexts() {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    hmac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context holds its own reference
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_CTX_set_params(hmac, params);
    sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    digest = EVP_MD_CTX_new();
  }
  ~ShaContexts() {
    EVP_MAC_CTX_free(hmac);
    EVP_MD_CTX_free(digest);
    EVP_MD_free(sha256);
  }
  ShaContexts(const ShaContexts&) = delete;
  ShaContexts& operator=(const ShaContexts&) = delete;

  EVP_MAC_CTX* hmac = nullptr;
  EVP_MD* sha256 = nullptr;
  EVP_MD_CTX* digest = nullptr;
};

ShaContexts& ThreadContexts() {
  thread_local ShaContexts contexts;
  return contexts;
}

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view message) {
  EVP_MAC_CTX* ctx = ThreadContexts().hmac;
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  // An empty key is valid HMAC; OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const unsigned char* key_bytes =
      key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx, key_bytes, key.size(), nullptr) != 1 ||
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(message.data()), message.size()) !=
          1 ||
      EVP_MAC_final(ctx, out, &len, sizeof(out)) != 1) {
    std::abort();  // only on a broken OpenSSL install; a wrong MAC must never be returned
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Sha256(std::string_view data) {
  ShaContexts& contexts = ThreadContexts();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(contexts.digest, contexts.sha256, nullptr) != 1 ||
      EVP_DigestUpdate(contexts.digest, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(contexts.digest, out, &len) != 1) {
    std::abort();
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr ||
      EVP_DigestInit_ex2(static_cast<EVP_MD_CTX*>(ctx_), ThreadContexts().sha256, nullptr) != 1) {
    std::abort();
  }
}

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

Sha256Stream::Sha256Stream(Sha256Stream&& other) noexcept : ctx_(other.ctx_) {
  other.ctx_ = nullptr;
}

void Sha256Stream::Update(std::string_view data) {
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()) != 1) {
    std::abort();
  }
}

std::string Sha256Stream::HexDigest() const {
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (copy == nullptr || EVP_MD_CTX_copy_ex(copy, static_cast<EVP_MD_CTX*>(ctx_)) != 1 ||
      EVP_DigestFinal_ex(copy, out, &len) != 1) {
    std::abort();
  }
  EVP_MD_CTX_free(copy);
  return HexEncode(std::string_view(reinterpret_cast<char*>(out), len));
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes));
  return HexEncode(raw);
}

}  // namespace perks
