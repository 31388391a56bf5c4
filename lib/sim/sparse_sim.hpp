// One sparse round in one process (secagg-sim --sparse; docs/sparse.md): a union session whose
// clients encode their top residual indices, the selection decoded from its aggregate, and a
// values session over that selection, each a whole simulated session (sim.hpp) with its costs,
// plus, for comparison, the dense session that would send every entry. Checked against the
// truth computed in the clear: the union, R_max, and the decoded weighted average on M.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "sim.hpp"
#include "sparse_union.hpp"

namespace secagg {

struct SparseSimConfig {
  // n, t, neighbours, PRG, threads, seed, dropouts (the same plan in every session) and progress;
  // its length, modulus and quantization are set here per session. Honest-but-curious only (an
  // active session is Error(Exit::usage)).
  SimConfig sim;
  UnionMode mode = UnionMode::private_;
  uint64_t model_length = 0;  // N
  uint64_t k = 0;             // K: each client proposes floor(K / n) indices
  unsigned bits = 16;         // the values' quantization
  double cells_factor = kDefaultCellsFactor;
  bool dense = false;         // also run the dense session of N + 1 elements (its costs only)
};

struct SparseSimReport {
  SimReport union_session, values_session;  // values_session: only if the union decoded
  std::optional<SimReport> dense_session;
  uint64_t selected = 0;                    // |M|
  double r_max = 0;                         // as the selection says
  double true_max = 0;                      // max |R_k| over the union session's U3
  double max_error = 0, error_bound = 0;    // |decoded - true weighted average| on M, and its bound
  SimOutcome outcome = SimOutcome::matched;
  std::string message;                      // why not matched
};

// Client id's residual in the simulation: N float32 values drawn from (seed, id), a few large
// entries on a small background, so that top-k has something to find.
std::vector<float> sparse_sim_residual(uint64_t seed, uint32_t id, uint64_t model_length);

// Throws Error(Exit::usage) for a bad config; an abort or a mismatch is a report.
SparseSimReport run_sparse_simulation(const SparseSimConfig& cfg);

}  // namespace secagg
