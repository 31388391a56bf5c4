// lib/protocol/quantize: the mapping of floats into the ring and back, weights, non-finite values,
// the documented error bound on round trips (one client and weighted sums of 2 to 10
// clients), and a statistical test that stochastic rounding is unbiased (one that a biased
// rounding, such as floor, always-up or round-to-nearest, fails).
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "exit_of.hpp"
#include "params.hpp"
#include "quantize.hpp"

using namespace secagg;
using quant::Rounding;

namespace {

Params make_params(uint32_t n, unsigned bits, double clip, uint64_t max_weight, uint64_t values) {
  Params p;
  p.clients = n;
  p.threshold = n / 2 + 1;
  p.neighbours = n - 1;
  p.quant_bits = static_cast<uint8_t>(bits);
  p.clip = clip;
  p.max_weight = max_weight;
  p.length = values + 1;
  p.modulus = uint64_t{1} << auto_modulus_bits(n, max_weight, bits);
  validate_params(p);
  return p;
}

quant::Spec make_spec(uint32_t n, unsigned bits, double clip, uint64_t max_weight, uint64_t values) {
  return quant::spec_of(make_params(n, bits, clip, max_weight, values), "params.msg");
}

template <class F>
Exit error_code(F&& f) {
  return test::exit_of(std::forward<F>(f));
}

// Floating-point slack on top of the documented bound.
double slack(const quant::Spec& s) { return 1e-12 * s.clip; }

// True if the observed mean of Bernoulli draws is within 5 sigma of the probability p.
bool within_5_sigma(double observed, double p, size_t n) {
  double sigma = std::sqrt(p * (1 - p) / static_cast<double>(n));
  return std::fabs(observed - p) <= 5 * sigma;
}

}  // namespace

TEST_CASE("quantize: spec, weights and non-finite values") {
  Params plain = make_params(3, 16, 1.0, 100, 10);
  auto s = quant::spec_of(plain, "p");
  CHECK(s.bits == 16);
  CHECK(s.values == 10);
  CHECK(s.levels() == 65535);
  CHECK(s.step() == doctest::Approx(2.0 / 65535));
  CHECK(quant::error_bound(s, Rounding::nearest) == s.step() / 2);
  CHECK(quant::error_bound(s, Rounding::stochastic) == s.step());
  plain.quant_bits = 0;
  plain.clip = 0;
  plain.max_weight = 0;
  CHECK(error_code([&] { quant::spec_of(plain, "p"); }) == Exit::data);

  CHECK(quant::choose_weight(1, s, false).used == 1);
  CHECK(quant::choose_weight(100, s, true).used == 100);
  auto capped = quant::choose_weight(101, s, false);
  CHECK(capped.used == 100);
  CHECK(capped.capped);
  CHECK_FALSE(quant::choose_weight(100, s, false).capped);
  CHECK(error_code([&] { quant::choose_weight(101, s, true); }) == Exit::usage);
  CHECK(error_code([&] { quant::choose_weight(0, s, false); }) == Exit::usage);
  CHECK(quant::choose_weight(uint64_t{1} << 32, s, false).used == 100);
  CHECK(error_code([&] { quant::choose_weight((uint64_t{1} << 32) + 1, s, false); }) == Exit::usage);

  std::vector<double> x = {1, NAN, INFINITY, -INFINITY, 2};
  try {
    auto y = x;
    quant::handle_nonfinite(y, quant::NonFinite::refuse, "u.npy");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::data);
    CHECK(std::string(e.what()).rfind("u.npy: value 1 is NaN", 0) == 0);
  }
  std::vector<double> inf = {0, 0, -INFINITY};
  CHECK(error_code([&] { quant::handle_nonfinite(inf, quant::NonFinite::refuse, "u"); }) == Exit::data);
  CHECK(quant::handle_nonfinite(x, quant::NonFinite::zero, "u.npy") == 3);
  CHECK(x == std::vector<double>{1, 0, 0, 0, 2});
}

