#include "graph.hpp"

#include <algorithm>

#include <sodium.h>

#include "error.hpp"
#include "le.hpp"
#include "prg.hpp"

namespace secagg {
namespace {

inline constexpr char kGraphLabel[] = "secagg/v1 graph";

// Uniform integer in [0, bound) from a keystream, by rejection (exact).
struct Draw {
  Keystream ks;
  uint64_t offset = 0;
  explicit Draw(const uint8_t seed[32]) : ks(PrgKind::chacha20, seed) {}
  uint64_t below(uint64_t bound) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    for (;;) {
      uint8_t b[8];
      ks.generate(offset, b, 8);
      offset += 8;
      uint64_t v = le::get64(b);
      if (v < limit) return v % bound;
    }
  }
};

}  // namespace

NeighbourGraph::NeighbourGraph(const SessionId& sid, const Roster& roster, uint32_t k) {
  ids_ = roster.ids();
  // Rosters come from files (a client's state, the server's session directory) that a
  // tamperer can re-checksum, so the order the construction relies on is checked, not assumed.
  for (size_t i = 1; i < ids_.size(); ++i)
    if (ids_[i - 1] >= ids_[i]) throw Error(Exit::data, "roster ids are not sorted and unique");
  const size_t m = ids_.size();
  if (k >= m - 1 || m <= 2) {
    full_ = true;
    return;
  }
  if (k < 1) throw Error(Exit::usage, "a neighbour graph needs at least one neighbour per client");

  unsigned char seed[32];
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, sizeof seed);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kGraphLabel), sizeof kGraphLabel - 1);
  crypto_generichash_update(&st, sid.data(), sid.size());
  Bytes entry;
  for (const auto& e : roster.clients) {
    entry.clear();
    le::put32(entry, e.id);
    entry.insert(entry.end(), e.c_pk.begin(), e.c_pk.end());
    entry.insert(entry.end(), e.s_pk.begin(), e.s_pk.end());
    crypto_generichash_update(&st, entry.data(), entry.size());
  }
  crypto_generichash_final(&st, seed, sizeof seed);

  std::vector<uint32_t> order = ids_;  // position -> id
  Draw draw(seed);
  for (size_t i = m - 1; i > 0; --i) std::swap(order[i], order[draw.below(i + 1)]);

  std::vector<size_t> index_of_pos(m);  // position -> index in ids_
  for (size_t p = 0; p < m; ++p)
    index_of_pos[p] = static_cast<size_t>(std::lower_bound(ids_.begin(), ids_.end(), order[p]) - ids_.begin());
  closed_.assign(m, {});
  auto link = [&](size_t p, size_t q) {
    closed_[index_of_pos[p]].push_back(order[q]);
    closed_[index_of_pos[q]].push_back(order[p]);
  };
  for (size_t p = 0; p < m; ++p) {
    closed_[index_of_pos[p]].push_back(order[p]);
    for (size_t j = 1; j <= k / 2; ++j) link(p, (p + j) % m);
  }
  if (k % 2 == 1) {
    if (m % 2 == 0) {
      for (size_t p = 0; p < m / 2; ++p) link(p, p + m / 2);
    } else {
      for (size_t p = 0; p <= (m - 1) / 2; ++p) link(p, (p + (m + 1) / 2) % m);
    }
  }
  for (auto& c : closed_) {
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
  }
  sodium_memzero(seed, sizeof seed);
}

std::span<const uint32_t> NeighbourGraph::closed(uint32_t u) const {
  if (full_) return ids_;
  auto it = std::lower_bound(ids_.begin(), ids_.end(), u);
  if (it == ids_.end() || *it != u) return {};
  return closed_[static_cast<size_t>(it - ids_.begin())];
}

bool NeighbourGraph::adjacent(uint32_t u, uint32_t v) const {
  auto c = closed(u);
  return std::binary_search(c.begin(), c.end(), v);
}

}  // namespace secagg
