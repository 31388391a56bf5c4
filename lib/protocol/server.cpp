#include "server.hpp"

#include <fmt/format.h>

#include "graph.hpp"
#include "protocol.hpp"
#include "random.hpp"

namespace secagg {

SessionId new_session_id() {
  SessionId sid;
  random_bytes(sid.data(), sid.size());
  return sid;
}

void remove_masks(const Params& p, const SessionId& sid, const Roster& roster, std::span<const uint32_t> u3,
                  const Recovered& rec, uint64_t* sum, uint64_t begin, uint64_t end, unsigned threads,
                  const ProgressFn& progress) {
  remove_masks(p, sid, roster, NeighbourGraph(p, sid, roster), u3, rec, sum, begin, end, threads, progress);
}

void remove_masks(const Params& p, const SessionId& sid, const Roster& roster, const NeighbourGraph& graph,
                  std::span<const uint32_t> u3, const Recovered& rec, uint64_t* sum, uint64_t begin, uint64_t end,
                  unsigned threads, const ProgressFn& progress) {
  std::vector<SignedSeed> seeds;
  for (auto& [u, b] : rec.self_seeds) seeds.push_back({b, Sign::minus});
  // y_v carries sign(v, d) PRG(s_vd) for each dropped neighbour d: take it back out. One X25519
  // agreement per (d, v) pair, so they run on all threads.
  struct Pair {
    const Secret32* sk;
    uint32_t d, v;
  };
  std::vector<Pair> pairs;
  for (auto& [d, sk] : rec.mask_keys)
    for (uint32_t v : graph.closed(d))
      if (v != d && contains(u3, v)) pairs.push_back({&sk, d, v});
  const size_t first = seeds.size();
  seeds.resize(first + pairs.size());
  parallel_for(pairs.size(), threads, [&](size_t i) {
    const Pair& q = pairs[i];
    seeds[first + i] = {pairwise_seed(*q.sk, roster.find(q.v)->s_pk, sid, q.d, q.v), q.v < q.d ? Sign::minus : Sign::plus};
  });
  apply_masks(p.prg_kind(), p.ring(), seeds, sum, begin, end, threads, progress);
}

}  // namespace secagg
