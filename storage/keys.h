// The key grammar every service uses. Keys are tuples of components, encoded so that the bytewise
// order of encoded keys is the lexicographic order of the tuples:
//
//   string component:  the bytes, each 0x00 written as 0x00 0xFF, then the terminator 0x00 0x01
//   u64 component:     8 bytes, big-endian
//
// The terminator sorts below every escaped or plain byte, so "ab" < "ab\0" < "abc", and the
// encoding of a tuple prefix is a byte prefix of the encoding of every longer tuple: a prefix scan
// over (kind, id) visits exactly the keys that start with those components.
//
// A service writes its own keys in one header (e.g. services/card/store/card_keys.h) in the form
// `kind/<component>/...`, and only that header builds them.
#ifndef PERKS_STORAGE_KEYS_H_
#define PERKS_STORAGE_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace perks::storage {

class Key {
 public:
  Key() = default;
  Key& Str(std::string_view s);
  Key& U64(uint64_t v);
  const std::string& bytes() const { return bytes_; }
  // The smallest key greater than every key that starts with this one: the end of a prefix scan.
  std::string PrefixEnd() const;

 private:
  std::string bytes_;
};

// Reads components back in the order they were written. Each call returns false (and leaves the
// reader failed) when the next bytes are not a well-formed component of that type.
class KeyReader {
 public:
  explicit KeyReader(std::string_view bytes) : rest_(bytes) {}
  bool Str(std::string* out);
  bool U64(uint64_t* out);
  bool AtEnd() const { return ok_ && rest_.empty(); }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

}  // namespace perks::storage

#endif  // PERKS_STORAGE_KEYS_H_
