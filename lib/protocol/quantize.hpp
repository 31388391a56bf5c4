// Quantization of float updates into the ring, and back (secagg-quantize).
//
// A session with a quantization spec (Params: quant_bits b, clip c, max_weight) sums
// ring vectors of length L + 1. With M = 2^b - 1 and step = 2c / M, client i with weight
// w_i (1 <= w_i <= max_weight) and floats x_i1 .. x_iL sends
//
//   element 0:  w_i
//   element j:  w_i * q_ij,   q_ij = round((clamp(x_ij, -c, c) + c) / (2c) * M)  in [0, M]
//
// where round is unbiased stochastic rounding (up with probability equal to the fraction,
// so E[q_ij] is the unrounded value) or rounding to nearest, ties up. The sum over the
// contributing clients is W = sum w_i in element 0 and S_j = sum w_i q_ij in element j;
// it cannot wrap because validate_params requires R > n * max_weight * M. Decoding gives
//
//   a_j = c * (2 * (S_j / W) / M - 1),
//
// the weighted average of the dequantized values. Its distance from the weighted average
// sum w_i clamp(x_ij, -c, c) / W is at most step / 2 with rounding to nearest and less
// than one step with stochastic rounding (zero in expectation), up to floating-point
// rounding (relative 1e-15 or so of c).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "messages.hpp"

namespace secagg::quant {

enum class Rounding { stochastic, nearest };
enum class NonFinite { refuse, zero };

struct Spec {
  unsigned bits = 0;        // b, 1..32
  double clip = 0;          // c > 0
  uint64_t max_weight = 0;  // 1..2^32
  uint64_t values = 0;      // L: floats per update (the ring vector has L + 1 elements)
  uint64_t clients = 0;     // n (in a hierarchical top session, n x shard_clients: Params::capacity)

  uint64_t levels() const { return (uint64_t{1} << bits) - 1; }  // M
  double step() const { return 2 * clip / static_cast<double>(levels()); }
};

// The spec of a session. Throws Error(Exit::data) naming origin if the session has no
// quantization spec. p must have passed validate_params.
Spec spec_of(const Params& p, const std::string& origin);

// The largest weight a client can give: 2^32.
inline constexpr uint64_t kMaxWeight = uint64_t{1} << 32;

struct Weight {
  uint64_t used = 0;
  bool capped = false;  // requested was above the session's max_weight
};
// Check a client's weight: 0 or above 2^32 is Error(Exit::usage); above max_weight it is
// capped to max_weight, or Error(Exit::usage) when strict.
Weight choose_weight(uint64_t requested, const Spec& s, bool strict);

// Refuse (Error(Exit::data) naming origin) an update that does not have s.values floats.
void check_length(size_t n, const Spec& s, const std::string& origin);

// Replace NaN and infinite values by 0 (NonFinite::zero), or refuse the first one with
// Error(Exit::data) naming origin and its index. Returns the number replaced.
uint64_t handle_nonfinite(std::vector<double>& x, NonFinite policy, const std::string& origin);

// The level of one finite value: (clamp(x, -c, c) + c) / (2c) * M, in [0, M], computed in
// exactly this order (secagg-quantize(1) documents it).
double scaled(double x, const Spec& s);
// Stochastic rounding of a level with a uniform 53-bit number u53: floor(q), plus 1 if
// u53 / 2^53 < q - floor(q).
uint64_t round_stochastic(double q, uint64_t u53);
uint64_t round_nearest(double q);

struct EncodeStats {
  uint64_t clipped = 0;  // values outside [-c, c]
};
// The ring vector of one client: [w, w*q_1, ..., w*q_L]. x must have s.values finite
// elements (Error(Exit::data) naming origin otherwise). Stochastic rounding draws from
// secagg::random_bytes.
std::vector<uint64_t> encode(std::span<const double> x, const Spec& s, uint64_t weight, Rounding r,
                             const std::string& origin, EncodeStats* stats = nullptr);

struct Average {
  uint64_t total_weight = 0;  // W, element 0 of the sum
  std::vector<double> values;
};
// Decode an aggregate (length L + 1). Refuses with Error(Exit::data) naming origin: a
// total weight of 0 or above n * max_weight, or an element above W * M (neither can be a
// sum of this session's quantized inputs).
Average decode(std::span<const uint64_t> sum, const Spec& s, const std::string& origin);

// The bound on |decoded - weighted average of the clipped inputs| for every element: step/2
// for rounding to nearest, step for stochastic rounding (which stays strictly below it).
// Floating-point rounding comes on top (see above).
double error_bound(const Spec& s, Rounding r);

}  // namespace secagg::quant
