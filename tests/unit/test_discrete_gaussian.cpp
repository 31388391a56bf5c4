// lib/crypto/discrete_gaussian and random_bits: the exact samplers of Canonne, Kamath and Steinke,
// "The Discrete Gaussian for Differential Privacy" (NeurIPS 2020), checked statistically against
// their exact distributions (Bernoulli frequencies; mean, variance and a chi-square
// goodness-of-fit test against the exact pmf), with a power check that the same procedure
// rejects a sampler whose σ² is off by 1%, so that the tests can fail. All draws come from
// seeded ChaCha20 streams with fixed keys: the results are deterministic, and the bounds
// (5 standard errors for means, 4.5 for variances, p = 1e-6 for chi-square) are wide enough
// that they were not picked to fit the particular streams.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "discrete_gaussian.hpp"
#include "error.hpp"
#include "exit_of.hpp"
#include "random_bits.hpp"
#include "uint128.hpp"

using namespace secagg;
using boost::multiprecision::cpp_int;

namespace {

__extension__ typedef __int128 i128;

ChaChaRandomBits stream(uint8_t tag) {
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(tag * 31 + i);
  return ChaChaRandomBits(key.data());
}

template <class F>
Exit error_code(F&& f) {
  return test::exit_of(std::forward<F>(f));
}

// An exact pmf on [lo, lo + p.size()), normalised, with its moments about 0 (both
// distributions here are symmetric, mean 0). Floating point is fine here, in the test only.
struct Pmf {
  int64_t lo = 0;
  std::vector<long double> p;
  long double var = 0, mu4 = 0;
};

template <class W>
Pmf make_pmf(int64_t radius, W&& weight) {
  Pmf pmf;
  pmf.lo = -radius;
  long double total = 0;
  for (int64_t x = -radius; x <= radius; ++x) {
    pmf.p.push_back(weight(static_cast<long double>(x)));
    total += pmf.p.back();
  }
  for (size_t i = 0; i < pmf.p.size(); ++i) {
    pmf.p[i] /= total;
    const long double x = static_cast<long double>(pmf.lo + static_cast<int64_t>(i));
    pmf.var += pmf.p[i] * x * x;
    pmf.mu4 += pmf.p[i] * x * x * x * x;
  }
  return pmf;
}

// N_Z(0, σ²): P(x) ∝ exp(-x²/2σ²), over ±(14σ + 10), beyond which the mass is below 1e-40.
Pmf gaussian_pmf(long double sigma2) {
  const auto radius = static_cast<int64_t>(std::ceil(14 * std::sqrt(sigma2))) + 10;
  return make_pmf(radius, [&](long double x) { return std::exp(-x * x / (2 * sigma2)); });
}

// Discrete Laplace: P(x) ∝ exp(-|x|/scale).
Pmf laplace_pmf(long double scale) {
  const auto radius = static_cast<int64_t>(std::ceil(100 * scale)) + 10;
  return make_pmf(radius, [&](long double x) { return std::exp(-std::fabs(x) / scale); });
}

// The chi-square distribution's upper quantile at p = 1e-6 by Wilson and Hilferty's cube-root
// normal approximation; 4.753424... is the standard normal's upper 1e-6 quantile.
double chi2_critical(double df) {
  const double z = 4.753424308822899;
  const double c = 2 / (9 * df);
  return df * std::pow(1 - c + z * std::sqrt(c), 3);
}

struct Verdict {
  double z_mean = 0, z_var = 0, chi2 = 0, critical = 0;
  size_t bins = 0;
  bool mean_ok() const { return std::fabs(z_mean) <= 5; }
  bool var_ok() const { return std::fabs(z_var) <= 4.5; }
  bool chi2_ok() const { return chi2 <= critical; }
};

// The mean against 0 in standard errors; the second moment Σx²/n (the mean is known to be 0)
// against the pmf's variance in its standard errors, sqrt((μ4 - var²)/n); and Pearson's
// chi-square over bins of consecutive values merged until each expects at least 5 samples
// (samples outside the pmf's range count in the end bins).
Verdict check(std::vector<int64_t> samples, const Pmf& pmf) {
  const auto n = static_cast<long double>(samples.size());
  i128 sum = 0;
  u128 sum_sq = 0;
  for (int64_t x : samples) {
    sum += x;
    sum_sq += static_cast<u128>(static_cast<i128>(x) * x);
  }
  Verdict v;
  v.z_mean = static_cast<double>(static_cast<long double>(sum) / n / std::sqrt(pmf.var / n));
  const long double second = static_cast<long double>(sum_sq) / n;
  v.z_var = static_cast<double>((second - pmf.var) / std::sqrt((pmf.mu4 - pmf.var * pmf.var) / n));

  std::sort(samples.begin(), samples.end());
  std::vector<int64_t> upper;  // each bin's largest value
  std::vector<long double> expected;
  long double acc = 0;
  for (size_t i = 0; i < pmf.p.size(); ++i) {
    acc += pmf.p[i] * n;
    if (acc >= 5) {
      upper.push_back(pmf.lo + static_cast<int64_t>(i));
      expected.push_back(acc);
      acc = 0;
    }
  }
  expected.back() += acc;  // the rest of the upper tail
  upper.back() = std::numeric_limits<int64_t>::max();
  auto begin = samples.begin();
  for (size_t b = 0; b < upper.size(); ++b) {
    auto end = std::upper_bound(begin, samples.end(), upper[b]);
    const auto observed = static_cast<long double>(end - begin);
    v.chi2 += static_cast<double>((observed - expected[b]) * (observed - expected[b]) / expected[b]);
    begin = end;
  }
  v.bins = upper.size();
  v.critical = chi2_critical(static_cast<double>(v.bins - 1));
  return v;
}

std::vector<int64_t> draw(const DiscreteGaussian& g, size_t n, uint8_t tag) {
  auto rng = stream(tag);
  std::vector<int64_t> out(n);
  g.sample(out.data(), n, rng);
  return out;
}

void check_passes(const Verdict& v) {
  INFO("z_mean=" << v.z_mean << " z_var=" << v.z_var << " chi2=" << v.chi2 << " critical=" << v.critical
                 << " bins=" << v.bins);
  CHECK(v.mean_ok());
  CHECK(v.var_ok());
  CHECK(v.chi2_ok());
}

}  // namespace

