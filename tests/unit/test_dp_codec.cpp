// A distributed-DP session's values (docs/privacy.md, "The pipeline"): the rotation round-trips,
// the decoded sum carries exactly the calibrated noise (measured over many sessions), clipping
// and conditional rounding keep their bounds, and wrap-around is counted.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "discrete_gaussian.hpp"
#include "dp_accounting.hpp"
#include "dp_codec.hpp"
#include "dp_params.hpp"
#include "params.hpp"
#include "random_bits.hpp"
#include "small_params.hpp"

using namespace secagg;

namespace {

Params dp_session(uint32_t clients, uint32_t threshold, uint64_t input_length, unsigned bits, double z, double c) {
  Params p = test::small_params();
  p.clients = clients;
  p.threshold = threshold;
  p.neighbours = clients - 1;
  DdgRequest r;
  r.l2_clip = c;
  r.noise_multiplier = z;
  r.bits = bits;
  r.input_length = input_length;
  setup_ddg(p, r);
  validate_params(p);
  return p;
}

ChaChaRandomBits rng_for(uint8_t k) {
  uint8_t key[32] = {};
  key[0] = k;
  return ChaChaRandomBits(key);
}

std::vector<double> update(size_t n, double scale, uint8_t k) {
  ChaChaRandomBits rng = rng_for(static_cast<uint8_t>(100 + k));
  std::vector<double> x(n);
  for (double& v : x) v = scale * (static_cast<double>(rng.bits(20)) / (1 << 20) - 0.5);
  return x;
}

std::vector<uint64_t> add(const Params& p, const std::vector<std::vector<uint64_t>>& vs) {
  std::vector<uint64_t> sum(p.length, 0);
  for (const auto& v : vs)
    for (size_t j = 0; j < v.size(); ++j) sum[j] = (sum[j] + v[j]) & (p.modulus - 1);
  return sum;
}

}  // namespace

TEST_CASE("the Hadamard transform applied twice is d times the identity") {
  std::vector<double> x{1, -2, 3.5, 0, 7, 1e-3, -4, 2};
  const std::vector<double> orig = x;
  dp::hadamard(x);
  dp::hadamard(x);
  for (size_t j = 0; j < x.size(); ++j) CHECK(x[j] == doctest::Approx(8 * orig[j]));
  const auto s1 = dp::rotation_signs(SessionId{}, 1000), s2 = dp::rotation_signs(SessionId{}, 1000);
  CHECK(s1 == s2);
  SessionId other{};
  other[0] = 1;
  CHECK(dp::rotation_signs(other, 1000) != s1);
  const long minus = std::count(s1.begin(), s1.end(), int8_t{-1});
  CHECK(minus > 400);
  CHECK(minus < 600);
}

TEST_CASE("decode undoes encode up to the rounding and the noise") {
  // Tiny noise (z small) and a fine scale: the average comes back to within a few 1/s.
  const Params p = dp_session(4, 3, 300, 40, 1e-6, 10);
  SessionId sid{};
  sid[3] = 9;
  std::vector<std::vector<double>> xs;
  std::vector<std::vector<uint64_t>> vs;
  for (uint8_t i = 0; i < 4; ++i) {
    xs.push_back(update(300, 0.2, i));
    ChaChaRandomBits rng = rng_for(i);
    dp::EncodeReport rep;
    vs.push_back(dp::ddg_encode(p, sid, xs.back(), rng, &rep));
    CHECK_FALSE(rep.clipped);
    CHECK(rep.wrapped == 0);
  }
  const dp::Decoded d = dp::ddg_decode(p, sid, add(p, vs), "sum");
  CHECK(d.contributors == 4);
  CHECK(d.near_edge == 0);
  REQUIRE(d.average.size() == 300);
  for (size_t j = 0; j < 300; ++j) {
    const double mean = (xs[0][j] + xs[1][j] + xs[2][j] + xs[3][j]) / 4;
    CHECK(std::fabs(d.average[j] - mean) < 1e-4);  // the noise: stddev 1e-6 x 10 x sqrt(4 / 3) / 4
  }
}

