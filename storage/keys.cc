#include "storage/keys.h"

namespace perks::storage {

Key& Key::Str(std::string_view s) {
  for (char c : s) {
    bytes_.push_back(c);
    if (c == '\0') bytes_.push_back('\xff');
  }
  bytes_.push_back('\0');
  bytes_.push_back('\x01');
  return *this;
}

Key& Key::U64(uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    bytes_.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  return *this;
}

std::string Key::PrefixEnd() const {
  std::string end = bytes_;
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last != 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return end;  // empty: the prefix was all 0xff bytes; empty means "no upper bound"
}

bool KeyReader::Str(std::string* out) {
  if (!ok_) return false;
  out->clear();
  for (size_t i = 0; i < rest_.size(); ++i) {
    char c = rest_[i];
    if (c != '\0') {
      out->push_back(c);
      continue;
    }
    if (i + 1 >= rest_.size()) break;
    char next = rest_[i + 1];
    if (next == '\x01') {
      rest_.remove_prefix(i + 2);
      return true;
    }
    if (next != '\xff') break;
    out->push_back('\0');
    ++i;
  }
  ok_ = false;
  return false;
}

bool KeyReader::U64(uint64_t* out) {
  if (!ok_ || rest_.size() < 8) {
    ok_ = false;
    return false;
  }
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(rest_[i]);
  rest_.remove_prefix(8);
  *out = v;
  return true;
}

}  // namespace perks::storage