TEST_CASE("discrete Gaussian: uniform integers below a bound") {
  auto rng = stream(1);
  const size_t n = 60000;
  // The quotient by a power of two splits [0, bound) into equally likely parts; each part's
  // frequency within 5 standard errors of its share, and every value below the bound.
  std::array<size_t, 3> u64_parts{}, u128_parts{}, big_parts{};
  const uint64_t b64 = 3 * (uint64_t{1} << 60);
  const u128 b128 = u128{3} << 100;
  const cpp_int big = cpp_int(3) << 200;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t x = uniform_below(b64, rng);
    REQUIRE(x < b64);
    ++u64_parts[x >> 60];
    const u128 y = uniform_below(b128, rng);
    REQUIRE(y < b128);
    ++u128_parts[static_cast<size_t>(y >> 100)];
    const cpp_int z = uniform_below(big, rng);
    REQUIRE(z < big);
    REQUIRE(z >= 0);
    ++big_parts[(z >> 200).convert_to<size_t>()];
  }
  const double se = std::sqrt(n * (1.0 / 3) * (2.0 / 3));
  for (const auto& parts : {u64_parts, u128_parts, big_parts})
    for (size_t c : parts) CHECK(std::fabs(static_cast<double>(c) - n / 3.0) <= 5 * se);
  CHECK(uniform_below(uint64_t{1}, rng) == 0);
  CHECK(error_code([&] { uniform_below(uint64_t{0}, rng); }) == Exit::software);
}

TEST_CASE("discrete Gaussian: Bernoulli(exp(-gamma)) frequencies") {
  const size_t n = 200000;
  const Rational gammas[] = {{.num = 0, .den = 1}, {.num = 1, .den = 3}, {.num = 1, .den = 1},
                             {.num = 5, .den = 2}, {.num = 7, .den = 1}};
  uint8_t tag = 10;
  for (const Rational& g : gammas) {
    auto rng = stream(tag++);
    size_t ones = 0;
    for (size_t i = 0; i < n; ++i) ones += bernoulli_exp_neg(g, rng);
    const double p = std::exp(-static_cast<double>(g.num) / static_cast<double>(g.den));
    const double se = std::sqrt(p * (1 - p) / n);
    INFO("gamma=" << g.num << "/" << g.den << " frequency=" << static_cast<double>(ones) / n << " p=" << p);
    if (g.num == 0)
      CHECK(ones == n);
    else
      CHECK(std::fabs(static_cast<double>(ones) / n - p) <= 5 * se);
  }
}

