#include "graph_bounds.hpp"

#include <cmath>

#include <fmt/format.h>

#include "params.hpp"

namespace secagg {
namespace {

// Guards the floor/ceil of rate * n against rounding in the insecure direction.
constexpr double kSmall = 1e-14;
constexpr double kSecurityBits = 41;     // 2^-40 split over two bad events
constexpr double kCorrectnessBits = 20;
constexpr double kActiveSecurityBits = 80;  // per roster: a grinding server tries many

double log_choose(double a, double b) { return std::lgamma(a + 1) - std::lgamma(b + 1) - std::lgamma(a - b + 1); }

// P[X = x] for X hypergeometric: x marked among `draws` drawn from `population` holding `marked`.
double hyper_pmf(uint32_t population, uint32_t marked, uint32_t draws, uint32_t x) {
  if (x > draws || x > marked || draws - x > population - marked) return 0;
  return std::exp(log_choose(marked, x) + log_choose(population - marked, draws - x) - log_choose(population, draws));
}

}  // namespace

GraphBounds graph_bounds(uint32_t n, uint32_t k, double corruption, double dropout) {
  GraphBounds b;
  const auto corrupted = static_cast<uint32_t>(std::floor((corruption + kSmall) * n));
  const auto dropped = static_cast<uint32_t>(std::floor((dropout + kSmall) * n));
  const auto surviving = static_cast<uint32_t>(std::ceil((1 - dropout - kSmall) * n));
  const uint32_t bad = corrupted + dropped;

  // Removing bad clients disconnects a Harary graph only if two separate runs of k/2
  // consecutive clients on its cycle are all bad: k bad clients in given places, for each
  // of about n(n - k - 1)/2 pairs of places.
  if (k > bad || k + 1 >= n) {
    b.log2_disconnect = -INFINITY;
  } else {
    double pairs = std::log(n) + std::log(n - k - 1) - std::log(2);
    b.log2_disconnect =
        (pairs + std::lgamma(bad + 1) + std::lgamma(n - k + 1) - std::lgamma(n + 1) - std::lgamma(bad - k + 1)) /
        std::log(2);
  }
  b.connected = b.log2_disconnect < -kSecurityBits;

  // Security: smallest t with P[corrupted neighbours >= t] <= 2^-41 / n.
  const double eps_s = std::exp2(-kSecurityBits) / n;
  double tail = 0;
  b.t_min = 0;
  for (uint32_t x = k + 1; x-- > 0;) {
    tail += hyper_pmf(n, corrupted, k, x);
    if (tail > eps_s) {
      b.t_min = x + 1;
      break;
    }
  }
  b.t_min = std::max(b.t_min, (k + 1) / 2 + 1);  // honest majority of the k + 1 holders

  // Correctness: largest t with P[surviving neighbours < t] <= 2^-20 / n.
  const double eps_c = std::exp2(-kCorrectnessBits) / n;
  double cdf = 0;
  b.t_max = k;
  for (uint32_t x = 0; x <= k; ++x) {
    double p = hyper_pmf(n, surviving, k, x);
    if (cdf + p > eps_c) {
      b.t_max = x;
      break;
    }
    cdf += p;
  }
  return b;
}

std::string check_graph(uint32_t n, uint32_t k, uint32_t t, double corruption, double dropout) {
  GraphBounds b = graph_bounds(n, k, corruption, dropout);
  std::string rates = fmt::format("for {} clients with {:g}% corrupted and {:g}% dropping out", n, corruption * 100,
                                  dropout * 100);
  if (!b.connected)
    return fmt::format("{} neighbours is too few {}: the honest survivors' graph falls apart with probability up to "
                       "2^{:.1f} (Bell et al. ask < 2^-41); choose more neighbours (--neighbours auto finds the fewest)",
                       k, rates, b.log2_disconnect);
  if (b.t_min > b.t_max)
    return fmt::format("no threshold works with {} neighbours {}: security needs t >= {}, correctness needs t <= {}; "
                       "choose more neighbours (--neighbours auto finds the fewest)",
                       k, rates, b.t_min, b.t_max);
  if (t < b.t_min)
    return fmt::format("threshold {} is too low with {} neighbours {}: a client could have {} corrupted neighbours "
                       "with probability above 2^-41/n, letting the server reconstruct its secrets (use t in [{}, {}])",
                       t, k, rates, t, b.t_min, b.t_max);
  if (t > b.t_max)
    return fmt::format("threshold {} is too high with {} neighbours {}: a client keeps fewer than {} surviving "
                       "neighbours with probability above 2^-20/n and the session would abort (use t in [{}, {}])",
                       t, k, rates, t, b.t_min, b.t_max);
  return {};
}

std::optional<GraphChoice> choose_graph(uint32_t n, double corruption, double dropout) {
  for (uint32_t k = 2; k < n - 1; k += 2) {
    GraphBounds b = graph_bounds(n, k, corruption, dropout);
    if (b.connected && b.t_min <= b.t_max) return GraphChoice{k, b.t_min};
  }
  return std::nullopt;
}

uint32_t likely_corrupt_neighbours(uint32_t n, uint32_t k, uint32_t corrupt) {
  if (n < 2 || k + 1 >= n) return corrupt;
  // Summed from the top, so the tail is exact where it matters (far below 2^-80).
  const double eps = std::exp2(-kActiveSecurityBits) / n;
  double tail = 0;
  for (uint32_t x = std::min(k, corrupt) + 1; x-- > 0;) {
    tail += hyper_pmf(n - 1, corrupt, k, x);
    if (tail > eps) return x;
  }
  return 0;
}

std::optional<GraphChoice> choose_active_graph(uint32_t n, uint32_t corrupt, double dropout) {
  const double corruption = n ? static_cast<double>(corrupt) / n : 0;
  for (uint32_t k = 2; k + 1 < n; k += 2) {
    GraphBounds b = graph_bounds(n, k, corruption, dropout);
    const uint32_t t = min_active_threshold(n, k, corrupt);
    if (b.connected && t <= b.t_max && likely_corrupt_neighbours(n, k, corrupt) < k) return GraphChoice{k, t};
  }
  return std::nullopt;
}

}  // namespace secagg
