// Whole sessions in one process (secagg-sim): n clients and the server chained through the
// same library calls the tools make, every message passed as bytes through open_envelope, with
// a dropout schedule, per-round cost measurements, and a check of the aggregate against the
// plaintext sum of the inputs of U3.
//
// Memory stays bounded for large sessions: the masked inputs of round 2 are made in batches,
// each one added into the server's running sum (MaskedCollector) and freed at once, and the
// inputs are generated on the fly from (seed, id), so neither all inputs nor all masked inputs
// are ever held.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "messages.hpp"

namespace secagg {

// The rounds of a session are 0, 1, 2 and 4 (round 3, ConsistencyCheck, is not part of this
// protocol variant).
//
// A client "drops at round r": its message of round r never reaches the server and it takes no
// further part. It does none of round r's work (it is gone before it would send).
struct SimDrop {
  int round = 0;              // 0, 1, 2 or 4
  std::vector<uint32_t> ids;  // client ids in [1, n]
};

struct SimConfig {
  // The session. neighbours 0 means n - 1 (full SecAgg); threshold 0 means the smallest secure
  // one, floor((neighbours + 1) / 2) + 1 (floor(n/2) + 1 in full SecAgg). Checked with
  // validate_params.
  Params params;
  // Seeds the inputs (client id's input is a function of (seed, id)) and the random dropout
  // choice. Keys, self-mask seeds and nonces still come from random_bytes.
  uint64_t seed = 1;
  // Random dropouts: round(fraction * n) clients, drawn with the seed among the clients still
  // present at dropout_round (not dropped at an earlier round nor listed for this one in
  // `drops`), drop at dropout_round. fraction in [0, 1]; dropout_round 0, 1, 2 or 4.
  double dropout_fraction = 0;
  int dropout_round = 2;
  // Explicit dropouts. A client may be listed for one round only.
  std::vector<SimDrop> drops;
  // Threads: clients are processed in parallel over this many threads (each client's own work
  // on one), and the server's steps use them too (opening messages, removing masks).
  unsigned threads = 1;
  // Called with the fraction of the estimated work done (non-decreasing, in [0, 1]) and the
  // current stage ("round 2 (masked-input)", ...). Called from worker threads, but never
  // concurrently; it must be quick.
  std::function<void(double fraction, std::string_view stage)> progress;
};

// Per-round costs. "Clients" are the clients whose message of the round reached the server;
// the client statistics are over them. Medians of an even count are the lower middle value.
struct SimRound {
  int round = 0;  // 0, 1, 2, 4; -1 for the per-client totals over all rounds
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
  // the round (0: the roster, 1: its inbox, 2: the survivor list, 4: nothing).
  uint64_t sent_median = 0, sent_max = 0, received_median = 0, received_max = 0;
  double expansion = 0;  // sent_median / raw input bytes
};

enum class SimOutcome { matched, mismatched, aborted };

struct SimReport {
  Params params;  // after the defaults above
  uint64_t seed = 0;
  unsigned threads = 1;
  uint64_t raw_input_bytes = 0;  // one input vector packed in bits(R) bits per element
  std::vector<SimRound> rounds;  // the rounds that ran, in order
  // Per-client sums over the rounds that ran, over the clients of the last round that ran
  // (they took part in every earlier one); server figures and wall time are summed.
  SimRound total;
  // Sizes of the sets the server formed; 0 where the session did not get that far.
  uint32_t u1 = 0, u2 = 0, u3 = 0, u4 = 0;
  SimOutcome outcome = SimOutcome::matched;
  int abort_round = -1;  // with SimOutcome::aborted: the round whose server step aborted
  // aborted: the server's message; mismatched: where the aggregate differs; matched: empty.
  std::string message;
  std::string first_refusal;  // the first client refusal, if any
  double wall_ms = 0;
};

// The round each client drops at (index id - 1; 5 = never), from the config's schedule.
// Throws Error(Exit::usage) for a bad round, id, fraction or a client listed twice.
std::vector<int> plan_dropouts(const SimConfig& cfg);

// Element i of client id's input: uniform in [0, R), a function of (seed, id, i) only.
std::vector<uint64_t> sim_input(uint64_t seed, uint32_t id, const Params& p);

// Runs the session. An abort (too few survivors at some round) is a report, not an exception.
// Throws Error(Exit::usage) for a bad config, and Error(Exit::software) if an honest party's
// message is refused (a bug).
SimReport run_simulation(const SimConfig& cfg);

}  // namespace secagg
