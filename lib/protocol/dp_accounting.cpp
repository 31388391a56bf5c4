#include "dp_accounting.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace secagg::dp {

namespace {

constexpr double kPi = 3.14159265358979323846;

// log(sum exp(a_i) * b_i) over b_i > 0, without overflow.
double log_sum_exp(const std::vector<double>& a, const std::vector<double>& b) {
  double m = -std::numeric_limits<double>::infinity();
  for (double x : a) m = std::max(m, x);
  if (!std::isfinite(m)) return m;
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += b[i] * std::exp(a[i] - m);
  return m + std::log(sum);
}

double log_binomial(int n, int k) { return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0); }

}  // namespace

double local_stddev(const DdgSetting& s) {
  return s.noise_multiplier * s.l2_clip / std::sqrt(static_cast<double>(s.contributors));
}

double rounded_l2_bound(double norm, double beta, uint64_t dim) {
  const double d = static_cast<double>(dim);
  // Rounding moves each coordinate by less than 1: the norm grows by at most sqrt(d).
  const double always = norm + std::sqrt(d);
  if (beta <= 0) return always;
  // Conditional rounding: a rounding is kept only if its squared norm is within this bound.
  const double squared = norm * norm + d / 4 + std::sqrt(2 * std::log(1 / beta)) * (norm + std::sqrt(d) / 2);
  return std::min(always, std::sqrt(squared));
}

double ddg_tau(double scaled_local_stddev, uint32_t n) {
  const double a = 2 * kPi * kPi * scaled_local_stddev * scaled_local_stddev;
  double tau = 0;
  for (uint32_t k = 1; k < n; ++k) {
    const double term = std::exp(-a * k / (k + 1.0));
    tau += term;
    // The terms fall with k (towards exp(-a)): once one is 0, so are the rest.
    if (term == 0) break;
  }
  return 10 * tau;
}

namespace {

// What the RDP bound of one round depends on, computed once per setting (tau sums n terms).
struct RdpTerms {
  double l2s, l1s, tau, d;
};

RdpTerms rdp_terms(const DdgSetting& s) {
  const double scaled_sigma = s.scale * local_stddev(s);
  // Sensitivities in the scaled, rounded domain, over the stddev of the summed noise there.
  const double l2 = rounded_l2_bound(s.scale * s.l2_clip, s.beta, s.dim);
  const double l1 = l2 * std::min(std::sqrt(static_cast<double>(s.dim)), l2);
  const double central = std::sqrt(static_cast<double>(s.contributors)) * scaled_sigma;
  return {.l2s = l2 / central,
          .l1s = l1 / central,
          .tau = ddg_tau(scaled_sigma, s.contributors),
          .d = static_cast<double>(s.dim)};
}

double rdp_at(const RdpTerms& r, double alpha) {
  const double t1 = alpha / 2 * r.l2s * r.l2s + r.tau * r.d;
  const double t2 = alpha / 2 * (r.l2s * r.l2s + 2 * r.l1s * r.tau + r.tau * r.tau * r.d);
  const double t3 = alpha / 2 * (r.l2s + std::sqrt(r.d) * r.tau) * (r.l2s + std::sqrt(r.d) * r.tau);
  return std::min({t1, t2, t3});
}

}  // namespace

double ddg_rdp(const DdgSetting& s, double alpha) { return rdp_at(rdp_terms(s), alpha); }

double subsampled_rdp(int alpha, double q, const std::vector<double>& rdp_by_order) {
  const double own = rdp_by_order[static_cast<size_t>(alpha)];
  if (q >= 1) return own;
  const double lq = std::log(q), l1q = std::log1p(-q);
  std::vector<double> a{0, rdp_by_order[2]};
  std::vector<double> b{std::pow(1 - q, alpha - 1) * (alpha * q - q + 1),
                        std::exp(log_binomial(alpha, 2) + 2 * lq + (alpha - 2) * l1q)};
  for (int l = 3; l <= alpha; ++l) {
    a.push_back((l - 1) * rdp_by_order[static_cast<size_t>(l)] + log_binomial(alpha, l) + (alpha - l) * l1q + l * lq);
    b.push_back(3);
  }
  return std::min(own, log_sum_exp(a, b) / (alpha - 1));
}

const std::vector<int>& rdp_orders() {
  static const std::vector<int> orders = [] {
    std::vector<int> o;
    for (int a = 2; a <= 128; ++a) o.push_back(a);
    o.push_back(256);
    return o;
  }();
  return orders;
}

Guarantee ddg_epsilon(const DdgSetting& s, uint64_t rounds, double q, double delta) {
  const int top = rdp_orders().back();
  // The mechanism's RDP at every integer order up to the largest: subsampling at order alpha
  // needs all the orders below it.
  const RdpTerms terms = rdp_terms(s);
  std::vector<double> rdp(static_cast<size_t>(top) + 1, 0);
  for (int a = 2; a <= top; ++a) rdp[static_cast<size_t>(a)] = rdp_at(terms, a);
  Guarantee g{.epsilon = std::numeric_limits<double>::infinity(), .delta = delta, .order = 0};
  for (int a : rdp_orders()) {
    const double total = static_cast<double>(rounds) * subsampled_rdp(a, q, rdp);
    const double eps = total + std::log1p(-1.0 / a) - (std::log(delta) + std::log(static_cast<double>(a))) / (a - 1);
    if (eps < g.epsilon) {
      g.epsilon = eps;
      g.order = a;
    }
  }
  // The conversion can go below 0 for a large delta; epsilon is never negative. Clamped only
  // here, so that the order reported is the one that gave the least epsilon.
  g.epsilon = std::max(g.epsilon, 0.0);
  return g;
}

double choose_scale(double l2_clip, double local_stddev, uint32_t n_max, uint64_t dim, unsigned bits, double k) {
  const double n = n_max, two_2b = std::ldexp(1.0, 2 * static_cast<int>(bits));
  if (two_2b <= n * k * k) return 0;
  const double numer = std::sqrt(two_2b - n * k * k);
  const double denom =
      2 * k * std::sqrt(l2_clip * l2_clip * n * n / static_cast<double>(dim) + n * local_stddev * local_stddev);
  return numer / denom;
}

}  // namespace secagg::dp
