// Privacy accounting for distributed differential privacy with the distributed discrete
// Gaussian (DDG: Kairouz, Liu and Steinke, "The Distributed Discrete Gaussian Mechanism for
// Federated Learning with Secure Aggregation", ICML 2021). docs/privacy.md gives every formula
// with its source; the names below follow it.
#pragma once
#include <cstdint>
#include <vector>

namespace secagg::dp {

// One round's mechanism as the accountant sees it.
struct DdgSetting {
  double l2_clip = 0;           // c: each client's update is clipped to L2 norm c
  double noise_multiplier = 0;  // z: the honest contributors' summed noise has stddev z * c
  double beta = 0;              // conditional rounding: rounding is retried while the norm
                                // exceeds its bound, which a rounding passes w.p. >= 1 - beta
  double scale = 0;             // s: values are multiplied by s before rounding to integers
  uint64_t dim = 0;             // d: the padded (power of two) vector length
  uint32_t contributors = 0;    // n: the honest contributors the noise is calibrated for
};

// The stddev each client's noise has before scaling: z c / sqrt(n), so that n honest clients'
// noise adds up to stddev z c.
double local_stddev(const DdgSetting& s);

// The L2 norm bound of a vector of norm <= `norm` after conditional randomized rounding to the
// integer grid in d dimensions (DDG, Theorem 1 with beta; beta = 0: unconditional).
double rounded_l2_bound(double norm, double beta, uint64_t dim);

// tau of DDG Theorem 1: how far a sum of n discrete Gaussians of variance sigma^2 (scaled
// domain) is from one discrete Gaussian of variance n sigma^2, as it enters the RDP bound.
double ddg_tau(double scaled_local_stddev, uint32_t n);

// The Renyi DP of order alpha of one round (DDG, Proposition 14 with Theorem 1), in nats.
double ddg_rdp(const DdgSetting& s, double alpha);

// RDP of the Poisson-subsampled mechanism with sampling rate q at integer order alpha >= 2
// (Zhu and Wang, "Poisson Subsampled Renyi Differential Privacy", ICML 2019, Theorem 5), from
// the mechanism's RDP at orders 2..alpha; never above the mechanism's own RDP at alpha.
double subsampled_rdp(int alpha, double q, const std::vector<double>& rdp_by_order);

// The orders the accountant tries: 2..128 and 256 (integers, as subsampling needs).
const std::vector<int>& rdp_orders();

struct Guarantee {
  double epsilon = 0;
  double delta = 0;
  int order = 0;  // the Renyi order that gave epsilon
};

// (epsilon, delta) of `rounds` rounds, each over a Poisson sample of rate q (1: every client),
// composed in RDP and converted with the conversion of Canonne, Kamath and Steinke ("The
// Discrete Gaussian for Differential Privacy", NeurIPS 2020, Proposition 12).
Guarantee ddg_epsilon(const DdgSetting& s, uint64_t rounds, double q, double delta);

// The scale s that keeps k stddevs of the sum of n_max clients' rotated, scaled, rounded and
// noised values inside the ring of 2^bits (DDG Section 4.4, with the rotation's flatness
// rho = 1): s = sqrt(2^{2b} - n k^2) / (2 k sqrt(c^2 n^2 / d + n sigma_l^2)). 0 when the ring
// is too small for n_max clients at any scale (2^{2b} <= n k^2).
double choose_scale(double l2_clip, double local_stddev, uint32_t n_max, uint64_t dim, unsigned bits, double k = 4);

}  // namespace secagg::dp
