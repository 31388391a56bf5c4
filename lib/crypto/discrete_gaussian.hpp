// Exact samplers for distributed differential privacy (issue 17): the discrete Gaussian
// N_Z(0, σ²), P(x) ∝ exp(-x²/2σ²) on the integers, and what it is built from, after Canonne,
// Kamath and Steinke, "The Discrete Gaussian for Differential Privacy" (NeurIPS 2020),
// Algorithms 1-3. Every parameter is an exact rational and every acceptance test compares
// integers (uint64, unsigned __int128 while no product overflows, boost cpp_int beyond), so the
// output follows the stated distribution exactly, given uniform bits: no floating point, whose
// rounding a DP guarantee cannot account for. Randomness comes from a RandomBits
// (random_bits.hpp).
#pragma once
#include <cstddef>
#include <cstdint>

#include <boost/multiprecision/cpp_int.hpp>

#include "random_bits.hpp"
#include "uint128.hpp"

namespace secagg {

// num / den; den > 0.
struct Rational {
  uint64_t num;
  uint64_t den;
};

// True with probability exp(-gamma), gamma = num/den >= 0. CKS Algorithm 1.
// Error(Exit::usage) if den is 0.
bool bernoulli_exp_neg(Rational gamma, RandomBits& rng);

// The discrete Laplace distribution, P(x) ∝ exp(-|x|/scale) on the integers, scale = num/den.
// CKS Algorithm 2. Error(Exit::usage) unless 0 < scale <= 2^40 (the bound keeps the samples far
// inside int64: |x| >= 2^63 would have probability about exp(-2^23)).
int64_t sample_discrete_laplace(Rational scale, RandomBits& rng);

// The discrete Gaussian N_Z(0, σ²) for an exact rational σ², 0 < σ² <= 2^80; CKS Algorithm 3.
// Other σ² are Error(Exit::usage).
class DiscreteGaussian {
 public:
  explicit DiscreteGaussian(Rational sigma2);
  // σ, or σ², given as a double, taken at its exact value m·2^e (no rounding; σ² from σ is
  // squared exactly). Not finite or not positive: Error(Exit::usage).
  static DiscreteGaussian from_sigma(double sigma);
  static DiscreteGaussian from_sigma2(double sigma2);

  int64_t sample(RandomBits& rng) const;
  void sample(int64_t* out, size_t n, RandomBits& rng) const;

  // σ² = sigma2_num() / sigma2_den(), in lowest terms.
  const boost::multiprecision::cpp_int& sigma2_num() const { return num_; }
  const boost::multiprecision::cpp_int& sigma2_den() const { return den_; }

 private:
  DiscreteGaussian(boost::multiprecision::cpp_int num, boost::multiprecision::cpp_int den);
  bool accept(uint64_t abs_y, RandomBits& rng) const;

  // σ² = num_/den_. Algorithm 3 draws Y from the discrete Laplace of scale t_ = floor(σ) + 1 and
  // keeps it with probability exp(-(|Y| - σ²/t)²/2σ²) = exp(-a²/bias_den_), where
  // a = |Y|·dt_ - num_, dt_ = den_·t_ and bias_den_ = 2·num_·den_·t_².
  boost::multiprecision::cpp_int num_, den_, dt_, bias_den_;
  uint64_t t_ = 0;
  // The same in 128 bits when num_, dt_ and bias_den_ fit (fast_), the usual case.
  bool fast_ = false;
  u128 num128_ = 0, dt128_ = 0, bias_den128_ = 0;
};

}  // namespace secagg