TEST_CASE("quantize: the affine map, clipping and rounding") {
  auto s = make_spec(3, 8, 2.0, 10, 4);
  CHECK(quant::scaled(-2.0, s) == 0);
  CHECK(quant::scaled(2.0, s) == 255);
  CHECK(quant::scaled(0.0, s) == 127.5);
  CHECK(quant::scaled(-1e300, s) == 0);
  CHECK(quant::scaled(7.0, s) == 255);
  CHECK(quant::scaled(1.0, s) == doctest::Approx(191.25));

  CHECK(quant::round_nearest(2.5) == 3);
  CHECK(quant::round_nearest(2.4999999) == 2);
  CHECK(quant::round_nearest(0.0) == 0);
  const uint64_t top = (uint64_t{1} << 53) - 1;
  CHECK(quant::round_stochastic(5.0, 0) == 5);  // no fraction: never up
  CHECK(quant::round_stochastic(5.0, top) == 5);
  CHECK(quant::round_stochastic(5.25, 0) == 6);
  CHECK(quant::round_stochastic(5.25, top) == 5);
  CHECK(quant::round_stochastic(5.25, (uint64_t{1} << 51) - 1) == 6);  // u = 0.25 - 2^-53
  CHECK(quant::round_stochastic(5.25, uint64_t{1} << 51) == 5);        // u = 0.25

  // Element 0 is the weight; clipped values land on the ends.
  std::vector<double> x = {-5, 5, 0, 2};
  auto v = quant::encode(x, s, 7, Rounding::nearest, "u");
  CHECK(v == std::vector<uint64_t>{7, 0, 255 * 7, 128 * 7, 255 * 7});
  quant::EncodeStats st;
  quant::encode(x, s, 7, Rounding::stochastic, "u", &st);
  CHECK(st.clipped == 2);
  CHECK(error_code([&] { quant::encode(std::vector<double>(3), s, 1, Rounding::nearest, "u"); }) == Exit::data);
  CHECK(error_code([&] { quant::encode(std::vector<double>(5), s, 1, Rounding::nearest, "u"); }) == Exit::data);
  CHECK(error_code([&] { quant::encode(std::vector<double>{0, 0, NAN, 0}, s, 1, Rounding::nearest, "u"); }) ==
        Exit::data);
}

TEST_CASE("quantize: decoding refuses what cannot be a sum of this session's inputs") {
  auto s = make_spec(3, 8, 1.0, 10, 2);
  auto a = quant::decode(std::vector<uint64_t>{30, 0, 255 * 30}, s, "sum");
  CHECK(a.total_weight == 30);
  CHECK(a.values == std::vector<double>{-1.0, 1.0});
  CHECK(error_code([&] { quant::decode(std::vector<uint64_t>{0, 0, 0}, s, "sum"); }) == Exit::data);
  CHECK(error_code([&] { quant::decode(std::vector<uint64_t>{31, 0, 0}, s, "sum"); }) == Exit::data);
  CHECK(error_code([&] { quant::decode(std::vector<uint64_t>{30, 0, 255 * 30 + 1}, s, "sum"); }) == Exit::data);
  CHECK(error_code([&] { quant::decode(std::vector<uint64_t>{30, 0}, s, "sum"); }) == Exit::data);
  try {
    quant::decode(std::vector<uint64_t>{0, 0, 0}, s, "sum.vec");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).rfind("sum.vec: element 0 (the total weight) is 0", 0) == 0);
  }
}