TEST_CASE("an update above the clip is scaled down to it") {
  const Params p = dp_session(4, 3, 64, 40, 1e-6, 1);
  std::vector<double> x(64, 1.0);  // norm 8
  ChaChaRandomBits rng = rng_for(1);
  dp::EncodeReport rep;
  const auto v = dp::ddg_encode(p, SessionId{}, x, rng, &rep);
  CHECK(rep.clipped);
  CHECK(rep.norm == doctest::Approx(8));
  std::vector<uint64_t> sum = v;
  const dp::Decoded d = dp::ddg_decode(p, SessionId{}, sum, "one");
  for (double a : d.average) CHECK(a == doctest::Approx(1.0 / 8).epsilon(1e-5));
}

TEST_CASE("the decoded noise has the calibrated variance, over many sessions") {
  // n = 8 clients, t = 5: each adds N_Z(0, (s z c / sqrt 5)^2); the average of the 8 carries
  // noise of variance 8 (z c)^2 / 5 / 64 per value. A scale of ~1e5 makes rounding negligible.
  const double z = 1.0, c = 1.0;
  const Params p = dp_session(8, 5, 1024, 32, z, c);
  const double expected = 8 * (z * c) * (z * c) / 5 / 64;
  double sum_sq = 0, sum = 0;
  size_t count = 0;
  for (uint8_t session = 0; session < 12; ++session) {
    SessionId sid{};
    sid[0] = session;
    std::vector<std::vector<double>> xs;
    std::vector<std::vector<uint64_t>> vs;
    for (uint8_t i = 0; i < 8; ++i) {
      xs.push_back(update(1024, 0.01, static_cast<uint8_t>(i + 8 * session)));
      ChaChaRandomBits rng = rng_for(static_cast<uint8_t>(i + 8 * session));
      vs.push_back(dp::ddg_encode(p, sid, xs.back(), rng, nullptr));
    }
    const dp::Decoded d = dp::ddg_decode(p, sid, add(p, vs), "sum");
    for (size_t j = 0; j < 1024; ++j) {
      double mean = 0;
      for (const auto& x : xs) mean += x[j] / 8;
      const double e = d.average[j] - mean;
      sum += e;
      sum_sq += e * e;
      ++count;
    }
  }
  const double n = static_cast<double>(count), var = sum_sq / n - (sum / n) * (sum / n);
  // The sample variance of ~12k Gaussian values has a relative standard error sqrt(2/n) ~ 1.3%:
  // 5 of them bound it. The noise is rounded up to a multiple of 2^-20 of the variance: nothing.
  CHECK(std::fabs(sum / n) < 5 * std::sqrt(expected / n));
  CHECK(var == doctest::Approx(expected).epsilon(5 * std::sqrt(2 / n)));
}

TEST_CASE("coordinates that wrap are counted on the client and near the edges on the server") {
  // setup's scale leaves 4 stddevs of the sum inside the ring; a scale 16 times that (as a
  // hand-made params file could have) overflows it.
  Params p = dp_session(4, 3, 256, 12, 5, 1);
  std::vector<std::vector<uint64_t>> vs;
  uint64_t wrapped = 0;
  for (uint8_t i = 0; i < 4; ++i) {
    ChaChaRandomBits rng = rng_for(i);
    dp::EncodeReport rep;
    vs.push_back(dp::ddg_encode(p, SessionId{}, update(256, 0.1, i), rng, &rep));
    wrapped += rep.wrapped;
  }
  CHECK(wrapped == 0);
  CHECK(dp::ddg_decode(p, SessionId{}, add(p, vs), "sum").near_edge == 0);
  p.dp_scale *= 16;
  vs.clear();
  for (uint8_t i = 0; i < 4; ++i) {
    ChaChaRandomBits rng = rng_for(i);
    dp::EncodeReport rep;
    vs.push_back(dp::ddg_encode(p, SessionId{}, update(256, 0.1, i), rng, &rep));
    wrapped += rep.wrapped;
  }
  CHECK(wrapped > 0);
  CHECK(dp::ddg_decode(p, SessionId{}, add(p, vs), "sum").near_edge > 0);
  std::vector<uint64_t> none(p.length, 0);
  CHECK_THROWS_AS(dp::ddg_decode(p, SessionId{}, none, "zero"), Error);
}
