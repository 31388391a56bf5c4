// The SecAgg+ neighbour graph (Bell et al., CCS 2020; "Secure Aggregation for Federated Learning
// in Flower", section 2.4), and the part of it one client sees (docs/protocol.md, "SecAgg+: the
// roster a client sees").
//
// The server commits to U1 with the root of a Merkle tree over the id domain (roster_tree.hpp);
// the graph's seed is BLAKE2b("secagg/v1 graph" || session id || root), so the server fixes U1
// before it can know the graph, and any change of U1 changes the whole graph unpredictably.
// The seed drives a Fisher-Yates shuffle (ChaCha20) of the whole domain 1..n: the ring. Walking
// the ring and skipping ids not in U1 puts U1 in a uniformly random cyclic order, and each client
// is linked to the k/2 clients of U1 nearest to it on either side (k even): the Harary graph
// H(k, |U1|) on a random cycle. With k >= |U1| - 1 every client neighbours every other.
//
// A client sees a window of the ring around it: every slot (id of U1 or not) out to the r k / 2-th
// client of U1 on either side, each with its proof, so it can check that its neighbours are the
// ones the committed U1 gives and not ones the server picked.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "messages.hpp"

namespace secagg {

// The ring: ring[p] is the id at position p, a permutation of 1..n drawn from the graph seed of
// the roster commitment `root` (O(n) time, 4n bytes).
std::vector<uint32_t> ring_order(const SessionId& sid, const Digest32& root, uint32_t n);

// The slots of the ring a client at position `pos` sees: out to the `reach`-th member of U1 on
// either side. `whole` when the two walks meet: the window is then the whole ring, from position 0.
struct RingSpan {
  size_t first = 0;  // position of the first slot
  size_t count = 0;  // slots, in ring order, wrapping past the end
  bool whole = false;
};
RingSpan ring_window(std::span<const uint32_t> ring, size_t pos, uint32_t reach,
                     const std::function<bool(uint32_t id)>& in_u1);

// How far a client must see: its neighbours (radius 1); in an active session every client within
// three hops and their neighbourhoods (radius 4: docs/security.md, "Active mode with SecAgg+").
unsigned window_radius(const Params& p);
// The clients of U1 a window reaches on either side: window_radius(p) k / 2.
uint32_t window_reach(const Params& p);

// The clients of U1 one client sees, in ring order, and the neighbourhoods they determine.
class RingWindow {
 public:
  RingWindow() = default;
  // members: the U1 clients of the window in ring order; whole: they are all of U1, a cycle.
  RingWindow(std::vector<uint32_t> members, bool whole, uint32_t k);
  const std::vector<uint32_t>& members() const { return members_; }
  bool whole() const { return whole_; }
  // N[x], sorted: empty if x is not in the window or too near its edge for the window to show it.
  std::vector<uint32_t> closed(uint32_t x) const;

 private:
  std::vector<uint32_t> members_;
  std::vector<uint32_t> sorted_;      // members_ sorted
  std::vector<uint32_t> index_of_;    // parallel to sorted_: the index in members_
  bool whole_ = false;
  uint32_t k_ = 0;
};

// The closed neighbourhoods of the clients within `radius` hops of u, and no others: what a holder
// needs to check round 3's signatures around it (docs/security.md, "Active mode with SecAgg+").
// O(|ball| k) memory; in full SecAgg (or when U1 has at most k + 1 clients) every client is in
// the ball and N[x] is U1.
class LocalGraph {
 public:
  // Full SecAgg: every client of ids (sorted) neighbours every other.
  static LocalGraph whole(std::vector<uint32_t> ids);
  LocalGraph(const RingWindow& w, uint32_t u, unsigned radius);

  bool full() const { return full_; }
  // The clients within the radius, sorted.
  const std::vector<uint32_t>& ball() const { return ball_; }
  // N[x], sorted, for x in the ball; empty otherwise.
  std::span<const uint32_t> closed(uint32_t x) const;

 private:
  LocalGraph() = default;
  bool full_ = false;
  std::vector<uint32_t> ball_;
  std::vector<std::vector<uint32_t>> closed_;  // parallel to ball_ (empty when full_)
};

// The whole graph, on the server: O(|U1| k) memory.
class NeighbourGraph {
 public:
  // The graph of session (p, sid) over roster U1: full SecAgg when k >= n - 1; otherwise the ring
  // of the roster's commitment (RosterTree). ring: that ring (ring_order), if the caller has it.
  NeighbourGraph(const Params& p, const SessionId& sid, const Roster& roster,
                 const std::vector<uint32_t>* ring = nullptr);

  bool full() const { return full_; }
  // N[u]: u and its neighbours, sorted. u must be in U1.
  std::span<const uint32_t> closed(uint32_t u) const;
  bool adjacent(uint32_t u, uint32_t v) const;  // u == v counts as adjacent

 private:
  bool full_ = false;
  std::vector<uint32_t> ids_;                   // U1, sorted
  std::vector<std::vector<uint32_t>> closed_;   // parallel to ids_ (empty when full_)
};

// True when p is a SecAgg+ session (k < n - 1): clients get a window of the roster, not all of it.
bool is_secagg_plus(const Params& p);

}  // namespace secagg
