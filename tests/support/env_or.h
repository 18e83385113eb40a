// A test's bound (cycles, seconds) from the environment, so CI and a long run on purpose can
// differ: PERKS_CHECKOUT_CRASH_CYCLES=500 ...
#ifndef PERKS_TESTS_SUPPORT_ENV_OR_H_
#define PERKS_TESTS_SUPPORT_ENV_OR_H_

#include <cstdint>
#include <cstdlib>

namespace perks::testing {

inline int64_t EnvOr(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoll(v) : fallback;
}

}  // namespace perks::testing

#endif  // PERKS_TESTS_SUPPORT_ENV_OR_H_
