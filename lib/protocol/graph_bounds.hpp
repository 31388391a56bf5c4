// Sizing a SecAgg+ neighbour graph for stated dropout and corruption rates, after
// Bell et al. (CCS 2020) for an honest-but-curious server, as Google's fcp applies it
// to Harary graphs. With n clients of which at most floor(gamma n) are corrupted
// (they collude with the server) and floor(delta n) drop out, a degree k and
// threshold t are accepted when, with the graph random:
//  - the graph of honest survivors stays connected except with probability < 2^-41
//    (a union bound over pairs of gaps of k/2 consecutive bad clients on the cycle);
//  - security: a client has t or more corrupted neighbours with probability
//    <= 2^-41 / n (hypergeometric tail), so the server and its allies never hold
//    t shares of an honest client's secrets;
//  - correctness: a client has fewer than t surviving neighbours with probability
//    <= 2^-20 / n, so every secret the server needs can be reconstructed;
//  - and t > (k + 1)/2, the honest-majority rule every secagg session follows.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace secagg {

struct GraphBounds {
  uint32_t t_min = 0;  // smallest threshold meeting the security bound (and the majority rule)
  uint32_t t_max = 0;  // largest threshold meeting the correctness bound
  bool connected = false;
  double log2_disconnect = 0;  // log2 of the bound on the disconnection probability
};

GraphBounds graph_bounds(uint32_t n, uint32_t k, double corruption, double dropout);

// Empty if (k, t) meets the bounds; otherwise one sentence saying which bound fails and why.
std::string check_graph(uint32_t n, uint32_t k, uint32_t t, double corruption, double dropout);

struct GraphChoice {
  uint32_t neighbours = 0;
  uint32_t threshold = 0;
};
// The smallest even k (and its smallest t) that meets the bounds; nullopt if none below n - 1.
std::optional<GraphChoice> choose_graph(uint32_t n, double corruption, double dropout);

// Active mode (docs/security.md, "Active mode with SecAgg+"). A server that deviates may grind
// the graph (each roster it tries is one more draw), so the bound is 2^-80 per roster, not 2^-41.
// The most corrupted clients among an honest client's k neighbours, when `corrupt` of the n
// clients collude with the server: more has probability <= 2^-80 / n for one client (a
// hypergeometric tail over the n - 1 others), <= 2^-80 for any. k >= n - 1: exactly `corrupt`.
uint32_t likely_corrupt_neighbours(uint32_t n, uint32_t k, uint32_t corrupt);

// The smallest even k whose graph stays connected (as above), with fewer likely corrupted
// neighbours than k and the smallest t that active mode allows (min_active_threshold, params.hpp)
// below the correctness bound; nullopt if none below n - 1.
std::optional<GraphChoice> choose_active_graph(uint32_t n, uint32_t corrupt, double dropout);

}  // namespace secagg
