#include "dp_params.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "params.hpp"

namespace secagg {

namespace {

constexpr double kStddevs = 4;  // k of DDG Section 4.4: the sum's stddevs the ring must hold

dp::DdgSetting setting_for(const Params& p, const DdgRequest& r, double z) {
  dp::DdgSetting s{.l2_clip = r.l2_clip,
                   .noise_multiplier = z,
                   .beta = r.beta,
                   .scale = 0,
                   .dim = dp_padded_length(r.input_length),
                   .contributors = dp_min_contributors(p)};
  s.scale = dp::choose_scale(s.l2_clip, dp::local_stddev(s), p.clients, s.dim, r.bits, kStddevs);
  return s;
}

// The smallest z (to 0.1%) whose epsilon over the rounds is at most the target: epsilon falls as
// z grows, so bisect on log z.
double noise_for_target(const Params& p, const DdgRequest& r) {
  auto eps = [&](double z) { return dp::ddg_epsilon(setting_for(p, r, z), r.rounds, r.sampling, r.delta).epsilon; };
  double lo = 1e-3, hi = 1e4;
  if (eps(hi) > r.target_epsilon)
    throw Error(Exit::usage, fmt::format("--target-epsilon {} is out of reach over {} rounds at delta {} even with "
                                         "noise multiplier {} (the rounding alone costs more): raise it, or --bits",
                                         r.target_epsilon, r.rounds, r.delta, hi));
  if (eps(lo) <= r.target_epsilon) return lo;
  while (hi / lo > 1.001) {
    const double mid = std::sqrt(lo * hi);
    (eps(mid) <= r.target_epsilon ? hi : lo) = mid;
  }
  return hi;
}

}  // namespace

uint32_t dp_min_contributors(const Params& p) {
  return p.threshold > p.corrupt ? p.threshold - p.corrupt : 1;
}

unsigned dp_min_bits(uint32_t n) {
  unsigned b = 1;
  while (std::ldexp(1.0, 2 * static_cast<int>(b)) <= double(n) * kStddevs * kStddevs) ++b;
  return b;
}

void setup_ddg(Params& p, const DdgRequest& r) {
  auto bad = [](const std::string& m) { return Error(Exit::usage, m); };
  if (!(r.l2_clip > 0) || !std::isfinite(r.l2_clip))
    throw bad(fmt::format("--l2-clip {} must be a finite number above 0", r.l2_clip));
  if (!(r.delta > 0 && r.delta < 1)) throw bad(fmt::format("--delta {} must be in (0, 1)", r.delta));
  if (!(r.beta >= 0 && r.beta < 1)) throw bad(fmt::format("--beta {} must be in [0, 1)", r.beta));
  if (!(r.sampling > 0 && r.sampling <= 1)) throw bad(fmt::format("--sampling {} must be in (0, 1]", r.sampling));
  if (r.rounds < 1) throw bad("--rounds must be at least 1");
  if (r.input_length < 1 || r.input_length > kMaxLength / 2)
    throw bad(fmt::format("--length {} must be in [1, 2^29]", r.input_length));
  const unsigned min_bits = dp_min_bits(p.clients);
  if (r.bits < min_bits || r.bits > 62)
    throw bad(fmt::format("--bits {} is too few for {} clients: the ring must hold {} stddevs of their sum (the "
                          "smallest valid --bits is {}, at most 62)",
                          r.bits, p.clients, kStddevs, min_bits));
  double z = r.noise_multiplier;
  if (z == 0) {
    if (!(r.target_epsilon > 0) || !std::isfinite(r.target_epsilon))
      throw bad(fmt::format("--target-epsilon {} must be a finite number above 0", r.target_epsilon));
    z = noise_for_target(p, r);
  } else if (!(z > 0) || !std::isfinite(z)) {
    throw bad(fmt::format("--noise-multiplier {} must be a finite number above 0", z));
  }
  const dp::DdgSetting s = setting_for(p, r, z);
  p.dp = DpKind::ddg;
  p.modulus = uint64_t{1} << r.bits;
  p.length = s.dim + 1;
  p.dp_l2_clip = r.l2_clip;
  p.dp_noise_multiplier = z;
  p.dp_beta = r.beta;
  p.dp_scale = s.scale;
  p.dp_delta = r.delta;
  p.dp_contributors = s.contributors;
  p.dp_input_length = r.input_length;
}

dp::DdgSetting ddg_setting(const Params& p) {
  return {.l2_clip = p.dp_l2_clip,
          .noise_multiplier = p.dp_noise_multiplier,
          .beta = p.dp_beta,
          .scale = p.dp_scale,
          .dim = p.length - 1,
          .contributors = p.dp_contributors};
}

}  // namespace secagg
