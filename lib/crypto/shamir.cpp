#include "shamir.hpp"

#include <algorithm>
#include <string>

#include "error.hpp"
#include "random.hpp"
#include "uint128.hpp"

namespace secagg::shamir {
namespace {

static_assert(kMaxX < kPrime, "x-coordinates must be nonzero field elements");

// Byte layout of the five chunks inside a 32-byte secret.
constexpr std::array<size_t, kChunks> kChunkOffset{0, 7, 14, 21, 28};
constexpr std::array<size_t, kChunks> kChunkBytes{7, 7, 7, 7, 4};

// Reduce a product of two field elements (< 2^122) modulo the Mersenne prime 2^61 - 1.
inline uint64_t reduce(u128 v) {
  uint64_t s = (static_cast<uint64_t>(v) & kPrime) + static_cast<uint64_t>(v >> 61);  // < 2^62
  s = (s & kPrime) + (s >> 61);                                                       // <= 2^61
  return s >= kPrime ? s - kPrime : s;
}
inline uint64_t mulmod(uint64_t a, uint64_t b) { return reduce(static_cast<u128>(a) * b); }
inline uint64_t addmod(uint64_t a, uint64_t b) {
  uint64_t s = a + b;  // both < 2^61: no overflow
  return s >= kPrime ? s - kPrime : s;
}
inline uint64_t submod(uint64_t a, uint64_t b) { return a >= b ? a - b : a + (kPrime - b); }

uint64_t powmod(uint64_t base, uint64_t e) {
  uint64_t r = 1;
  while (e) {
    if (e & 1) r = mulmod(r, base);
    base = mulmod(base, base);
    e >>= 1;
  }
  return r;
}
// Fermat: a^(p-2). a must be nonzero.
inline uint64_t invmod(uint64_t a) { return powmod(a, kPrime - 2); }

// A uniformly random field element: 61 random bits, rejecting the single value p.
uint64_t random_element() {
  for (;;) {
    uint64_t v = random_u64() & kPrime;
    if (v != kPrime) return v;
  }
}

// Wipes an array of field elements that held secret data when it goes out of scope.
template <size_t N>
struct WipedWords {
  std::array<uint64_t, N> w{};
  ~WipedWords() { sodium_memzero(w.data(), sizeof w); }
};

using WipedVector = std::vector<uint64_t, WipingAllocator<uint64_t>>;

// Throws `code` unless every x lies in [1, kMaxX] and no x repeats.
void check_xs(std::span<const uint32_t> xs, Exit code) {
  for (uint32_t x : xs)
    if (x < 1 || x > kMaxX)
      throw Error(code, "share x-coordinate " + std::to_string(x) + " is outside [1, 2^31 - 1]");
  std::vector<uint32_t> sorted(xs.begin(), xs.end());
  std::sort(sorted.begin(), sorted.end());
  auto dup = std::adjacent_find(sorted.begin(), sorted.end());
  if (dup != sorted.end())
    throw Error(code, "share x-coordinate " + std::to_string(*dup) + " appears more than once");
}

}  // namespace

std::vector<Share> split(const Secret32& secret, unsigned t, std::span<const uint32_t> xs) {
  if (t < 1) throw Error(Exit::usage, "Shamir threshold must be at least 1");
  if (t > xs.size())
    throw Error(Exit::usage, "Shamir threshold " + std::to_string(t) + " exceeds the number of shares (" +
                                 std::to_string(xs.size()) + ")");
  check_xs(xs, Exit::usage);

  // coef[k * kChunks + c] is the coefficient of x^k in the polynomial for chunk c;
  // coefficient 0 is the chunk itself.
  WipedVector coef(size_t{t} * kChunks);
  for (size_t c = 0; c < kChunks; ++c) {
    for (size_t i = 0; i < kChunkBytes[c]; ++i) coef[c] |= uint64_t{secret.b[kChunkOffset[c] + i]} << (8 * i);
  }
  if (t > 1) {
    // One bulk draw for all random coefficients, redrawing the rare value p (probability 2^-61).
    random_u64s(coef.data() + kChunks, coef.size() - kChunks);
    for (size_t i = kChunks; i < coef.size(); ++i) {
      coef[i] &= kPrime;
      if (coef[i] == kPrime) coef[i] = random_element();
    }
  }

  std::vector<Share> shares(xs.size());
  for (size_t s = 0; s < xs.size(); ++s) {
    const uint64_t x = xs[s];
    Share& sh = shares[s];
    sh.x = xs[s];
    // Horner over all five chunks together (independent chains: better pipelining).
    for (size_t c = 0; c < kChunks; ++c) sh.y[c] = coef[(t - 1) * kChunks + c];
    for (size_t k = t - 1; k-- > 0;)
      for (size_t c = 0; c < kChunks; ++c) sh.y[c] = addmod(mulmod(sh.y[c], x), coef[k * kChunks + c]);
  }
  return shares;
}

std::vector<uint64_t> lagrange_at_zero(std::span<const uint32_t> xs) {
  check_xs(xs, Exit::data);
  const size_t n = xs.size();
  // c_i = prod_{j != i} x_j / (x_j - x_i) = N / d_i with N = prod_j x_j and
  // d_i = x_i * prod_{j != i} (x_j - x_i). All d_i are nonzero (distinct x in [1, p)).
  uint64_t num = 1;
  for (uint32_t x : xs) num = mulmod(num, x);
  std::vector<uint64_t> d(n);
  for (size_t i = 0; i < n; ++i) {
    // Factor j is x_j - x_i, except factor i, which is x_i itself. Four independent
    // product chains hide the multiplication latency (this loop is the O(t^2) part).
    const uint64_t xi = xs[i];
    auto factor = [&](size_t j) { return j == i ? xi : submod(xs[j], xi); };
    uint64_t acc[4] = {1, 1, 1, 1};
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
      for (size_t k = 0; k < 4; ++k) acc[k] = mulmod(acc[k], factor(j + k));
    for (; j < n; ++j) acc[0] = mulmod(acc[0], factor(j));
    d[i] = mulmod(mulmod(acc[0], acc[1]), mulmod(acc[2], acc[3]));
  }
  // Batched inversion (Montgomery's trick): one exponentiation, 3n multiplications.
  std::vector<uint64_t> prefix(n);
  uint64_t acc = 1;
  for (size_t i = 0; i < n; ++i) {
    prefix[i] = acc;  // d_0 * ... * d_{i-1}
    acc = mulmod(acc, d[i]);
  }
  uint64_t inv = invmod(acc);  // 1 / (d_0 * ... * d_{n-1})
  std::vector<uint64_t> coeffs(n);
  for (size_t i = n; i-- > 0;) {
    coeffs[i] = mulmod(num, mulmod(inv, prefix[i]));  // inv * prefix[i] = 1 / d_i
    inv = mulmod(inv, d[i]);                          // now 1 / (d_0 * ... * d_{i-1})
  }
  return coeffs;
}

std::vector<uint64_t> lagrange_at(std::span<const uint32_t> xs, uint32_t x) {
  check_xs(xs, Exit::data);
  const size_t n = xs.size();
  // c_i = prod_{j != i} (x - x_j) / (x_i - x_j) = (P / (x - x_i)) / d_i with P = prod_j (x - x_j)
  // and d_i = prod_{j != i} (x_i - x_j); x is none of the x_j, so every factor is nonzero.
  uint64_t all = 1;
  for (uint32_t xj : xs) {
    if (xj == x) throw Error(Exit::software, "Lagrange coefficients at one of the shares' own x");
    all = mulmod(all, submod(x, xj));
  }
  std::vector<uint64_t> denom(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t d = submod(x, xs[i]);  // folded in: c_i = P / (d_i * (x - x_i))
    for (size_t j = 0; j < n; ++j)
      if (j != i) d = mulmod(d, submod(xs[i], xs[j]));
    denom[i] = d;
  }
  std::vector<uint64_t> prefix(n);
  uint64_t acc = 1;
  for (size_t i = 0; i < n; ++i) {
    prefix[i] = acc;
    acc = mulmod(acc, denom[i]);
  }
  uint64_t inv = invmod(acc);
  std::vector<uint64_t> coeffs(n);
  for (size_t i = n; i-- > 0;) {
    coeffs[i] = mulmod(all, mulmod(inv, prefix[i]));
    inv = mulmod(inv, denom[i]);
  }
  return coeffs;
}

const std::vector<uint64_t>& LagrangeCache::at(std::span<const uint32_t> xs, uint32_t x) {
  std::pair<std::vector<uint32_t>, uint32_t> key(std::vector<uint32_t>(xs.begin(), xs.end()), x);
  auto it = at_x_.find(key);
  if (it != at_x_.end()) return it->second;
  std::vector<uint64_t> coeffs = lagrange_at(xs, x);
  return at_x_.emplace(std::move(key), std::move(coeffs)).first->second;
}

bool on_polynomial(std::span<const Share> basis, const Share& extra, LagrangeCache* cache) {
  for (uint64_t y : extra.y)
    if (y >= kPrime) return false;
  for (const Share& b : basis)
    for (uint64_t y : b.y)
      if (y >= kPrime) return false;
  std::vector<uint32_t> xs(basis.size());
  for (size_t i = 0; i < basis.size(); ++i) xs[i] = basis[i].x;
  for (uint32_t x : xs)
    if (x == extra.x) return false;
  std::vector<uint64_t> computed;
  const std::vector<uint64_t>* c;
  if (cache) {
    c = &cache->at(xs, extra.x);
  } else {
    computed = lagrange_at(xs, extra.x);
    c = &computed;
  }
  WipedWords<kChunks> v;
  for (size_t i = 0; i < basis.size(); ++i)
    for (size_t k = 0; k < kChunks; ++k) v.w[k] = addmod(v.w[k], mulmod(basis[i].y[k], (*c)[i]));
  bool same = true;
  for (size_t k = 0; k < kChunks; ++k) same = same && v.w[k] == extra.y[k];
  return same;
}

const std::vector<uint64_t>& LagrangeCache::at_zero(std::span<const uint32_t> xs) {
  std::vector<uint32_t> key(xs.begin(), xs.end());
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  std::vector<uint64_t> coeffs = lagrange_at_zero(xs);  // validates before anything is cached
  return cache_.emplace(std::move(key), std::move(coeffs)).first->second;
}

Secret32 reconstruct(std::span<const Share> shares, LagrangeCache* cache) {
  if (shares.empty()) throw Error(Exit::data, "no Shamir shares to reconstruct from");
  std::vector<uint32_t> xs(shares.size());
  for (size_t i = 0; i < shares.size(); ++i) {
    xs[i] = shares[i].x;
    for (uint64_t y : shares[i].y)
      if (y >= kPrime)
        throw Error(Exit::data, "Shamir share for x = " + std::to_string(shares[i].x) + " is not a field element");
  }
  // Both paths reject repeated or out-of-range x (a cached x-set was validated when it was added).
  std::vector<uint64_t> computed;
  const std::vector<uint64_t>* coeffs;
  if (cache) {
    coeffs = &cache->at_zero(xs);
  } else {
    computed = lagrange_at_zero(xs);
    coeffs = &computed;
  }

  WipedWords<kChunks> chunk;
  for (size_t i = 0; i < shares.size(); ++i) {
    const uint64_t c = (*coeffs)[i];
    for (size_t k = 0; k < kChunks; ++k) chunk.w[k] = addmod(chunk.w[k], mulmod(shares[i].y[k], c));
  }
  for (size_t k = 0; k < kChunks; ++k)
    if (chunk.w[k] >> (8 * kChunkBytes[k]) != 0) throw Error(Exit::data, "Shamir shares are inconsistent");

  Secret32 out;
  for (size_t k = 0; k < kChunks; ++k)
    for (size_t i = 0; i < kChunkBytes[k]; ++i)
      out.b[kChunkOffset[k] + i] = static_cast<uint8_t>(chunk.w[k] >> (8 * i));
  return out;
}

}  // namespace secagg::shamir
