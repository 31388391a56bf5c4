#include "modulus.hpp"

#include <bit>
#include <string>

#include "error.hpp"

namespace secagg {

Modulus Modulus::make(uint64_t R) {
  if (R < 2 || R > kMaxModulus)
    throw Error(Exit::usage, "modulus " + std::to_string(R) + " is outside [2, 2^62]");
  return Modulus{R};
}

Modulus Modulus::from_bits(unsigned bits) {
  if (bits < 1 || bits > 62)
    throw Error(Exit::usage, "modulus bits " + std::to_string(bits) + " is outside [1, 62]");
  return Modulus{uint64_t{1} << bits};
}

unsigned Modulus::bits() const { return static_cast<unsigned>(std::bit_width(R - 1)); }

}  // namespace secagg
