// splitmix64: fast, and good enough for simulated inputs and dropout draws (not for secrets).
#pragma once
#include <cstdint>

#include "uint128.hpp"

namespace secagg {

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct SplitMix {
  uint64_t s;
  uint64_t next() { return mix64(s += 0x9e3779b97f4a7c15ULL); }
  // In [0, r), r >= 1 (bias below r / 2^64).
  uint64_t below(uint64_t r) { return static_cast<uint64_t>((static_cast<u128>(next()) * r) >> 64); }
  // In [0, 1), 53 bits.
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

}  // namespace secagg
