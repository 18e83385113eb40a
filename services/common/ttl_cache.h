// Answers fetched from another service, reused for a while: an entry is served until `ttl` after
// it was fetched, then fetched again. Bounded: when full it forgets everything (rare: a burst of
// distinct keys) and refills as keys are asked for again. Thread-safe; the clock is the caller's.
#ifndef PERKS_SERVICES_COMMON_TTL_CACHE_H_
#define PERKS_SERVICES_COMMON_TTL_CACHE_H_

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"

namespace perks {

template <typename V>
class TtlCache {
 public:
  struct Entry {
    V value;
    absl::Time fetched;
  };

  TtlCache(absl::Duration ttl, size_t entries_max) : ttl_(ttl), entries_max_(entries_max) {}

  // The value fetched for `key` less than ttl before `now` (and when), if any.
  std::optional<Entry> Get(const std::string& key, absl::Time now) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || now - it->second.fetched >= ttl_) return std::nullopt;
    return it->second;
  }

  // Remembers `value` for `key`, as fetched at `fetched`.
  void Put(const std::string& key, V value, absl::Time fetched) {
    std::lock_guard<std::mutex> lock(mu_);
    if (entries_.size() >= entries_max_ && !entries_.contains(key)) entries_.clear();
    entries_.insert_or_assign(key, Entry{std::move(value), fetched});
  }

  // Forgets `key`: the next Get fetches it again.
  void Forget(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(key);
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }

 private:
  const absl::Duration ttl_;
  const size_t entries_max_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_;
};

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_TTL_CACHE_H_
