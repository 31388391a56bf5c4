// Shamir secret sharing of 32-byte secrets over the prime field GF(2^61 - 1).
// A secret is cut into five chunks of at most 56 bits (7,7,7,7,4 bytes, little-endian),
// each shared with its own random polynomial of degree t - 1 at the same x, so one
// Share carries five field elements. Share x-coordinates are client ids, which
// must lie in [1, 2^31) (well beyond the 2^20 clients the toolkit supports).
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "bytes.hpp"

namespace secagg::shamir {

inline constexpr uint64_t kPrime = (uint64_t{1} << 61) - 1;
inline constexpr size_t kChunks = 5;
inline constexpr uint32_t kMaxX = (uint32_t{1} << 31) - 1;

struct Share {
  uint32_t x = 0;
  std::array<uint64_t, kChunks> y{};
  ~Share() { sodium_memzero(y.data(), sizeof y); }
  Share() = default;
  Share(const Share&) = default;
  Share& operator=(const Share&) = default;
  bool operator==(const Share& o) const { return x == o.x && y == o.y; }
};

// One share for each x in xs (distinct, in [1, kMaxX]), threshold t in [1, xs.size()].
// Throws Error(Exit::usage) on bad arguments. Random coefficients come from random_bytes.
std::vector<Share> split(const Secret32& secret, unsigned t, std::span<const uint32_t> xs);

// Lagrange coefficients at 0 for a set of distinct x-coordinates, in the order given.
std::vector<uint64_t> lagrange_at_zero(std::span<const uint32_t> xs);

// Lagrange coefficients at x (not one of xs) for a set of distinct x-coordinates: the value at x
// of the polynomial through shares at xs is the sum of c_i * y_i.
std::vector<uint64_t> lagrange_at(std::span<const uint32_t> xs, uint32_t x);

// Caches coefficients per x-set: a server reconstructing many secrets from the
// same responders computes them once (protocol paper, footnote 6).
class LagrangeCache {
 public:
  const std::vector<uint64_t>& at_zero(std::span<const uint32_t> xs);
  const std::vector<uint64_t>& at(std::span<const uint32_t> xs, uint32_t x);
  size_t size() const { return cache_.size() + at_x_.size(); }

 private:
  std::map<std::vector<uint32_t>, std::vector<uint64_t>> cache_;
  std::map<std::pair<std::vector<uint32_t>, uint32_t>, std::vector<uint64_t>> at_x_;
};

// True if `extra` lies on the polynomial of degree < basis.size() through the basis shares: with
// t basis shares, a check that a (t+1)-th share is consistent with them (a bad share among the
// t + 1 makes it fail, except with probability about 2^-61 per chunk).
bool on_polynomial(std::span<const Share> basis, const Share& extra, LagrangeCache* cache = nullptr);

// Reconstruct from exactly the shares given (their x must be distinct; at least t of them
// for a correct result). Throws Error(Exit::data) if xs repeat, a y is not a field element,
// or the result is not a valid encoding (a chunk too large): the mark of inconsistent shares.
Secret32 reconstruct(std::span<const Share> shares, LagrangeCache* cache = nullptr);

}  // namespace secagg::shamir
