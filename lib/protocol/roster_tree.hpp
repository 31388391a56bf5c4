// The commitment to a SecAgg+ session's roster U1 (docs/protocol.md, "SecAgg+: the roster a
// client sees"): a Merkle tree over the whole id domain 1..n, one leaf per id, present (the
// client's round-0 entry) or absent. A client receives only the entries near it on the ring,
// each with the d = ceil(log2 n) sibling digests that lead to the root; the same proof shows an
// id absent. The root also binds the session id, n and |U1|, and seeds the neighbour graph.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "messages.hpp"

namespace secagg {

// The number of sibling digests in a proof: ceil(log2 n), at least 1.
unsigned roster_tree_depth(uint32_t n);

// A leaf: BLAKE2b-256("secagg/v1 roster leaf" || le32 id || c_pk || s_pk || sig_pk, then in an
// active session the attestation's certificate and binding), or for an absent id
// BLAKE2b-256("secagg/v1 roster absent").
Digest32 roster_leaf(const RosterEntry* entry);

// The root a proof leads to: the leaf of `id` (1-based) hashed up with its siblings (leaf level
// first), then bound as BLAKE2b-256("secagg/v1 roster root" || session id || le32 n || le32 u1 ||
// top). Throws Error(Exit::data) if the proof is not roster_tree_depth(n) digests long or id is
// outside [1, n].
Digest32 roster_root(const SessionId& sid, uint32_t n, uint32_t u1, uint32_t id, const Digest32& leaf,
                     std::span<const Digest32> path);

// The whole tree, on the server: O(n) digests.
class RosterTree {
 public:
  RosterTree(const SessionId& sid, uint32_t n, const Roster& roster);
  const Digest32& root() const { return root_; }
  // The proof of id's leaf (present or absent), id in [1, n].
  std::vector<Digest32> path(uint32_t id) const;

 private:
  std::vector<std::vector<Digest32>> levels_;  // levels_[0]: the 2^d leaves; the last: the top node
  Digest32 root_{};
};

}  // namespace secagg
