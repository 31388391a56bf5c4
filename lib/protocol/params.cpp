#include "params.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "error.hpp"
#include "graph_bounds.hpp"
#include "sparse_union.hpp"
#include "uint128.hpp"

namespace secagg {

uint64_t min_modulus_for(uint64_t n, uint64_t max_weight, unsigned bits) {
  if (bits < 1 || bits > 62) return 0;
  u128 need = u128{n} * max_weight * ((u128{1} << bits) - 1) + 1;
  return need > (u128{1} << 62) ? 0 : static_cast<uint64_t>(need);
}

unsigned auto_modulus_bits(uint64_t n, uint64_t max_weight, unsigned bits) {
  uint64_t need = min_modulus_for(n, max_weight, bits);
  if (need == 0) return 0;
  unsigned b = 1;
  while ((uint64_t{1} << b) < need) ++b;
  return b;
}

uint32_t min_secure_threshold(uint32_t n) { return n / 2 + 1; }

uint32_t default_corrupt(uint32_t n) { return n >= 1 ? (n - 1) / 3 : 0; }

uint32_t min_active_threshold(uint32_t n, uint32_t neighbours, uint32_t corrupt) {
  const uint64_t holders = std::min<uint64_t>(uint64_t{neighbours} + 1, n);
  return static_cast<uint32_t>((holders + likely_corrupt_neighbours(n, neighbours, corrupt)) / 2 + 1);
}

namespace {

// The federation fields (docs/shards.md): a shard names its top session; a hierarchical top
// session bounds the clients of each shard. One level only, and dense sessions only (a union's
// encoding is sized for its own n).
void validate_federation(const Params& p) {
  auto bad = [](const std::string& m) { return Error(Exit::usage, m); };
  if (!p.is_shard() && p.shard_clients == 0) return;
  if (p.is_shard() && p.shard_clients != 0)
    throw bad("a session is a shard of a top session or a hierarchical top session, not both");
  if (p.shard_clients > kMaxClients)
    throw bad(fmt::format("shard clients is {}; it must be in [2, 2^20]", p.shard_clients));
  if (p.shard_clients == 1)
    throw bad("shard clients is 1: a shard of one client would give its input to its shard server");
  if (p.sparse != SparseKind::none) throw bad("a sparse session cannot be part of a sharded federation");
}

// The sparse fields (docs/sparse.md): a dense session has none, a union session its model and
// per-client count, a values session its model, its selection and a quantization spec.
void validate_sparse(const Params& p) {
  auto bad = [](const std::string& m) { return Error(Exit::usage, m); };
  const bool is_union = p.sparse == SparseKind::union_plain || p.sparse == SparseKind::union_private;
  if (p.sparse == SparseKind::none) {
    if (p.model_length != 0 || p.per_client != 0 || p.union_cells != 0 || p.selection != Digest32{})
      throw bad("model length, per-client count, union cells and selection belong to a sparse session");
    return;
  }
  if (!is_union && p.sparse != SparseKind::values)
    throw bad(fmt::format("unknown sparse kind {}", static_cast<unsigned>(p.sparse)));
  if (p.model_length < 1 || p.model_length > kMaxModelLength)
    throw bad(fmt::format("model length is {}; it must be in [1, 2^31]", p.model_length));
  if (is_union) {
    if (p.quantized()) throw bad("a union session sums index encodings: it has no quantization spec");
    if (p.per_client < 1 || p.per_client > p.model_length)
      throw bad(fmt::format("per-client count is {}; it must be in [1, model length = {}]", p.per_client,
                            p.model_length));
    if (p.selection != Digest32{}) throw bad("a union session aggregates over no selection");
    if ((p.sparse == SparseKind::union_private) != (p.union_cells != 0))
      throw bad("union cells are the private union's sketch size: given exactly for union-private");
    union_spec(p);  // the vectors are the union encoding's
    return;
  }
  if (!p.quantized()) throw bad("a values session needs a quantization spec (--bits, --clip)");
  if (p.length - 1 > p.model_length)
    throw bad(fmt::format("a values session of {} values exceeds the model length {}", p.length - 1, p.model_length));
  if (p.per_client != 0 || p.union_cells != 0) throw bad("per-client count and union cells belong to a union session");
  if (p.selection == Digest32{}) throw bad("a values session names the digest of its selection");
}

// The active-mode fields (docs/security.md, "Active mode"): none in an honest-but-curious
// session; in an active one a CA and t > (h + c) / 2 (min_active_threshold).
void validate_threat(const Params& p) {
  auto bad = [](const std::string& m) { return Error(Exit::usage, m); };
  if (p.threat == ThreatModel::honest_but_curious) {
    if (p.corrupt != 0 || p.ca_pk != Key32{})
      throw bad("a corrupted-client count and a CA belong to an active session (--threat-model active)");
    return;
  }
  if (p.threat != ThreatModel::active)
    throw bad(fmt::format("unknown threat model {}", static_cast<unsigned>(p.threat)));
  if (p.ca_pk == Key32{}) throw bad("an active session names the CA that certifies its clients (--ca)");
  if (p.insecure_threshold) throw bad("an active session cannot take an insecure threshold");
  if (p.corrupt >= p.clients)
    throw bad(fmt::format("corrupted clients C = {} must be fewer than the n = {} clients", p.corrupt, p.clients));
  const uint32_t need = min_active_threshold(p.clients, p.neighbours, p.corrupt);
  if (p.neighbours < p.clients - 1) {
    const uint32_t c = likely_corrupt_neighbours(p.clients, p.neighbours, p.corrupt);
    if (c >= p.neighbours)
      throw bad(fmt::format("with C = {} of {} clients corrupted, a client's {} neighbours may all be corrupted (more "
                            "likely than 2^-80), and its masked input would then hide behind nobody: use more "
                            "--neighbours, or --neighbours auto",
                            p.corrupt, p.clients, p.neighbours));
  }
  if (p.threshold >= need) return;
  if (p.neighbours >= p.clients - 1)
    throw bad(fmt::format("threshold {} is not above (n + C) / 2 = ({} + {}) / 2: with C corrupted clients a lying "
                          "server could show two groups of clients different survivor sets, each with t signatures "
                          "(use t >= {}, or a smaller --corrupt)",
                          p.threshold, p.clients, p.corrupt, need));
  const uint32_t c = likely_corrupt_neighbours(p.clients, p.neighbours, p.corrupt);
  throw bad(fmt::format("threshold {} is not above (k + 1 + c) / 2 = ({} + 1 + {}) / 2: with C = {} of {} clients "
                        "corrupted, a client has up to c = {} corrupted neighbours (more with probability below 2^-80), and a lying server could show two "
                        "groups of a neighbourhood different survivors, each with t signatures (use t >= {}, or a "
                        "smaller --corrupt)",
                        p.threshold, p.neighbours, c, p.corrupt, p.clients, c, need));
}

// The distributed-DP fields (docs/privacy.md): none without --dp; a DDG session is dense and
// alone (no quantization spec, no federation), sums in the ring of 2^b, and its vectors are the
// weight and the update padded to a power of two.
void validate_dp(const Params& p) {
  auto bad = [](const std::string& m) { return Error(Exit::usage, m); };
  if (p.dp == DpKind::none) {
    if (p.dp_l2_clip != 0 || p.dp_noise_multiplier != 0 || p.dp_beta != 0 || p.dp_scale != 0 || p.dp_delta != 0 ||
        p.dp_contributors != 0 || p.dp_input_length != 0)
      throw bad("an L2 clip, noise multiplier, beta, scale, delta, contributor count and input length belong to a "
                "distributed-DP session (--dp)");
    return;
  }
  if (p.dp != DpKind::ddg) throw bad(fmt::format("unknown DP mechanism {}", static_cast<unsigned>(p.dp)));
  if (p.sparse != SparseKind::none) throw bad("a sparse session cannot add distributed-DP noise");
  if (p.quantized()) throw bad("a DP session encodes its own values: it has no quantization spec (--clip, --max-weight)");
  if (p.is_shard() || p.shard_clients != 0) throw bad("a DP session cannot be part of a sharded federation");
  if ((p.modulus & (p.modulus - 1)) != 0)
    throw bad(fmt::format("modulus is {}; a DP session works modulo a power of two, 2^bits", p.modulus));
  auto positive = [&](double v, const char* what) {
    if (!(v > 0) || !std::isfinite(v)) throw bad(fmt::format("{} is {}; it must be a finite number above 0", what, v));
  };
  positive(p.dp_l2_clip, "L2 clip");
  positive(p.dp_noise_multiplier, "noise multiplier");
  positive(p.dp_scale, "scale");
  if (!(p.dp_beta >= 0 && p.dp_beta < 1)) throw bad(fmt::format("beta is {}; it must be in [0, 1)", p.dp_beta));
  if (!(p.dp_delta > 0 && p.dp_delta < 1)) throw bad(fmt::format("delta is {}; it must be in (0, 1)", p.dp_delta));
  if (p.dp_contributors < 1 || p.dp_contributors > p.threshold)
    throw bad(fmt::format("the noise is calibrated for {} contributors; it must be in [1, threshold = {}]",
                          p.dp_contributors, p.threshold));
  if (p.dp_input_length < 1 || p.dp_input_length > kMaxLength / 2)
    throw bad(fmt::format("input length is {}; it must be in [1, 2^29]", p.dp_input_length));
  if (p.length != dp_padded_length(p.dp_input_length) + 1)
    throw bad(fmt::format("length is {}; a DP session of {} inputs has {} + 1 elements (padded to a power of two, "
                          "and the weight)",
                          p.length, p.dp_input_length, dp_padded_length(p.dp_input_length)));
}

}  // namespace

uint64_t dp_padded_length(uint64_t n) {
  uint64_t d = 1;
  while (d < n) d <<= 1;
  return d;
}

void validate_params(const Params& p) {
  auto bad = [](const std::string& m) { return Error(Exit::usage, m); };
  if (p.insecure_threshold > 1)
    throw bad(fmt::format("insecure_threshold is {}; it must be 0 or 1", p.insecure_threshold));
  if (p.clients < 2 || p.clients > kMaxClients)
    throw bad(fmt::format("clients is {}; it must be in [2, {}]", p.clients, kMaxClients));
  if (p.threshold < 1 || p.threshold > p.clients)
    throw bad(fmt::format("threshold is {}; it must be in [1, clients = {}]", p.threshold, p.clients));
  if (p.neighbours < 1 || p.neighbours > p.clients - 1)
    throw bad(fmt::format("neighbours is {}; it must be in [2, clients - 1 = {}]", p.neighbours, p.clients - 1));
  if (p.neighbours < p.clients - 1 && p.neighbours < 2)
    throw bad("neighbours must be at least 2 (a graph of degree 1 falls apart into pairs)");
  if (p.neighbours < p.clients - 1 && p.neighbours % 2 != 0)
    throw bad(fmt::format("neighbours is {}; a SecAgg+ session needs an even number (each client is linked to k/2 "
                          "clients on either side of it on the ring: docs/protocol.md), or clients - 1 = {} for full "
                          "SecAgg",
                          p.neighbours, p.clients - 1));
  // Shares of a client's secrets go to its closed neighbourhood: k + 1 holders (n in full SecAgg).
  const uint32_t holders = p.neighbours + 1;
  if (p.threshold > holders)
    throw bad(fmt::format("threshold {} exceeds the {} holders of each client's shares (neighbours + 1): nothing "
                          "could ever be recovered",
                          p.threshold, holders));
  if (!p.insecure_threshold && p.threshold < min_secure_threshold(holders))
    throw bad(fmt::format("threshold {} is not above half of the {} share holders ({}): the server could unmask "
                          "individual inputs (use t >= {}, or --insecure-low-threshold to accept that)",
                          p.threshold, holders,
                          holders == p.clients ? std::string("n") : std::string("neighbours + 1"),
                          min_secure_threshold(holders)));
  if (p.modulus < 2 || p.modulus > kMaxModulus)
    throw bad(fmt::format("modulus is {}; it must be in [2, 2^62]", p.modulus));
  if (p.length < 1 || p.length > kMaxLength)
    throw bad(fmt::format("length is {}; it must be in [1, 2^30]", p.length));
  if (p.prg != static_cast<uint8_t>(PrgKind::aes128ctr) && p.prg != static_cast<uint8_t>(PrgKind::chacha20))
    throw bad(fmt::format("unknown PRG {}", p.prg));
  if (p.quantized()) {
    if (p.quant_bits > 32) throw bad(fmt::format("quantization bits is {}; it must be in [1, 32]", p.quant_bits));
    if (!(p.clip > 0) || p.clip > 1e300)
      throw bad(fmt::format("clip is {}; it must be a finite number above 0", p.clip));
    if (p.max_weight < 1 || p.max_weight > (uint64_t{1} << 32))
      throw bad(fmt::format("max weight is {}; it must be in [1, 2^32]", p.max_weight));
    if (p.length < 2) throw bad("a quantized session needs at least one value besides the weight");
    // A hierarchical top session sums shard aggregates: up to capacity() clients' inputs.
    const uint64_t n = p.capacity();
    uint64_t need = min_modulus_for(n, p.max_weight, p.quant_bits);
    if (need == 0)
      throw bad(fmt::format("{} clients x max weight {} x (2^{} - 1) does not fit below 2^62: lower --bits or "
                            "--max-weight",
                            n, p.max_weight, p.quant_bits));
    if (p.modulus < need)
      throw bad(fmt::format("modulus {} could wrap: the sum of {} clients x max weight {} x (2^{} - 1) needs R >= {} "
                            "(--modulus {} or --modulus-bits {}, or --modulus-bits auto)",
                            p.modulus, n, p.max_weight, p.quant_bits, need, need,
                            auto_modulus_bits(n, p.max_weight, p.quant_bits)));
  } else if (p.clip != 0 || p.max_weight != 0) {
    throw bad("clip and max weight belong to a quantization spec: give --bits too");
  }
  validate_sparse(p);
  validate_threat(p);
  validate_federation(p);
  validate_dp(p);
}

void check_params_file(const Params& p, const std::string& origin) {
  try {
    validate_params(p);
  } catch (const Error& e) {
    throw Error(Exit::data, fmt::format("{}: invalid session parameters: {}", origin, e.what()));
  }
}

bool insecure_threshold(const Params& p) {
  return p.threshold < min_secure_threshold(std::min<uint64_t>(uint64_t{p.neighbours} + 1, p.clients));
}

std::string accept_threshold(const Params& p, bool accept_insecure, const std::string& origin) {
  if (!insecure_threshold(p)) return {};
  const uint64_t holders = std::min<uint64_t>(uint64_t{p.neighbours} + 1, p.clients);
  std::string what = fmt::format("threshold {} is not above half of the {} holders of each client's shares: the "
                                 "server can unmask individual inputs",
                                 p.threshold, holders);
  if (!accept_insecure)
    throw Error(Exit::aborted, fmt::format("{}: {}; refusing parameters this client did not agree to (pass "
                                           "--insecure-low-threshold to accept them)",
                                           origin, what));
  return fmt::format("{}: {} (accepted: --insecure-low-threshold)", origin, what);
}

uint64_t max_body_bytes(MsgType type) {
  // kMaxLength elements of at most 62 bits each.
  return body_bound(type, {kMaxClients, kMaxClients, (kMaxLength * 62 + 7) / 8, kMaxLength});
}

uint64_t max_body_bytes(MsgType type, const Params& p) {
  const uint64_t bits = p.modulus < 2 ? 62 : Modulus{p.modulus}.bits();
  return body_bound(type, {p.clients, std::min<uint64_t>(uint64_t{p.neighbours} + 1, p.clients),
                           (p.length * bits + 7) / 8, p.length});
}

uint64_t max_message_bytes(MsgType type, const Params& p) {
  return kHeaderBytes + max_body_bytes(type, p) + trailer_bytes(static_cast<uint8_t>(type));
}

}  // namespace secagg
