// The ring Z_R the protocol sums in. R is any integer in [2, 2^62].
#pragma once
#include <cstdint>

namespace secagg {

inline constexpr uint64_t kMaxModulus = uint64_t{1} << 62;

struct Modulus {
  uint64_t R = 0;

  // Throws Error(Exit::usage) unless 2 <= R <= 2^62.
  static Modulus make(uint64_t R);
  static Modulus from_bits(unsigned bits);  // R = 2^bits, bits in [1, 62]

  bool pow2() const { return (R & (R - 1)) == 0; }
  // Bits needed to write any element of [0, R): bit width of R - 1.
  unsigned bits() const;

  // a, b in [0, R), R <= 2^62: no overflow, and the selects compile to cmov/blend (the masking
  // kernels of lib/mask.cpp call these per element).
  uint64_t add(uint64_t a, uint64_t b) const {
    uint64_t s = a + b;
    return s >= R ? s - R : s;
  }
  uint64_t sub(uint64_t a, uint64_t b) const {
    uint64_t d = a - b;
    return a >= b ? d : d + R;
  }
  bool operator==(const Modulus&) const = default;
};

}  // namespace secagg
