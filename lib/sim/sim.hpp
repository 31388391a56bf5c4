// Whole sessions in one process (secagg-sim): n clients and the server chained through the
// same library calls the tools make, every message passed as bytes through open_envelope, with
// a dropout schedule, per-round cost measurements, and a check of the aggregate against the
// plaintext sum of the inputs of U3.
//
// Memory stays bounded for large sessions: the masked inputs of round 2 are made in batches,
// each one added into the server's running sum (the round engine, server_session.hpp) and freed at once, and the
// inputs are generated on the fly from (seed, id), so neither all inputs nor all masked inputs
// are ever held.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages.hpp"
#include "prg.hpp"

namespace secagg {

// The rounds of a session are 0, 1, 2 and 4; an active session (docs/security.md, "Active mode")
// also runs round 3 (ConsistencyCheck), in which the clients of U3 sign U3.
//
// A client "drops at round r": its message of round r never reaches the server and it takes no
// further part. It does none of round r's work (it is gone before it would send). A client that
// drops at round 3 sent its masked input (it is in U3, its input in the sum) but does not sign.
struct SimDrop {
  int round = 0;              // 0, 1, 2 or 4; 3 too in an active session
  std::vector<uint32_t> ids;  // client ids in [1, n]
};

struct SimConfig {
  // The session. neighbours 0 means n - 1 (full SecAgg); threshold 0 means the smallest secure
  // one, floor((neighbours + 1) / 2) + 1 (floor(n/2) + 1 in full SecAgg), or in an active session
  // (threat active, corrupt C) min_active_threshold(n, k, C). Checked with validate_params.
  // An active session's ca_pk is ignored: the simulation makes its own CA and certifies one
  // identity per client with it, untimed, before round 0 (as an enrollment done long before the
  // session would be); checking the certificates and signing with the identities is timed in the
  // rounds that do it.
  Params params;
  // Seeds the inputs (client id's input is a function of (seed, id)) and the random dropout
  // choice. Keys, self-mask seeds and nonces still come from random_bytes.
  uint64_t seed = 1;
  // Random dropouts: round(fraction * n) clients, drawn with the seed among the clients still
  // present at dropout_round (not dropped at an earlier round nor listed for this one in
  // `drops`), drop at dropout_round. fraction in [0, 1]; dropout_round 0, 1, 2 or 4 (or 3 in an
  // active session).
  double dropout_fraction = 0;
  int dropout_round = 2;
  // Explicit dropouts. A client may be listed for one round only.
  std::vector<SimDrop> drops;
  // Threads: clients are processed in parallel over this many threads (each client's own work
  // on one), and the server's steps use them too (opening messages, removing masks).
  unsigned threads = 1;
  // Bytes of keystream the session PRG makes on one core, before the session starts, to measure
  // its raw throughput (SimReport::keystream_gbps): Keystream::generate in 64 KiB chunks, in three
  // runs of a third each, the fastest counted. 0 skips the measurement (and every ratio is 0).
  uint64_t keystream_probe_bytes = uint64_t{384} << 20;
  // Called with the fraction of the estimated work done (non-decreasing, in [0, 1]) and the
  // current stage ("round 2 (masked-input)", ...). Called from worker threads, but never
  // concurrently; it must be quick.
  std::function<void(double fraction, std::string_view stage)> progress;
  // Client id's input in the session `sid` (length params.length, elements below R), made
  // untimed as an input file would be; empty: sim_input(seed, id, params). Called from worker
  // threads, concurrently for different ids. (A sparse round's union vectors depend on the session.)
  std::function<std::vector<uint64_t>(uint32_t id, const SessionId& sid)> input;
  // The session's id; empty: a fresh one (new_session_id). Given when the simulated session is
  // one set up in a session directory (secagg-sim --session).
  std::optional<SessionId> session;
  // Called with the file that ends each server step, as the session directory would keep it
  // (roster.msg, u2.msg, survivors.msg, consistency.msg, aggregate.vec), inside the timed step.
  std::function<void(Round, const Bytes& marker)> on_marker;
};

// Per-round costs. "Clients" are the clients whose message of the round reached the server;
// the client statistics are over them. Medians of an even count are the lower middle value.
struct SimRound {
  int round = 0;  // 0, 1, 2, 3 (active sessions only), 4; -1 for the per-client totals over all rounds
  uint32_t clients = 0;
  uint32_t refused = 0;  // clients that ran the round's step but refused to go on (Exit::aborted)
  // Thread CPU time of each client's step: opening what it received, and the client_* call
  // that makes its message (including encoding it).
  double client_cpu_median_ms = 0, client_cpu_max_ms = 0;
  // The server's step (opening the round's messages, the collect_*/recover/remove call, encoding
  // its answers): process CPU time and wall time, measured while no client work runs.
  double server_cpu_ms = 0, server_wall_ms = 0;
  double wall_ms = 0;  // the whole round, clients and server
  // Wire bytes per client: sent = its message of the round; received = the server's answer of
  // the round (0: the roster, 1: its inbox, 2: the survivor list, 3: the consistency message with
  // the signatures of U4, 4: nothing).
  uint64_t sent_median = 0, sent_max = 0, received_median = 0, received_max = 0;
  // Bytes of a client's state file (the client-state message secagg-keygen and the steps save)
  // after its step of the round.
  uint64_t state_median = 0, state_max = 0;
  double expansion = 0;  // sent_median / raw input bytes

