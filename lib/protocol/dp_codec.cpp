#include "dp_codec.hpp"

#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "bytes.hpp"
#include "crypto.hpp"
#include "discrete_gaussian.hpp"
#include "dp_accounting.hpp"
#include "dp_params.hpp"
#include "error.hpp"
#include "prg.hpp"

namespace secagg::dp {

namespace {

// The discrete Gaussian of variance v, rounded up to a rational of denominator 2^k with k as
// large as keeps the numerator in 62 bits (at most 2^20): at least the calibrated noise, and a
// small rational keeps the sampler on its fast integer path.
DiscreteGaussian noise_of_variance(double v) {
  unsigned k = 20;
  while (k > 0 && std::ldexp(v, static_cast<int>(k)) >= std::ldexp(1.0, 62)) --k;
  const double num = std::ceil(std::ldexp(v, static_cast<int>(k)));
  if (!(num >= 1) || num >= std::ldexp(1.0, 62))
    throw Error(Exit::data, fmt::format("the noise variance {} is outside what the sampler takes", v));
  return DiscreteGaussian(Rational{.num = static_cast<uint64_t>(num), .den = uint64_t{1} << k});
}

double uniform01(RandomBits& rng) { return static_cast<double>(rng.bits(53)) * 0x1p-53; }

}  // namespace

void hadamard(std::vector<double>& x) {
  const size_t d = x.size();
  for (size_t h = 1; h < d; h <<= 1)
    for (size_t i = 0; i < d; i += 2 * h)
      for (size_t j = i; j < i + h; ++j) {
        const double a = x[j], b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
}

std::vector<int8_t> rotation_signs(const SessionId& session, uint64_t d) {
  constexpr std::string_view kLabel = "secagg/v1 dp rotation";
  Bytes in(kLabel.begin(), kLabel.end());
  in.insert(in.end(), session.begin(), session.end());
  const Digest32 key = blake2b_256(in);
  Keystream ks(PrgKind::chacha20, key.data());
  std::vector<uint8_t> bits((d + 7) / 8);
  ks.generate(0, bits.data(), bits.size());
  std::vector<int8_t> s(d);
  for (uint64_t j = 0; j < d; ++j) s[j] = (bits[j / 8] >> (j % 8)) & 1 ? int8_t{-1} : int8_t{1};
  return s;
}

std::vector<uint64_t> ddg_encode(const Params& p, const SessionId& session, std::vector<double> x, RandomBits& rng,
                                 EncodeReport* report) {
  EncodeReport rep;
  const uint64_t d = p.length - 1;
  const DdgSetting set = ddg_setting(p);
  // Rotate: random signs, then the orthonormal Hadamard transform. It spreads the update's
  // energy over all coordinates, so that their magnitudes are alike and the ring is used evenly.
  x.resize(d, 0.0);
  const std::vector<int8_t> sign = rotation_signs(session, d);
  for (uint64_t j = 0; j < d; ++j) x[j] *= sign[j];
  hadamard(x);
  const double norm_scale = 1 / std::sqrt(static_cast<double>(d));
  double sq = 0;
  for (double& v : x) {
    v *= norm_scale;
    sq += v * v;
  }
  // Clip the L2 norm to c (the rotation kept it), then scale by s.
  rep.norm = std::sqrt(sq);
  rep.clipped = rep.norm > set.l2_clip;
  const double factor = set.scale * (rep.clipped ? set.l2_clip / rep.norm : 1.0);
  for (double& v : x) v *= factor;
  // Conditional randomized rounding (DDG Theorem 1): unbiased per coordinate, drawn again until
  // the rounded vector's norm is within the bound the accountant's sensitivity assumes.
  const double bound = rounded_l2_bound(set.scale * set.l2_clip, set.beta, d);
  // The rounded update without its noise: whoever saw it could remove the noise from the sum.
  std::vector<int64_t, WipingAllocator<int64_t>> r(d);
  for (;;) {
    if (++rep.rounding_tries > 10000)
      throw Error(Exit::software, "conditional rounding found no rounding within its norm bound in 10000 draws");
    double rsq = 0;
    for (uint64_t j = 0; j < d; ++j) {
      const double fl = std::floor(x[j]);
      r[j] = static_cast<int64_t>(fl) + (uniform01(rng) < x[j] - fl ? 1 : 0);
      rsq += static_cast<double>(r[j]) * static_cast<double>(r[j]);
    }
    if (rsq <= bound * bound) break;
  }
  // The client's share of the noise, then the ring.
  const double sigma = set.scale * local_stddev(set);
  const DiscreteGaussian noise = noise_of_variance(sigma * sigma);
  const uint64_t R = p.modulus, mask = R - 1;
  const int64_t half = static_cast<int64_t>(R / 2);
  std::vector<uint64_t> out(p.length);
  out[0] = 1;
  for (uint64_t j = 0; j < d; ++j) {
    const int64_t v = r[j] + noise.sample(rng);
    if (v < -half || v >= half) ++rep.wrapped;
    out[j + 1] = static_cast<uint64_t>(v) & mask;
  }
  sodium_memzero(x.data(), x.size() * sizeof x[0]);
  if (report) *report = rep;
  return out;
}

Decoded ddg_decode(const Params& p, const SessionId& session, const std::vector<uint64_t>& sum,
                   const std::string& origin) {
  Decoded dec;
  const uint64_t d = p.length - 1, R = p.modulus;
  dec.contributors = sum[0];
  if (dec.contributors == 0 || dec.contributors > p.clients)
    throw Error(Exit::data, fmt::format("{}: element 0 counts {} contributors; a DP session's sum has 1 to {}", origin,
                                        dec.contributors, p.clients));
  const double edge = static_cast<double>(R / 2 - R / 16);
  std::vector<double> y(d);
  for (uint64_t j = 0; j < d; ++j) {
    const uint64_t v = sum[j + 1];
    const double c = v >= R / 2 ? -static_cast<double>(R - v) : static_cast<double>(v);
    if (std::fabs(c) > edge) ++dec.near_edge;
    y[j] = c;
  }
  // Undo the scale and the rotation: (H/sqrt(d)) is its own inverse, and so are the signs.
  hadamard(y);
  const std::vector<int8_t> sign = rotation_signs(session, d);
  const double f = 1 / (p.dp_scale * std::sqrt(static_cast<double>(d)) * static_cast<double>(dec.contributors));
  dec.average.resize(p.dp_input_length);
  for (uint64_t j = 0; j < p.dp_input_length; ++j) dec.average[j] = y[j] * sign[j] * f;
  return dec;
}

}  // namespace secagg::dp
