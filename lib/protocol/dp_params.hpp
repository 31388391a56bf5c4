// Setting up a distributed-DP session (docs/privacy.md, "Calibration"): the noise for the fewest
// honest contributors the session can end with, the scale that keeps the sum inside the ring,
// and the noise multiplier for a target epsilon.
#pragma once
#include <cmath>
#include <cstdint>

#include "dp_accounting.hpp"
#include "messages.hpp"

namespace secagg {

struct DdgRequest {
  double l2_clip = 0;
  double noise_multiplier = 0;  // 0: the smallest that meets target_epsilon over `rounds`
  double target_epsilon = 0;
  double delta = 1e-5;
  uint64_t rounds = 1;
  double sampling = 1;  // Poisson sampling rate of the clients per round (for target_epsilon)
  unsigned bits = 0;    // the ring is 2^bits
  uint64_t input_length = 0;
  double beta = std::exp(-0.5);  // the DDG paper's choice for conditional rounding
};

// The honest contributors the noise is calibrated for: t - C (C = 0 in an honest-but-curious
// session): a session that ends with U3 of t clients, C of them colluding with the server,
// still has t - C honest noises in its sum.
uint32_t dp_min_contributors(const Params& p);

// Fills p's DP fields, its modulus 2^bits and its length, for p's clients, threshold and
// threat model. Throws Error(Exit::usage) naming the smallest valid value of a bad setting.
void setup_ddg(Params& p, const DdgRequest& r);

// The accountant's view of a DP session's parameters.
dp::DdgSetting ddg_setting(const Params& p);

// The smallest --bits with which n clients' sum has room in the ring (4 stddevs: DDG, 4.4).
unsigned dp_min_bits(uint32_t n);

}  // namespace secagg
