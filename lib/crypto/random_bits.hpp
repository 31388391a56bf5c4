// Uniform random bits and integers for the exact samplers of discrete_gaussian.hpp. No
// std::random and no floating point: a sampler is only as exact as the uniform integers under
// it, so integers below a bound are drawn by rejection on masked bits (no modulo bias).
//
// Two sources: the system CSPRNG (random_bytes, random.hpp: libsodium, or the project's
// insecure deterministic mode), and a ChaCha20 stream from a 32-byte key (Keystream, prg.hpp),
// reproducible for tests and for a client that must derive its noise from a seed. Both read
// ahead 4 KiB at a time, since a system call per draw would dominate the sampler's cost, and
// wipe what they hold when they die.
#pragma once
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include <boost/multiprecision/cpp_int.hpp>

#include "error.hpp"
#include "prg.hpp"
#include "uint128.hpp"

namespace secagg {

// A source of uniformly random bytes, with a bit reader on top. bits() keeps the unused bits
// of the last 64-bit word for the next call, so that no random bit is thrown away and a
// sequence of draws does not depend on how a caller groups them into calls.
class RandomBits {
 public:
  RandomBits() = default;
  RandomBits(const RandomBits&) = delete;
  RandomBits& operator=(const RandomBits&) = delete;
  virtual ~RandomBits();

  // n uniformly random bytes.
  virtual void fill(uint8_t* out, size_t n) = 0;
  // k uniformly random bits, 0 <= k <= 64, as the low bits of the result. Inline, since the
  // samplers call it a few dozen times per sample, with a few bits each time.
  uint64_t bits(unsigned k) {
    if (k < avail_) {  // so k < 64
      const uint64_t x = word_ & ((uint64_t{1} << k) - 1);
      word_ >>= k;
      avail_ -= k;
      return x;
    }
    return bits_from_next_word(k);
  }

 private:
  uint64_t bits_from_next_word(unsigned k);

  uint64_t word_ = 0;  // the next avail_ bits, lowest first; the bits above are zero
  unsigned avail_ = 0;
};

// Reads its source kBufferBytes at a time; the buffer is wiped when the object dies.
class BufferedRandomBits : public RandomBits {
 public:
  ~BufferedRandomBits() override;
  void fill(uint8_t* out, size_t n) final;

 protected:
  // Write n fresh bytes of the underlying source to out.
  virtual void refill(uint8_t* out, size_t n) = 0;

 private:
  static constexpr size_t kBufferBytes = 4096;
  std::array<uint8_t, kBufferBytes> buffer_{};
  size_t pos_ = kBufferBytes;  // the next unread byte; kBufferBytes: empty
};

// The system CSPRNG through random_bytes (random.hpp).
class SystemRandomBits final : public BufferedRandomBits {
 protected:
  void refill(uint8_t* out, size_t n) override;
};

// The ChaCha20 keystream of `key` (Keystream(PrgKind::chacha20, key)) read from offset 0: the
// same key gives the same bits, hence the same samples. At most 2^38 bytes (prg.hpp).
class ChaChaRandomBits final : public BufferedRandomBits {
 public:
  explicit ChaChaRandomBits(const uint8_t key[32]);

 protected:
  void refill(uint8_t* out, size_t n) override;

 private:
  Keystream stream_;
  uint64_t offset_ = 0;
};

// A uniform integer in [0, bound), bound > 0 (Error(Exit::software) for 0): draw as many bits
// as bound - 1 has, reject if the value is >= bound (fewer than 2 draws on average).
inline uint64_t uniform_below(uint64_t bound, RandomBits& rng) {
  if (bound == 1) return 0;  // and no bits drawn: Bernoulli(1/K) at K = 1 is certain
  if (bound == 0) throw Error(Exit::software, "uniform_below: the bound is 0");
  const auto k = static_cast<unsigned>(std::bit_width(bound - 1));
  for (;;) {
    const uint64_t x = rng.bits(k);
    if (x < bound) return x;
  }
}
u128 uniform_below(u128 bound, RandomBits& rng);
boost::multiprecision::cpp_int uniform_below(const boost::multiprecision::cpp_int& bound, RandomBits& rng);

}  // namespace secagg
