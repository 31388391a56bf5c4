// Round 3 of an active session over a neighbour graph (docs/security.md, "Active mode with
// SecAgg+"). Client j signs its view U3 ∩ N[j], the part of the survivor set its neighbourhood
// decides; in full SecAgg N[j] is U1 and the view is U3 itself. A holder reveals shares only
// when every client whose status its answer depends on has t signers in its own neighbourhood
// whose views agree with the U3 the holder was shown: two such quorums in one neighbourhood of
// k + 1 clients share an honest signer when t > (k + 1 + c) / 2, so honest holders never
// disagree on whether a client survived.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "graph.hpp"
#include "protocol.hpp"

namespace secagg {

// U3 ∩ N[j]: what client j signs in round 3. Both sorted.
std::vector<uint32_t> signed_view(std::span<const uint32_t> u3, std::span<const uint32_t> closed);

// The clients whose quorums holder u checks before it answers round 4: every survivor within two
// hops (its neighbours' partners, whose status decides what its self-mask shares unmask) and the
// dealers of the shares it holds (u2: its U2, within N[u]). Sorted.
std::vector<uint32_t> quorum_owners(const LocalGraph& g, std::span<const uint32_t> u3, std::span<const uint32_t> u2,
                                    uint32_t u);

// The first owner x (ascending) with fewer than t of `signers` in N[x], and how many it has.
struct QuorumGap {
  uint32_t owner = 0;
  uint32_t signers = 0;
};
template <class ClosedOf>
std::optional<QuorumGap> first_gap(std::span<const uint32_t> owners, std::span<const uint32_t> signers, uint32_t t,
                                   ClosedOf&& closed_of);

template <class ClosedOf>
std::optional<QuorumGap> first_gap(std::span<const uint32_t> owners, std::span<const uint32_t> signers, uint32_t t,
                                   ClosedOf&& closed_of) {
  for (uint32_t x : owners) {
    const uint32_t got = count_common(closed_of(x), signers);
    if (got < t) return QuorumGap{x, got};
  }
  return std::nullopt;
}

}  // namespace secagg
