// The SecAgg+ neighbour graph (Bell et al., CCS 2020; "Secure Aggregation for Federated Learning in Flower", section 2.4).
//
// Every party derives the same graph from public data only: the session id and
// the round-0 roster (every client's id and both public keys). The server fixes
// U1 before it can know the graph, and the graph changes unpredictably with any
// key, so it cannot pick one it likes without grinding on which clients to drop.
//
// Construction: the clients of U1 are put in a random order (Fisher-Yates driven
// by ChaCha20 keyed with BLAKE2b("secagg/v1 graph" || session id || roster)),
// then joined as the Harary graph H(k, m) on that cycle: each client is linked to
// the floor(k/2) clients on either side, and for odd k also to the one opposite
// (m even), or as Harary's odd-odd case (m odd: one client gets degree k + 1).
// With k >= |U1| - 1 every client neighbours every other: full SecAgg.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "messages.hpp"

namespace secagg {

// N[u] alone, without the rest of the graph: what a client needs. O(|U1|) time (the
// permutation) and O(k) memory, where the whole graph is O(|U1| k): with this a client's cost
// stays flat as the session grows. Identical to NeighbourGraph(sid, roster, k).closed(u); empty if
// u is not in U1.
std::vector<uint32_t> closed_neighbourhood(const SessionId& sid, const Roster& roster, uint32_t k, uint32_t u);

// The closed neighbourhoods of the clients within `radius` hops of u, and no others: what a holder
// needs to check round 3's signatures around it (docs/security.md, "Active mode with SecAgg+").
// O(|U1|) time (the permutation) and O(|ball| k) memory; with k >= |U1| - 1 every client is in
// the ball and N[x] is U1.
class LocalGraph {
 public:
  LocalGraph(const SessionId& sid, const Roster& roster, uint32_t k, uint32_t u, unsigned radius);

  bool full() const { return full_; }
  // The clients within the radius, sorted.
  const std::vector<uint32_t>& ball() const { return ball_; }
  // N[x], sorted, for x in the ball; empty otherwise.
  std::span<const uint32_t> closed(uint32_t x) const;

 private:
  bool full_ = false;
  std::vector<uint32_t> ball_;
  std::vector<std::vector<uint32_t>> closed_;  // parallel to ball_ (empty when full_)
};

class NeighbourGraph {
 public:
  NeighbourGraph(const SessionId& sid, const Roster& roster, uint32_t k);

  bool full() const { return full_; }
  // N[u]: u and its neighbours, sorted. u must be in U1.
  std::span<const uint32_t> closed(uint32_t u) const;
  bool adjacent(uint32_t u, uint32_t v) const;  // u == v counts as adjacent

 private:
  bool full_ = false;
  std::vector<uint32_t> ids_;                   // U1, sorted
  std::vector<std::vector<uint32_t>> closed_;   // parallel to ids_ (empty when full_)
};

}  // namespace secagg
