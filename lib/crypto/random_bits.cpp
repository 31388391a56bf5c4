#include "random_bits.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include <sodium.h>

#include "error.hpp"
#include "le.hpp"
#include "random.hpp"

namespace secagg {

using boost::multiprecision::cpp_int;

RandomBits::~RandomBits() { sodium_memzero(&word_, sizeof word_); }

uint64_t RandomBits::bits_from_next_word(unsigned k) {
  if (k > 64) throw Error(Exit::software, "RandomBits::bits: more than 64 bits asked for at once");
  if (k == 0) return 0;
  uint64_t out = 0;
  unsigned got = 0;
  if (avail_ < k) {
    // The bits left over are the low part of the result; a fresh word gives the rest.
    out = word_;
    got = avail_;
    uint8_t b[8];
    fill(b, sizeof b);
    word_ = le::get64(b);
    sodium_memzero(b, sizeof b);
    avail_ = 64;
  }
  const unsigned need = k - got;  // 1..64, and got < k <= 64: both shifts below are defined
  const uint64_t take = need == 64 ? word_ : word_ & ((uint64_t{1} << need) - 1);
  word_ = need == 64 ? 0 : word_ >> need;
  avail_ -= need;
  return out | (take << got);
}

BufferedRandomBits::~BufferedRandomBits() { sodium_memzero(buffer_.data(), buffer_.size()); }

void BufferedRandomBits::fill(uint8_t* out, size_t n) {
  while (n > 0) {
    if (pos_ == buffer_.size()) {
      refill(buffer_.data(), buffer_.size());
      pos_ = 0;
    }
    const size_t take = std::min(n, buffer_.size() - pos_);
    std::memcpy(out, buffer_.data() + pos_, take);
    pos_ += take;
    out += take;
    n -= take;
  }
}

void SystemRandomBits::refill(uint8_t* out, size_t n) { random_bytes(out, n); }

ChaChaRandomBits::ChaChaRandomBits(const uint8_t key[32]) : stream_(PrgKind::chacha20, key) {}

void ChaChaRandomBits::refill(uint8_t* out, size_t n) {
  stream_.generate(offset_, out, n);  // throws Error(Exit::usage) past the stream's 2^38 bytes
  offset_ += n;
}

u128 uniform_below(u128 bound, RandomBits& rng) {
  if (bound == 0) throw Error(Exit::software, "uniform_below: the bound is 0");
  const u128 max = bound - 1;
  const auto high = static_cast<uint64_t>(max >> 64);
  const unsigned k = high != 0 ? 64 + static_cast<unsigned>(std::bit_width(high))
                               : static_cast<unsigned>(std::bit_width(static_cast<uint64_t>(max)));
  for (;;) {
    const u128 low = rng.bits(std::min(k, 64u));
    const u128 x = k > 64 ? (u128{rng.bits(k - 64)} << 64) | low : low;
    if (x < bound) return x;
  }
}

cpp_int uniform_below(const cpp_int& bound, RandomBits& rng) {
  if (bound <= 0) throw Error(Exit::software, "uniform_below: the bound is not positive");
  if (bound == 1) return 0;
  const unsigned k = static_cast<unsigned>(boost::multiprecision::msb(cpp_int(bound - 1))) + 1;
  for (;;) {
    cpp_int x = rng.bits(k % 64);  // the top k % 64 bits, then whole words below them
    for (unsigned words = k / 64; words > 0; --words) {
      x <<= 64;
      x |= rng.bits(64);
    }
    if (x < bound) return x;
  }
}

}  // namespace secagg