TEST_CASE("discrete Gaussian: discrete Laplace mean, variance and fit") {
  const size_t n = 200000;
  const Rational scales[] = {{.num = 1, .den = 3}, {.num = 1, .den = 1}, {.num = 5, .den = 2},
                             {.num = 1000, .den = 7}};
  uint8_t tag = 20;
  for (const Rational& s : scales) {
    const long double scale = static_cast<long double>(s.num) / s.den;
    const Pmf pmf = laplace_pmf(scale);
    // The exact variance, 2e^{-1/t}/(1 - e^{-1/t})², against the summed pmf's.
    const long double q = std::exp(-1 / scale);
    const long double exact_var = 2 * q / ((1 - q) * (1 - q));
    REQUIRE(std::fabs(pmf.var - exact_var) <= 1e-12L * exact_var);
    auto rng = stream(tag++);
    std::vector<int64_t> samples(n);
    for (auto& x : samples) x = sample_discrete_laplace(s, rng);
    INFO("scale=" << s.num << "/" << s.den);
    check_passes(check(samples, pmf));
  }
}

TEST_CASE("discrete Gaussian: mean, variance and fit against the exact pmf") {
  struct Case {
    DiscreteGaussian g;
    long double sigma2;
    size_t n;
  };
  // σ = 0.5, 1, 3 (64-bit acceptance tests), 10 and 100 (also the power check's samples, so the
  // same count), 1234.5 through from_sigma, 10^12/7 (128-bit), and 3.3 through from_sigma,
  // whose σ² = m²/2^100 needs cpp_int (slower, fewer samples).
  const Case cases[] = {
      {.g = DiscreteGaussian(Rational{.num = 1, .den = 4}), .sigma2 = 0.25L, .n = 500000},
      {.g = DiscreteGaussian(Rational{.num = 1, .den = 1}), .sigma2 = 1, .n = 500000},
      {.g = DiscreteGaussian(Rational{.num = 9, .den = 1}), .sigma2 = 9, .n = 500000},
      {.g = DiscreteGaussian(Rational{.num = 100, .den = 1}), .sigma2 = 100, .n = 1000000},
      {.g = DiscreteGaussian(Rational{.num = 10000, .den = 1}), .sigma2 = 10000, .n = 1000000},
      {.g = DiscreteGaussian::from_sigma(1234.5), .sigma2 = 1234.5L * 1234.5L, .n = 500000},
      {.g = DiscreteGaussian(Rational{.num = 1000000000000, .den = 7}), .sigma2 = 1e12L / 7, .n = 500000},
      {.g = DiscreteGaussian::from_sigma(3.3), .sigma2 = 3.3L * 3.3L, .n = 100000},
  };
  uint8_t tag = 30;
  for (const Case& c : cases) {
    const Pmf pmf = gaussian_pmf(c.sigma2);
    INFO("sigma2=" << static_cast<double>(c.sigma2) << " pmf variance=" << static_cast<double>(pmf.var));
    check_passes(check(draw(c.g, c.n, tag++), pmf));
  }
  // At σ = 0.5 the exact variance is well below σ² (about 0.215, not 0.25): what is compared
  // above is the pmf's, not σ².
  CHECK(gaussian_pmf(0.25L).var < 0.22L);
}

TEST_CASE("discrete Gaussian: the tests reject a sigma^2 off by 1%") {
  // The same procedure and sample count as the σ = 10 and σ = 100 cases above, on samplers
  // whose σ² is 1% high or low: the variance test must flag each (the expected |z| is about 7).
  for (const uint64_t sigma2 : {uint64_t{100}, uint64_t{10000}}) {
    const Pmf pmf = gaussian_pmf(static_cast<long double>(sigma2));
    uint8_t tag = 40;
    for (const uint64_t wrong : {sigma2 + sigma2 / 100, sigma2 - sigma2 / 100}) {
      const Verdict v = check(draw(DiscreteGaussian(Rational{.num = wrong, .den = 1}), 1000000, tag++), pmf);
      INFO("sigma2=" << sigma2 << " sampled with " << wrong << ": z_var=" << v.z_var);
      CHECK_FALSE(v.var_ok());
    }
  }
}

