#include "quantize.hpp"

#include <algorithm>
#include <cmath>

#include <optional>

#include <fmt/format.h>
#include <sodium.h>

#include "error.hpp"
#include "le.hpp"
#include "prg.hpp"
#include "random.hpp"

namespace secagg::quant {

Spec spec_of(const Params& p, const std::string& origin) {
  if (!p.quantized())
    throw Error(Exit::data, origin + ": the session has no quantization spec (set up without --bits, --clip and "
                                     "--max-weight): its inputs are integers already");
  Spec s;
  s.bits = p.quant_bits;
  s.clip = p.clip;
  s.max_weight = p.max_weight;
  s.values = p.length - 1;
  s.clients = p.capacity();
  return s;
}

Weight choose_weight(uint64_t requested, const Spec& s, bool strict) {
  if (requested == 0) throw Error(Exit::usage, "--weight is 0: a weight must be at least 1");
  if (requested > kMaxWeight)
    throw Error(Exit::usage, fmt::format("--weight {} is above 2^32, the largest weight secagg supports", requested));
  if (requested <= s.max_weight) return {requested, false};
  if (strict)
    throw Error(Exit::usage, fmt::format("--weight {} is above the session's maximum weight {} (--strict-weight)",
                                         requested, s.max_weight));
  return {s.max_weight, true};
}

void check_length(size_t n, const Spec& s, const std::string& origin) {
  if (n != s.values)
    throw Error(Exit::data, fmt::format("{}: {} values, the session expects {} (its ring vectors have {} elements with "
                                        "the weight)",
                                        origin, n, s.values, s.values + 1));
}

uint64_t handle_nonfinite(std::vector<double>& x, NonFinite policy, const std::string& origin) {
  uint64_t replaced = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isfinite(x[i])) continue;
    if (policy == NonFinite::refuse)
      throw Error(Exit::data, fmt::format("{}: value {} is {}: refusing NaN and infinite values (--nan zero "
                                          "replaces them by 0)",
                                          origin, i, std::isnan(x[i]) ? "NaN" : x[i] > 0 ? "+inf" : "-inf"));
    x[i] = 0;
    ++replaced;
  }
  return replaced;
}

double scaled(double x, const Spec& s) {
  double c = s.clip;
  x = std::clamp(x, -c, c);
  double q = (x + c) / (2 * c) * static_cast<double>(s.levels());
  return std::clamp(q, 0.0, static_cast<double>(s.levels()));
}

uint64_t round_stochastic(double q, uint64_t u53) {
  double fl = std::floor(q);
  double frac = q - fl;  // exact: q < 2^32
  // u53 / 2^53 < frac, computed exactly: frac * 2^53 is exact too.
  bool up = static_cast<double>(u53) < frac * 9007199254740992.0;
  return static_cast<uint64_t>(fl) + (up ? 1 : 0);
}

uint64_t round_nearest(double q) { return static_cast<uint64_t>(std::round(q)); }

std::vector<uint64_t> encode(std::span<const double> x, const Spec& s, uint64_t weight, Rounding r,
                             const std::string& origin, EncodeStats* stats) {
  check_length(x.size(), s, origin);
  if (weight < 1 || weight > s.max_weight)
    throw Error(Exit::software, fmt::format("weight {} outside [1, {}]", weight, s.max_weight));
  std::vector<uint64_t> out(x.size() + 1);
  out[0] = weight;
  EncodeStats st;
  const uint64_t m = s.levels();
  constexpr size_t kChunk = 4096;
  uint8_t coin_bytes[kChunk * 8];
  // Stochastic rounding draws its coins from a ChaCha20 keystream under one fresh 32-byte key
  // (random_bytes: the system's generator, or the deterministic test mode), not from the system's
  // generator for every word: a getrandom(2) call per 32 KiB cost as much as masking the vector.
  Secret32 key;
  std::optional<Keystream> coins;
  if (r == Rounding::stochastic) {
    random_bytes(key.data(), key.size());
    coins.emplace(PrgKind::chacha20, key.data());
  }
  for (size_t base = 0; base < x.size(); base += kChunk) {
    size_t n = std::min(kChunk, x.size() - base);
    if (coins) coins->generate(8 * base, coin_bytes, 8 * n);
    for (size_t k = 0; k < n; ++k) {
      double v = x[base + k];
      if (!std::isfinite(v))
        throw Error(Exit::data, fmt::format("{}: value {} is not a finite number", origin, base + k));
      if (v < -s.clip || v > s.clip) ++st.clipped;
      double q = scaled(v, s);
      uint64_t level = r == Rounding::stochastic ? round_stochastic(q, le::get64(coin_bytes + 8 * k) >> 11) : round_nearest(q);
      out[base + 1 + k] = std::min(level, m) * weight;
    }
  }
  sodium_memzero(coin_bytes, sizeof coin_bytes);
  if (stats) *stats = st;
  return out;
}

Average decode(std::span<const uint64_t> sum, const Spec& s, const std::string& origin) {
  if (sum.size() != s.values + 1)
    throw Error(Exit::data, fmt::format("{}: aggregate has {} elements, the session expects {}", origin, sum.size(),
                                        s.values + 1));
  Average a;
  a.total_weight = sum[0];
  const uint64_t w = sum[0];
  if (w == 0)
    throw Error(Exit::data, origin + ": element 0 (the total weight) is 0: no client contributed, or this is not the "
                                     "aggregate of quantized inputs");
  // n * max_weight * M < 2^62 (validate_params), so these products cannot overflow.
  const uint64_t max_total = s.clients * s.max_weight;
  if (w > max_total)
    throw Error(Exit::data, fmt::format("{}: element 0 (the total weight) is {}, above {} clients x max weight {} = {}: "
                                        "not the aggregate of this session's quantized inputs",
                                        origin, w, s.clients, s.max_weight, max_total));
  const uint64_t m = s.levels();
  const uint64_t top = w * m;
  a.values.resize(sum.size() - 1);
  for (size_t j = 1; j < sum.size(); ++j) {
    if (sum[j] > top)
      throw Error(Exit::data, fmt::format("{}: element {} is {}, above total weight {} x (2^{} - 1) = {}: not the "
                                          "aggregate of this session's quantized inputs",
                                          origin, j, sum[j], w, s.bits, top));
    // The mean level S_j / W, as quotient plus remainder so that nothing is lost to a
    // 53-bit conversion of S_j.
    double mean = static_cast<double>(sum[j] / w) + static_cast<double>(sum[j] % w) / static_cast<double>(w);
    a.values[j - 1] = s.clip * (2 * mean / static_cast<double>(m) - 1);
  }
  return a;
}

double error_bound(const Spec& s, Rounding r) { return r == Rounding::nearest ? s.step() / 2 : s.step(); }

}  // namespace secagg::quant
