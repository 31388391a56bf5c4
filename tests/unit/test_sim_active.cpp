// The simulator's active sessions (lib/sim, secagg-sim --threat-model active): round 3 runs as a
// round of its own, dropouts at every round leave the sum of U3's inputs, a round 3 below t
// aborts, and a round-3 dropout stays refused in an honest-but-curious session.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "error.hpp"
#include "params.hpp"
#include "sim.hpp"

using namespace secagg;

namespace {

constexpr uint64_t kModulus = uint64_t{1} << 32;

// An input the test can sum itself: element i of client id is id * 1000 + i.
std::vector<uint64_t> input_of(uint32_t id, uint64_t length) {
  std::vector<uint64_t> x(length);
  for (uint64_t i = 0; i < length; ++i) x[i] = uint64_t{id} * 1000 + i;
  return x;
}

SimConfig active_config(uint32_t n, uint32_t corrupt, uint64_t length) {
  SimConfig cfg;
  cfg.params.clients = n;
  cfg.params.length = length;
  cfg.params.modulus = kModulus;
  cfg.params.threat = ThreatModel::active;
  cfg.params.corrupt = corrupt;
  cfg.keystream_probe_bytes = 0;  // no ratios needed here
  cfg.threads = 2;
  cfg.input = [length](uint32_t id, const SessionId&) { return input_of(id, length); };
  return cfg;
}

const SimRound* round_of(const SimReport& r, int round) {
  for (const auto& s : r.rounds)
    if (s.round == round) return &s;
  return nullptr;
}

}  // namespace

TEST_CASE("sim, active: a dropout before every round, and the sum of U3's inputs") {
  const uint32_t n = 20;
  const uint64_t L = 50;
  SimConfig cfg = active_config(n, 3, L);  // t defaults to floor((20 + 3) / 2) + 1 = 12
  cfg.drops = {{0, {1}}, {1, {2}}, {2, {3}}, {3, {4, 6}}, {4, {5}}};
  const SimReport r = run_simulation(cfg);
  REQUIRE(r.outcome == SimOutcome::matched);
  CHECK(r.params.threshold == 12);
  CHECK(r.params.active());
  CHECK(r.u1 == 19);
  CHECK(r.u2 == 18);
  CHECK(r.u3 == 17);  // 4 and 6 sent their masked inputs before they left
  CHECK(r.u4 == 15);  // the signers
  CHECK(r.u5 == 14);
  // The sum over U3 = [1, 20] without 1, 2, 3, computed here from the inputs.
  std::vector<uint64_t> want(L, 0);
  for (uint32_t id = 4; id <= n; ++id) {
    const auto x = input_of(id, L);
    for (uint64_t i = 0; i < L; ++i) want[i] = (want[i] + x[i]) % kModulus;
  }
  CHECK(r.aggregate == want);

  // Round 3 is a row of its own between rounds 2 and 4: each of the 15 signers sent one signature
  // message and received the consistency message, which holds 15 signatures and so outweighs it.
  REQUIRE(r.rounds.size() == 5);
  CHECK(r.rounds[3].round == 3);
  const SimRound* r3 = round_of(r, 3);
  REQUIRE(r3 != nullptr);
  CHECK(r3->clients == 15);
  CHECK(r3->sent_median > 64);  // an Ed25519 signature at least
  CHECK(r3->sent_median == r3->sent_max);
  CHECK(r3->received_median > 15 * 64);
  CHECK(r3->client_cpu_median_ms > 0);
  CHECK(r3->server_cpu_ms > 0);
  CHECK(round_of(r, 4)->clients == 14);
  CHECK(r.total.clients == 14);
  CHECK(r.total.sent_median >= r3->sent_median + round_of(r, 4)->sent_median);
}

TEST_CASE("sim, active: fewer than t signers abort round 3, fewer than t responders round 4") {
  SimConfig cfg = active_config(10, 3, 8);  // t = 7
  cfg.drops = {{3, {1, 2, 3, 4}}};          // 6 of the 10 sign
  SimReport r = run_simulation(cfg);
  CHECK(r.outcome == SimOutcome::aborted);
  CHECK(r.abort_round == 3);
  CHECK(r.message.find("U4 too small") != std::string::npos);
  CHECK(r.u3 == 10);
  CHECK(r.u4 == 0);
  CHECK(r.rounds.back().round == 3);
  CHECK(r.aggregate.empty());

  cfg.drops = {{4, {1, 2, 3, 4}}};  // all 10 sign, 6 answer
  r = run_simulation(cfg);
  CHECK(r.outcome == SimOutcome::aborted);
  CHECK(r.abort_round == 4);
  CHECK(r.message.find("U5 too small") != std::string::npos);
  CHECK(r.u4 == 10);
  CHECK(r.u5 == 0);

  cfg.drops = {{3, {1, 2, 3}}};  // exactly t sign and answer
  r = run_simulation(cfg);
  CHECK(r.outcome == SimOutcome::matched);
  CHECK(r.u4 == 7);
  CHECK(r.u5 == 7);
}

TEST_CASE("sim: round 3 dropouts belong to active sessions; an honest-but-curious run has no round 3") {
  SimConfig cfg;
  cfg.params.clients = 10;
  cfg.params.length = 8;
  cfg.params.modulus = kModulus;
  cfg.keystream_probe_bytes = 0;
  cfg.drops = {{3, {1}}};
  try {
    plan_dropouts(cfg);
    FAIL("round 3 accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::usage);
    CHECK(std::string(e.what()).find("dropout round 3 is not one of 0, 1, 2, 4") != std::string::npos);
  }
  cfg.drops = {{4, {1}}};
  const SimReport r = run_simulation(cfg);
  CHECK(r.outcome == SimOutcome::matched);
  REQUIRE(r.rounds.size() == 4);
  for (const auto& s : r.rounds) CHECK(s.round != 3);
  CHECK(r.u4 == 9);
  CHECK(r.u5 == 0);

  SimConfig a = active_config(10, 3, 8);
  a.drops = {{3, {1}}};
  CHECK(plan_dropouts(a)[0] == Round::r3);
}
