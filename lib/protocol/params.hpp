// Session parameters: the bounds every party checks (man/secagg-formats.5, "What a reader
// must reject").
#pragma once
#include <cstdint>
#include <string>

#include "messages.hpp"

namespace secagg {

inline constexpr uint64_t kMaxLength = uint64_t{1} << 30;
// The largest model a sparse session selects from (its indices are 32-bit).
inline constexpr uint64_t kMaxModelLength = uint64_t{1} << 31;

// Throws Error(Exit::usage) naming the bound a parameter set breaks:
// 2 <= n <= 2^20; 1 <= t <= n; t > n/2 (the protocol paper's bound for an
// honest-but-curious server) unless insecure_threshold is set; R in [2, 2^62];
// 1 <= length <= 2^30; a known PRG; neighbours k in [2, n - 1] (n - 1: full SecAgg),
// t <= k + 1 and t > (k + 1)/2 (half of each client's share holders). With a
// quantization spec: 1 <= bits <= 32, 0 < clip < inf, 1 <= max_weight <= 2^32,
// length >= 2 (weight plus at least one value), and R >= min_modulus_for(capacity, max_weight,
// bits) (capacity: n, or n x shard_clients in a hierarchical top session). A session is a shard
// (parent set) or a hierarchical top (2 <= shard_clients <= 2^20) or neither, and dense.
// insecure_threshold is 0 or 1. An active session (threat model active) names a CA, runs full
// SecAgg, has C < n and t > (n + C)/2, and no insecure threshold; any other session has C = 0 and
// no CA. A distributed-DP session (docs/privacy.md) is dense, unquantized, unsharded, modulo a
// power of two, with finite positive clip, noise multiplier and scale, beta in [0, 1), delta in
// (0, 1), 1 <= contributors <= t, and length = the padded input length + 1; any other has none.
void validate_params(const Params& p);
// validate_params for parameters read from a file: every reader checks them, whoever wrote
// the file. Throws Error(Exit::data): "<origin>: invalid session parameters: <bound>".
void check_params_file(const Params& p, const std::string& origin);

// True if t is not above half of each client's share holders (only valid with
// insecure_threshold): the server can then unmask individual inputs.
bool insecure_threshold(const Params& p);
// A client's consent to the server's parameters: with an insecure threshold (above) and
// accept_insecure false, throws Error(Exit::aborted) naming origin and the flag that accepts
// it. Returns the one-line warning to print when the client accepts it (empty otherwise).
std::string accept_threshold(const Params& p, bool accept_insecure, const std::string& origin);

// The largest body a message of this type can have in a session with these parameters (with
// generous slack; the table's bound, envelope.hpp body_bound); without parameters, in any valid
// session. File readers and socket frames refuse a header that announces more before reading
// the body (man/secagg-formats.5, VALIDATION; docs/network.md, "Framing").
uint64_t max_body_bytes(MsgType type);
uint64_t max_body_bytes(MsgType type, const Params& p);
// The largest whole message of this type: header, max_body_bytes and the type's trailer.
uint64_t max_message_bytes(MsgType type, const Params& p);

// The smallest modulus with which the sum of n quantized, weighted inputs cannot wrap:
// n * max_weight * (2^bits - 1) + 1 (the protocol paper's footnote 8, docs/protocol.md "Setup",
// applied to quantized inputs: man/secagg-quantize.1).
// Returns 0 if it exceeds 2^62.
uint64_t min_modulus_for(uint64_t n, uint64_t max_weight, unsigned bits);
// The smallest power-of-two exponent b with 2^b >= min_modulus_for(...); 0 if none <= 62.
unsigned auto_modulus_bits(uint64_t n, uint64_t max_weight, unsigned bits);

// The power of two a DP session pads n inputs to (docs/privacy.md, the rotation).
uint64_t dp_padded_length(uint64_t n);

// The smallest threshold that meets the T1 bound t > n/2.
uint32_t min_secure_threshold(uint32_t n);
// Active mode (docs/security.md, "Active mode"): the corrupted clients C a session assumes when
// setup is not told, floor((n - 1) / 3) (the paper's T2 instance, t > 2n/3), and the smallest
// threshold with t > (h + c) / 2 for the h = min(k + 1, n) holders of each client's shares of
// which c may be corrupted: c = C in full SecAgg (t > (n + C) / 2), and in SecAgg+ the most
// corrupted neighbours a client has but with negligible probability (likely_corrupt_neighbours,
// graph_bounds.hpp).
uint32_t default_corrupt(uint32_t n);
uint32_t min_active_threshold(uint32_t n, uint32_t neighbours, uint32_t corrupt);

}  // namespace secagg
