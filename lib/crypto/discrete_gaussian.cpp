#include "discrete_gaussian.hpp"

#include <climits>
#include <cmath>
#include <numeric>
#include <utility>

#include <fmt/format.h>

#include "error.hpp"

namespace secagg {
namespace {

using boost::multiprecision::cpp_int;

// Bernoulli(exp(-1)): Algorithm 1's loop at γ = 1. Its first trial, Bernoulli(γ/1), is certain,
// so the loop starts at K = 2: K grows while Bernoulli(1/K) succeeds, and the answer is K odd.
bool bernoulli_exp_neg_one(RandomBits& rng) {
  uint64_t k = 2;
  while (uniform_below(k, rng) == 0) ++k;
  return k % 2 == 1;
}

// Bernoulli(exp(-γ)) for γ = r/den in [0, 1): Algorithm 1's loop for γ <= 1, where K grows while
// Bernoulli(γ/K) succeeds and the answer is K odd (P(K odd) = 1 - γ + γ²/2! - ... = exp(-γ)).
// Bernoulli(γ/K) is drawn as Bernoulli(1/K) and Bernoulli(r/den), independent, so that den·K is
// never formed and T is wide enough for it.
template <class T>
bool bernoulli_exp_neg_fraction(const T& r, const T& den, RandomBits& rng) {
  if (r == 0) return true;
  for (uint64_t k = 1;; ++k) {
    const bool trial = uniform_below(k, rng) == 0 && uniform_below(den, rng) < r;
    if (!trial) return k % 2 == 1;
  }
}

// Bernoulli(exp(-num/den)), Algorithm 1 for any γ >= 0: exp(-γ) = exp(-1)^floor(γ) ·
// exp(-(γ - floor(γ))), one Bernoulli per factor, stopping at the first failure. T is uint64_t,
// u128 or cpp_int.
template <class T>
bool bernoulli_exp_neg_ratio(const T& num, const T& den, RandomBits& rng) {
  const T whole = num / den;
  const T rest = num % den;
  for (T i = 0; i < whole; ++i)
    if (!bernoulli_exp_neg_one(rng)) return false;
  return bernoulli_exp_neg_fraction<T>(rest, den, rng);
}

// Algorithm 2, the discrete Laplace of scale t/s (t, s > 0): X = U + t·V, with U uniform in
// [0, t) kept with probability exp(-U/t) and V geometric (the number of successes of
// Bernoulli(exp(-1)) before a failure), has P(X = x) ∝ exp(-x/t); Y = floor(X/s) then has
// P(Y = y) ∝ exp(-y·s/t), and a fair sign with (-, 0) rejected, lest 0 count twice, makes it
// two-sided.
int64_t discrete_laplace(uint64_t t, uint64_t s, RandomBits& rng) {
  for (;;) {
    const uint64_t u = uniform_below(t, rng);
    if (!bernoulli_exp_neg_fraction<uint64_t>(u, t, rng)) continue;
    uint64_t v = 0;
    while (bernoulli_exp_neg_one(rng)) ++v;
    const u128 y = (u128{u} + u128{t} * v) / s;  // < 2^128: u, t, v < 2^64
    const bool negative = rng.bits(1) == 1;
    if (negative && y == 0) continue;
    // The callers' scale <= 2^40 makes this about exp(-2^23) likely: never, but not ignored.
    if (y > u128{INT64_MAX}) throw Error(Exit::software, "discrete Laplace sample beyond int64");
    return negative ? -static_cast<int64_t>(y) : static_cast<int64_t>(y);
  }
}

u128 to_u128(const cpp_int& x) {
  const cpp_int low = x & cpp_int(UINT64_MAX);
  const cpp_int high = x >> 64;
  return u128{high.convert_to<uint64_t>()} << 64 | low.convert_to<uint64_t>();
}

bool fits_u128(const cpp_int& x) { return x >= 0 && (x == 0 || boost::multiprecision::msb(x) < 128); }

// A finite positive double is exactly m·2^e; m odd here.
struct Dyadic {
  uint64_t m;
  int e;
};

Dyadic dyadic(double x) {
  int exp = 0;
  const double mantissa = std::frexp(x, &exp);  // x = mantissa·2^exp, 0.5 <= mantissa < 1
  // Exact: a double's significand has at most 53 bits (subnormals fewer).
  auto m = static_cast<uint64_t>(std::ldexp(mantissa, 53));
  int e = exp - 53;
  while (m % 2 == 0) {
    m /= 2;
    ++e;
  }
  return Dyadic{.m = m, .e = e};
}

// m·2^e as a fraction.
std::pair<cpp_int, cpp_int> fraction(const cpp_int& m, int e) {
  if (e >= 0) return {m << e, cpp_int(1)};
  return {m, cpp_int(1) << -e};
}

void check_positive_finite(double x, const char* name) {
  if (!std::isfinite(x) || !(x > 0))
    throw Error(Exit::usage, fmt::format("discrete Gaussian: {} must be finite and positive, not {}", name, x));
}

}  // namespace

bool bernoulli_exp_neg(Rational gamma, RandomBits& rng) {
  if (gamma.den == 0)
    throw Error(Exit::usage, fmt::format("Bernoulli(exp(-γ)): γ = {}/0 has no value", gamma.num));
  return bernoulli_exp_neg_ratio<uint64_t>(gamma.num, gamma.den, rng);
}

int64_t sample_discrete_laplace(Rational scale, RandomBits& rng) {
  if (scale.den == 0 || scale.num == 0)
    throw Error(Exit::usage,
                fmt::format("discrete Laplace: the scale {}/{} is not positive", scale.num, scale.den));
  const uint64_t g = std::gcd(scale.num, scale.den);
  const uint64_t t = scale.num / g, s = scale.den / g;
  if (u128{t} > u128{s} << 40)
    throw Error(Exit::usage, fmt::format("discrete Laplace: the scale {}/{} is above 2^40", t, s));
  return discrete_laplace(t, s, rng);
}

DiscreteGaussian::DiscreteGaussian(Rational sigma2) : DiscreteGaussian(cpp_int(sigma2.num), cpp_int(sigma2.den)) {}

DiscreteGaussian::DiscreteGaussian(cpp_int num, cpp_int den) {
  if (den == 0)
    throw Error(Exit::usage, fmt::format("discrete Gaussian: σ² = {}/0 has no value", num.str()));
  if (num <= 0 || den < 0)
    throw Error(Exit::usage, fmt::format("discrete Gaussian: σ² = {}/{} is not positive", num.str(), den.str()));
  const cpp_int g = boost::multiprecision::gcd(num, den);
  num_ = num / g;
  den_ = den / g;
  if (num_ > den_ << 80)
    throw Error(Exit::usage,
                fmt::format("discrete Gaussian: σ² = {}/{} is above 2^80", num_.str(), den_.str()));
  // floor(σ) = floor(sqrt(floor(σ²))): m <= sqrt(x) iff m² <= x iff m² <= floor(x), m integer.
  const cpp_int t = boost::multiprecision::sqrt(cpp_int(num_ / den_)) + 1;
  t_ = t.convert_to<uint64_t>();  // <= 2^40 + 1
  dt_ = den_ * t;
  bias_den_ = 2 * num_ * den_ * t * t;
  fast_ = fits_u128(num_) && fits_u128(dt_) && fits_u128(bias_den_);
  if (fast_) {
    num128_ = to_u128(num_);
    dt128_ = to_u128(dt_);
    bias_den128_ = to_u128(bias_den_);
  }
}

DiscreteGaussian DiscreteGaussian::from_sigma(double sigma) {
  check_positive_finite(sigma, "σ");
  const Dyadic d = dyadic(sigma);
  const cpp_int m(d.m);
  auto [num, den] = fraction(m * m, 2 * d.e);
  return DiscreteGaussian(std::move(num), std::move(den));
}

DiscreteGaussian DiscreteGaussian::from_sigma2(double sigma2) {
  check_positive_finite(sigma2, "σ²");
  const Dyadic d = dyadic(sigma2);
  auto [num, den] = fraction(cpp_int(d.m), d.e);
  return DiscreteGaussian(std::move(num), std::move(den));
}

// exp(-(|Y| - σ²/t)²/2σ²) = exp(-a²/bias_den_) with a = |Y|·den·t - num (discrete_gaussian.hpp):
// in 64 bits when a² and bias_den_ fit, else in 128 bits when no product overflows, else cpp_int.
bool DiscreteGaussian::accept(uint64_t abs_y, RandomBits& rng) const {
  if (fast_) {
    u128 p = 0, a2 = 0;
    if (!__builtin_mul_overflow(u128{abs_y}, dt128_, &p)) {
      const u128 a = p >= num128_ ? p - num128_ : num128_ - p;
      if (!__builtin_mul_overflow(a, a, &a2)) {
        if ((a2 >> 64) == 0 && (bias_den128_ >> 64) == 0)
          return bernoulli_exp_neg_ratio<uint64_t>(static_cast<uint64_t>(a2), static_cast<uint64_t>(bias_den128_),
                                                   rng);
        return bernoulli_exp_neg_ratio<u128>(a2, bias_den128_, rng);
      }
    }
  }
  cpp_int a = cpp_int(abs_y) * dt_ - num_;
  a *= a;
  return bernoulli_exp_neg_ratio<cpp_int>(a, bias_den_, rng);
}

// Algorithm 3: a discrete Laplace candidate of scale t = floor(σ) + 1, kept with probability
// exp(-(|Y| - σ²/t)²/2σ²); the kept ones are N_Z(0, σ²).
int64_t DiscreteGaussian::sample(RandomBits& rng) const {
  for (;;) {
    const int64_t y = discrete_laplace(t_, 1, rng);
    const uint64_t abs_y = y < 0 ? 0 - static_cast<uint64_t>(y) : static_cast<uint64_t>(y);
    if (accept(abs_y, rng)) return y;
  }
}

void DiscreteGaussian::sample(int64_t* out, size_t n, RandomBits& rng) const {
  for (size_t i = 0; i < n; ++i) out[i] = sample(rng);
}

}  // namespace secagg