TEST_CASE("quantize: round trips stay within the documented bound") {
  std::mt19937_64 g(20261123);
  struct Case {
    unsigned bits;
    double clip;
    uint64_t max_weight;
  };
  for (Case c : {Case{1, 1.0, 1}, Case{2, 0.5, 3}, Case{4, 1.0, 100}, Case{8, 0.01, 1000}, Case{16, 1.0, 100},
                 Case{16, 1e6, 50}, Case{24, 3.0, 7}, Case{32, 1.0, 1}, Case{32, 0.1, 1000}}) {
    for (Rounding r : {Rounding::nearest, Rounding::stochastic}) {
      for (uint32_t n : {1u, 2u, 3u, 10u}) {
        uint32_t clients = std::max(n, 2u);
        const size_t len = 300;
        auto s = make_spec(clients, c.bits, c.clip, c.max_weight, len);
        CAPTURE(c.bits);
        CAPTURE(c.clip);
        CAPTURE(n);
        CAPTURE(r == Rounding::nearest);
        std::uniform_real_distribution<double> val(-1.3 * c.clip, 1.3 * c.clip);
        std::vector<uint64_t> sum(len + 1, 0);
        std::vector<long double> ref(len, 0);
        uint64_t total = 0;
        for (uint32_t i = 0; i < n; ++i) {
          uint64_t w = 1 + g() % c.max_weight;
          std::vector<double> x(len);
          for (auto& v : x) v = val(g);
          x[0] = c.clip;
          x[1] = -c.clip;
          x[2] = 0;
          auto enc = quant::encode(x, s, w, r, "u");
          REQUIRE(enc.size() == len + 1);
          CHECK(enc[0] == w);
          for (size_t j = 0; j <= len; ++j) {
            CHECK(enc[j] <= w * s.levels());
            sum[j] += enc[j];
          }
          for (size_t j = 0; j < len; ++j)
            ref[j] += static_cast<long double>(w) * std::clamp(x[j], -c.clip, c.clip);
          total += w;
        }
        auto a = quant::decode(sum, s, "sum");
        CHECK(a.total_weight == total);
        double bound = quant::error_bound(s, r) + slack(s);
        double worst = 0;
        for (size_t j = 0; j < len; ++j) {
          double want = static_cast<double>(ref[j] / static_cast<long double>(total));
          worst = std::max(worst, std::fabs(a.values[j] - want));
          CHECK(a.values[j] >= -c.clip);
          CHECK(a.values[j] <= c.clip);
        }
        CHECK(worst <= bound);
        // The ends of the range are exact.
        CHECK(a.values[0] == doctest::Approx(c.clip).epsilon(1e-12));
        CHECK(a.values[1] == doctest::Approx(-c.clip).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("quantize: stochastic rounding is unbiased (and the test catches biased rounding)") {
  const size_t n = 200000;
  auto s = make_spec(3, 8, 1.0, 100, n);
  // Values whose scaled level is k + f for a few fractions f.
  for (double f : {0.3, 0.5, 0.9, 0.02}) {
    CAPTURE(f);
    const double k = 100;
    double x = s.clip * (2 * (k + f) / static_cast<double>(s.levels()) - 1);
    double q = quant::scaled(x, s);
    double frac = q - std::floor(q);
    REQUIRE(std::floor(q) == k);
    REQUIRE(frac == doctest::Approx(f).epsilon(1e-9));
    std::vector<double> xs(n, x);
    for (uint64_t w : {1u, 37u}) {
      auto enc = quant::encode(xs, s, w, Rounding::stochastic, "u");
      double ups = 0;
      for (size_t j = 1; j <= n; ++j) {
        REQUIRE(enc[j] % w == 0);
        uint64_t level = enc[j] / w;
        REQUIRE((level == 100 || level == 101));
        ups += static_cast<double>(level - 100);
      }
      double observed = ups / static_cast<double>(n);
      CHECK(within_5_sigma(observed, frac, n));
      // The same check rejects floor (never up), always-up and round-to-nearest, and a
      // rounding 1% off in probability.
      CHECK_FALSE(within_5_sigma(0.0, frac, n));
      CHECK_FALSE(within_5_sigma(1.0, frac, n));
      CHECK_FALSE(within_5_sigma(frac < 0.5 ? 0.0 : 1.0, frac, n));
      CHECK_FALSE(within_5_sigma(frac + 0.01, frac, n));
    }
    // Nearest rounding is biased here, as expected: every value goes the same way.
    auto near = quant::encode(xs, s, 1, Rounding::nearest, "u");
    CHECK(near[1] == (f < 0.5 ? 100u : 101u));
  }
}

TEST_CASE("quantize: the decoded weighted average of many clients is unbiased") {
  // Three clients with weights 10, 20, 70 and values with fractional levels: the mean over
  // many elements of (decoded - exact weighted average) is within 5 sigma of 0.
  const size_t len = 50000;
  auto s = make_spec(3, 4, 1.0, 100, len);
  std::vector<uint64_t> weights = {10, 20, 70};
  std::vector<double> fracs = {0.3, 0.55, 0.8};
  std::vector<uint64_t> sum(len + 1, 0);
  double exact = 0, var = 0;
  for (size_t i = 0; i < 3; ++i) {
    double x = s.clip * (2 * (7 + fracs[i]) / static_cast<double>(s.levels()) - 1);
    auto enc = quant::encode(std::vector<double>(len, x), s, weights[i], Rounding::stochastic, "u");
    for (size_t j = 0; j <= len; ++j) sum[j] += enc[j];
    exact += static_cast<double>(weights[i]) * x / 100;
    double f = quant::scaled(x, s) - 7;
    double w = static_cast<double>(weights[i]) / 100;
    var += w * w * f * (1 - f);
  }
  auto a = quant::decode(sum, s, "sum");
  double mean = 0;
  for (double v : a.values) mean += v;
  mean /= static_cast<double>(len);
  // One level is step in value units.
  double sigma = s.step() * std::sqrt(var / static_cast<double>(len));
  CHECK(std::fabs(mean - exact) <= 5 * sigma);
  // and the bias of floor rounding would be far outside: about 0.59 steps.
  CHECK(s.step() * 0.5 > 5 * sigma);
}
