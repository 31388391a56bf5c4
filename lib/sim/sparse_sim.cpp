#include "sparse_sim.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "crypto.hpp"
#include "error.hpp"
#include "params.hpp"
#include "quantize.hpp"
#include "residual.hpp"
#include "splitmix.hpp"
#include "thread_pool.hpp"

namespace secagg {
namespace {

ssga::Residual residual_of(uint64_t seed, uint32_t id, uint64_t model_length) {
  ssga::Residual r;
  r.dtype = npy::Dtype::f32;
  r.f32 = sparse_sim_residual(seed, id, model_length);
  r.origin = fmt::format("residual of client {}", id);
  return r;
}

// The clients in U3 of a session run with cfg's dropout plan: those still there after round 2.
std::vector<uint32_t> survivors_of(const SimConfig& cfg) {
  const std::vector<Round> vanish = plan_dropouts(cfg);
  std::vector<uint32_t> u3;
  for (uint32_t id = 1; id <= vanish.size(); ++id)
    if (vanish[id - 1] > Round::r2) u3.push_back(id);
  return u3;
}

// R_max as the selection gives it: the true maximum itself (plain), or rounded up to its
// power of two (private).
double expected_r_max(UnionMode mode, float true_max) {
  if (mode == UnionMode::plain || true_max == 0) return true_max;
  return std::ldexp(1.0, bucket_exponent(max_bucket(true_max)));
}

}  // namespace

std::vector<float> sparse_sim_residual(uint64_t seed, uint32_t id, uint64_t model_length) {
  SplitMix g{mix64(seed * 0x9e3779b97f4a7c15ULL + mix64(0x7370617273650000ULL + id))};
  std::vector<float> r(model_length);
  for (auto& x : r) {
    const double u = g.unit();
    // One entry in a hundred is large; the rest are a small background.
    x = static_cast<float>(g.below(100) == 0 ? 2 * u - 1 : 0.01 * (2 * u - 1));
  }
  return r;
}

SparseSimReport run_sparse_simulation(const SparseSimConfig& cfg) {
  const uint32_t n = cfg.sim.params.clients;
  if (n == 0) throw Error(Exit::usage, "--clients is required");
  // The sparse sessions' parameters (a union, a values session) have not been made for active
  // sessions; no sparse session of either kind runs in one.
  if (cfg.sim.params.active())
    throw Error(Exit::usage, "--sparse runs honest-but-curious sessions only: it is not available with "
                             "--threat-model active");
  if (cfg.k / n < 1)
    throw Error(Exit::usage, fmt::format("--sparse K = {} is below n = {}: each client must send at least one entry",
                                         cfg.k, n));
  const auto per_client = static_cast<uint32_t>(std::min<uint64_t>(cfg.k / n, cfg.model_length));
  const UnionSpec spec = size_union(cfg.mode, cfg.model_length, n, per_client, cfg.cells_factor);

  // Every client's top entries, made once (its residual is a function of (seed, id)).
  std::vector<std::vector<uint32_t>> top(n);
  std::vector<float> top_max(n);
  parallel_for(n, cfg.sim.threads, [&](size_t i) {
    const ssga::TopK t = ssga::select_top(residual_of(cfg.sim.seed, static_cast<uint32_t>(i + 1), cfg.model_length),
                                          per_client);
    top[i] = t.indices;
    top_max[i] = static_cast<float>(t.max_abs);
  });

  SparseSimReport rep;
  const std::vector<uint32_t> u3 = survivors_of(cfg.sim);
  SimConfig base = cfg.sim;
  base.params = with_sim_defaults(base.params);

  // The union session.
  SimConfig us = base;
  Params& up = us.params;
  up.sparse = cfg.mode == UnionMode::plain ? SparseKind::union_plain : SparseKind::union_private;
  up.model_length = cfg.model_length;
  up.per_client = per_client;
  up.union_cells = spec.cells;
  up.length = union_vector_length(spec);
  up.modulus = uint64_t{1} << union_modulus_bits(spec);
  up.quant_bits = 0;
  up.clip = 0;
  up.max_weight = 0;
  us.input = [&](uint32_t id, const SessionId& sid) {
    return encode_union(spec, sid, id, top[id - 1], top_max[id - 1]);
  };
  rep.union_session = run_simulation(us);
  if (rep.union_session.outcome != SimOutcome::matched) {
    rep.outcome = rep.union_session.outcome;
    rep.message = "union session: " + rep.union_session.message;
    return rep;
  }

  // The selection, checked against the union and maximum computed in the clear.
  UnionView view;
  try {
    view = decode_union(spec, rep.union_session.session, rep.union_session.aggregate, "union aggregate");
  } catch (const Error& e) {
    if (e.code() != Exit::data) throw;
    rep.outcome = SimOutcome::aborted;
    rep.message = e.what();
    return rep;
  }
  std::vector<uint32_t> truth;
  float true_max = 0;
  for (uint32_t id : u3) {
    truth.insert(truth.end(), top[id - 1].begin(), top[id - 1].end());
    true_max = std::max(true_max, top_max[id - 1]);
  }
  std::sort(truth.begin(), truth.end());
  truth.erase(std::unique(truth.begin(), truth.end()), truth.end());
  rep.selected = view.indices.size();
  rep.r_max = view.r_max;
  rep.true_max = true_max;
  if (view.indices != truth || view.r_max != expected_r_max(cfg.mode, true_max)) {
    rep.outcome = SimOutcome::mismatched;
    rep.message = fmt::format("the decoded union ({} indices, R_max {}) is not the true one ({} indices, R_max {})",
                              view.indices.size(), view.r_max, truth.size(), expected_r_max(cfg.mode, true_max));
    return rep;
  }
  if (view.indices.empty() || !(view.r_max > 0)) {
    rep.outcome = SimOutcome::aborted;
    rep.message = "the selection is empty or all its residuals are zero: no values session";
    return rep;
  }
  Selection sel;
  sel.mode = up.sparse;
  sel.model_length = cfg.model_length;
  sel.indices = view.indices;
  sel.r_max = view.r_max;
  const Bytes sel_msg = encode(MsgType::selection, rep.union_session.session, kServerId, kServerId, sel);

  // The values session: each client's residual on M, quantized with clip R_max and weight 1.
  SimConfig vs = base;
  Params& vp = vs.params;
  vp.quant_bits = static_cast<uint8_t>(cfg.bits);
  vp.clip = view.r_max;
  vp.max_weight = 1;
  vp.length = view.indices.size() + 1;
  vp.modulus = uint64_t{1} << auto_modulus_bits(n, 1, cfg.bits);
  vp.sparse = SparseKind::values;
  vp.model_length = cfg.model_length;
  vp.selection = blake2b_256(sel_msg);
  validate_params(vp);
  const quant::Spec qs = quant::spec_of(vp, "values session");
  vs.input = [&](uint32_t id, const SessionId&) {
    const ssga::Residual r = residual_of(cfg.sim.seed, id, cfg.model_length);
    return quant::encode(ssga::gather(r, view.indices, "selection"), qs, 1, quant::Rounding::nearest, r.origin);
  };
  rep.values_session = run_simulation(vs);
  if (rep.values_session.outcome != SimOutcome::matched) {
    rep.outcome = rep.values_session.outcome;
    rep.message = "values session: " + rep.values_session.message;
    return rep;
  }

  // The decoded average against the clients' residuals on M, averaged in the clear.
  const quant::Average avg = quant::decode(rep.values_session.aggregate, qs, "values aggregate");
  std::vector<double> mean(view.indices.size(), 0);
  for (uint32_t id : u3) {
    const std::vector<double> x = ssga::gather(residual_of(cfg.sim.seed, id, cfg.model_length), view.indices, "selection");
    for (size_t j = 0; j < x.size(); ++j) mean[j] += std::clamp(x[j], -qs.clip, qs.clip);
  }
  for (size_t j = 0; j < mean.size(); ++j) {
    mean[j] /= static_cast<double>(u3.size());
    rep.max_error = std::max(rep.max_error, std::abs(avg.values[j] - mean[j]));
  }
  rep.error_bound = quant::error_bound(qs, quant::Rounding::nearest);
  if (avg.total_weight != u3.size() || rep.max_error > rep.error_bound * (1 + 1e-9) + 1e-12) {
    rep.outcome = SimOutcome::mismatched;
    rep.message = fmt::format("the decoded average on M is off by {} (bound {}), total weight {} of {} clients",
                              rep.max_error, rep.error_bound, avg.total_weight, u3.size());
    return rep;
  }

  if (cfg.dense) {
    // What sending every entry costs: the same clients, N values and the weight, the same ring.
    SimConfig ds = base;
    Params& dp = ds.params;
    dp.quant_bits = vp.quant_bits;
    dp.clip = vp.clip;
    dp.max_weight = 1;
    dp.length = cfg.model_length + 1;
    dp.modulus = vp.modulus;
    validate_params(dp);
    rep.dense_session = run_simulation(ds);
  }
  return rep;
}

}  // namespace secagg