TEST_CASE("discrete Gaussian: refusals") {
  CHECK(error_code([] { DiscreteGaussian(Rational{.num = 0, .den = 1}); }) == Exit::usage);
  CHECK(error_code([] { DiscreteGaussian(Rational{.num = 1, .den = 0}); }) == Exit::usage);
  CHECK(error_code([] { DiscreteGaussian(Rational{.num = 0, .den = 0}); }) == Exit::usage);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {0.0, -0.0, -1.0, -1e-300, nan, inf, -inf}) {
    CHECK(error_code([&] { DiscreteGaussian::from_sigma(bad); }) == Exit::usage);
    CHECK(error_code([&] { DiscreteGaussian::from_sigma2(bad); }) == Exit::usage);
  }
  // Above the documented σ² <= 2^80.
  CHECK(error_code([] { DiscreteGaussian::from_sigma(0x1p41); }) == Exit::usage);
  CHECK(error_code([] { DiscreteGaussian::from_sigma(0x1p40); }) == Exit::ok);
  auto rng = stream(50);
  CHECK(error_code([&] { bernoulli_exp_neg(Rational{.num = 1, .den = 0}, rng); }) == Exit::usage);
  CHECK(error_code([&] { sample_discrete_laplace(Rational{.num = 0, .den = 1}, rng); }) == Exit::usage);
  CHECK(error_code([&] { sample_discrete_laplace(Rational{.num = 1, .den = 0}, rng); }) == Exit::usage);
  CHECK(error_code([&] { sample_discrete_laplace(Rational{.num = (uint64_t{1} << 40) + 1, .den = 1}, rng); }) ==
        Exit::usage);
  CHECK(error_code([&] { sample_discrete_laplace(Rational{.num = uint64_t{1} << 40, .den = 1}, rng); }) == Exit::ok);
}

TEST_CASE("discrete Gaussian: from_sigma takes the double's exact value") {
  // 0.1 is 3602879701896397·2^-55 exactly, so σ² is its square over 2^110, not 1/100.
  const DiscreteGaussian g = DiscreteGaussian::from_sigma(0.1);
  const cpp_int m(3602879701896397);
  CHECK(g.sigma2_num() == m * m);
  CHECK(g.sigma2_den() == cpp_int(1) << 110);
  const DiscreteGaussian g2 = DiscreteGaussian::from_sigma2(0.1);
  CHECK(g2.sigma2_num() == m);
  CHECK(g2.sigma2_den() == cpp_int(1) << 55);
  const DiscreteGaussian h = DiscreteGaussian::from_sigma(1234.5);
  CHECK(h.sigma2_num() == 6095961);
  CHECK(h.sigma2_den() == 4);
  // Subnormal and large values are exact too; a Rational is reduced to lowest terms.
  const DiscreteGaussian tiny = DiscreteGaussian::from_sigma2(0x1p-1074);
  CHECK(tiny.sigma2_num() == 1);
  CHECK(tiny.sigma2_den() == cpp_int(1) << 1074);
  CHECK(DiscreteGaussian::from_sigma(0x1.8p30).sigma2_num() == cpp_int(9) << 58);
  const DiscreteGaussian r(Rational{.num = 200, .den = 8});
  CHECK(r.sigma2_num() == 25);
  CHECK(r.sigma2_den() == 1);
}

TEST_CASE("discrete Gaussian: the same key gives the same samples") {
  const DiscreteGaussian g(Rational{.num = 1000000000000, .den = 7});
  const std::vector<int64_t> a = draw(g, 2000, 60), b = draw(g, 2000, 60), c = draw(g, 2000, 61);
  CHECK(a == b);
  CHECK(a != c);
  // One at a time or in a batch, the same stream gives the same sequence.
  auto rng = stream(60);
  std::vector<int64_t> one_by_one(a.size());
  for (auto& x : one_by_one) x = g.sample(rng);
  CHECK(one_by_one == a);
}

TEST_CASE("discrete Gaussian: the system source") {
  SystemRandomBits rng;
  const DiscreteGaussian g(Rational{.num = 100, .den = 1});
  std::vector<int64_t> samples(20000);
  g.sample(samples.data(), samples.size(), rng);
  double sum = 0;
  for (int64_t x : samples) sum += static_cast<double>(x);
  // The mean's standard error is 10/sqrt(20000) ≈ 0.07: 10 of them is certain to hold.
  CHECK(std::fabs(sum / static_cast<double>(samples.size())) < 0.7);
  CHECK(std::any_of(samples.begin(), samples.end(), [&](int64_t x) { return x != samples.front(); }));
}