  // The keystream a step must expand, against the session PRG's raw single-core throughput
  // (SimReport::keystream_gbps): the "limit" is the time that PRG takes to make those bytes on one
  // core, and a ratio is a measured time over its limit.
  // Clients (round 2): (1 + the pairwise masks the client adds) x length x mask word bytes; the
  // median over the clients, its limit, and the median over the clients of CPU time / limit.
  uint64_t client_keystream_median = 0;
  double client_limit_ms = 0, client_limit_ratio = 0;
  // Server (round 4): (|U3| self masks + one pairwise mask per (dropped client of U2 \ U3,
  // surviving neighbour in U3) pair) x length x mask word bytes, and its limit.
  uint64_t server_keystream = 0;
  double server_limit_ms = 0;
  // Round 4's server step, split: reconstruct_secrets (Shamir reconstruction of the self-mask seeds
  // and dropped clients' mask keys, after the responses were checked) and remove_masks (the X25519
  // agreements for the dropped pairs, then the expansion of every mask), CPU and wall time; the
  // number of those agreements; and remove_masks' wall time over server_limit_ms.
  double recover_cpu_ms = 0, recover_wall_ms = 0, unmask_cpu_ms = 0, unmask_wall_ms = 0;
  uint64_t unmask_agreements = 0;
  double unmask_limit_ratio = 0;
};

enum class SimOutcome { matched, mismatched, aborted };

struct SimReport {
  Params params;  // after the defaults above
  uint64_t seed = 0;
  unsigned threads = 1;
  uint64_t raw_input_bytes = 0;  // one input vector packed in bits(R) bits per element
  // Raw single-core throughput of the session PRG, 10^9 bytes per second of thread CPU time,
  // measured before the session (SimConfig::keystream_probe_bytes); 0 if not measured.
  double keystream_gbps = 0;
  size_t mask_word_bytes = 0;  // keystream bytes per element of a mask
  std::vector<SimRound> rounds;  // the rounds that ran, in order
  // Per-client sums over the rounds that ran, over the clients of the last round that ran
  // (they took part in every earlier one); server figures and wall time are summed.
  SimRound total;
  // Sizes of the sets the server formed; 0 where the session did not get that far. u4: the
  // responders of round 4, or in an active session the signers of round 3 (u5 the responders).
  uint32_t u1 = 0, u2 = 0, u3 = 0, u4 = 0, u5 = 0;
  SimOutcome outcome = SimOutcome::matched;
  int abort_round = -1;  // with SimOutcome::aborted: the round whose server step aborted
  // aborted: the server's message; mismatched: where the aggregate differs; matched: empty.
  std::string message;
  std::string first_refusal;  // the first client refusal, if any
  double wall_ms = 0;  // the session, without the keystream measurement
  SessionId session{};              // the id the simulated setup drew
  std::vector<uint64_t> aggregate;  // matched: the sum of the inputs of U3 the server computed
};

// Raw single-core throughput of `kind`'s keystream in 10^9 bytes per second of thread CPU time:
// Keystream::generate over `bytes` bytes in 64 KiB chunks, in three runs of a third each (after a
// short warm-up), the fastest counted.
double measure_keystream_gbps(PrgKind kind, uint64_t bytes);

// The round each client drops at (index id - 1; Round::none: it stays to the end), from the
// config's schedule. Throws Error(Exit::usage) for a bad round (3 outside an active session), id,
// fraction or a client listed twice.
std::vector<Round> plan_dropouts(const SimConfig& cfg);

// Element i of client id's input: uniform in [0, R), a function of (seed, id, i) only; with a
// quantization spec, weight 1 in element 0 and levels uniform in [0, 2^bits - 1] after it.
std::vector<uint64_t> sim_input(uint64_t seed, uint32_t id, const Params& p);

// The config's parameters with SimConfig's defaults applied (neighbours n - 1, the smallest
// secure threshold: min_active_threshold in an active session).
Params with_sim_defaults(Params p);

// Runs the session. An abort (too few survivors at some round) is a report, not an exception.
// Throws Error(Exit::usage) for a bad config, and Error(Exit::software) if an honest party's
// message is refused (a bug).
SimReport run_simulation(const SimConfig& cfg);

}  // namespace secagg
