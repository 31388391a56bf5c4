#include "graph.hpp"

#include <algorithm>

#include <sodium.h>

#include "error.hpp"
#include "le.hpp"
#include "prg.hpp"

namespace secagg {
namespace {

inline constexpr char kGraphLabel[] = "secagg/v1 graph";

// Uniform integer in [0, bound) from a keystream, by rejection (exact). Reads the stream in
// 512-byte blocks: the same bytes in the same order as 8 at a time, at a fraction of the calls.
struct Draw {
  Keystream ks;
  uint64_t offset = 0;
  uint8_t buf[512];
  size_t used = sizeof buf;
  explicit Draw(const uint8_t seed[32]) : ks(PrgKind::chacha20, seed) {}
  uint64_t below(uint64_t bound) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    for (;;) {
      if (used == sizeof buf) {
        ks.generate(offset, buf, sizeof buf);
        offset += sizeof buf;
        used = 0;
      }
      uint64_t v = le::get64(buf + used);
      used += 8;
      if (v < limit) return v % bound;
    }
  }
};

// The graph's seed: BLAKE2b(label || session id || every roster entry's id and X25519 keys).
void graph_seed(const SessionId& sid, const Roster& roster, unsigned char seed[32]) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
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
  crypto_generichash_final(&st, seed, 32);
}

// The sorted ids of U1 (checked: rosters come from files a tamperer can re-checksum) and their
// positions on the Harary cycle: order[p] is the id at position p.
std::vector<uint32_t> cycle_order(const SessionId& sid, const Roster& roster, const std::vector<uint32_t>& ids) {
  unsigned char seed[32];
  graph_seed(sid, roster, seed);
  std::vector<uint32_t> order = ids;
  Draw draw(seed);
  for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[draw.below(i + 1)]);
  sodium_memzero(seed, sizeof seed);
  sodium_memzero(draw.buf, sizeof draw.buf);
  return order;
}

std::vector<uint32_t> checked_ids(const Roster& roster) {
  std::vector<uint32_t> ids = roster.ids();
  for (size_t i = 1; i < ids.size(); ++i)
    if (ids[i - 1] >= ids[i]) throw Error(Exit::data, "roster ids are not sorted and unique");
  return ids;
}

// Every edge {p, q} (positions on the cycle) of the Harary graph H(k, m), in one order.
template <class F>
void for_each_edge(size_t m, uint32_t k, F&& link) {
  for (size_t p = 0; p < m; ++p)
    for (size_t j = 1; j <= k / 2; ++j) link(p, (p + j) % m);
  if (k % 2 == 1) {
    if (m % 2 == 0) {
      for (size_t p = 0; p < m / 2; ++p) link(p, p + m / 2);
    } else {
      for (size_t p = 0; p <= (m - 1) / 2; ++p) link(p, (p + (m + 1) / 2) % m);
    }
  }
}

}  // namespace

NeighbourGraph::NeighbourGraph(const SessionId& sid, const Roster& roster, uint32_t k) {
  ids_ = checked_ids(roster);
  const size_t m = ids_.size();
  if (k >= m - 1 || m <= 2) {
    full_ = true;
    return;
  }
  if (k < 1) throw Error(Exit::usage, "a neighbour graph needs at least one neighbour per client");
  const std::vector<uint32_t> order = cycle_order(sid, roster, ids_);
  std::vector<size_t> index_of_pos(m);  // position -> index in ids_
  for (size_t p = 0; p < m; ++p)
    index_of_pos[p] = static_cast<size_t>(std::lower_bound(ids_.begin(), ids_.end(), order[p]) - ids_.begin());
  closed_.assign(m, {});
  for (size_t p = 0; p < m; ++p) {
    closed_[index_of_pos[p]].reserve(k + 2);
    closed_[index_of_pos[p]].push_back(order[p]);
  }
  for_each_edge(m, k, [&](size_t p, size_t q) {
    closed_[index_of_pos[p]].push_back(order[q]);
    closed_[index_of_pos[q]].push_back(order[p]);
  });
  for (auto& c : closed_) {
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
  }
}

namespace {

// N[order[pos]] on the Harary cycle `order` of degree k < m - 1, sorted.
std::vector<uint32_t> closed_at(const std::vector<uint32_t>& order, uint32_t k, size_t pos) {
  const size_t m = order.size();
  std::vector<uint32_t> out{order[pos]};
  out.reserve(k + 2);
  // The ring links are the k/2 positions on either side; only the odd-k links need a scan.
  for (size_t j = 1; j <= k / 2; ++j) {
    out.push_back(order[(pos + j) % m]);
    out.push_back(order[(pos + m - j) % m]);
  }
  if (k % 2 == 1)
    for_each_edge(m, 1, [&](size_t p, size_t q) {  // k = 1: exactly the odd-k links
      if (p == pos) out.push_back(order[q]);
      if (q == pos) out.push_back(order[p]);
    });
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::vector<uint32_t> closed_neighbourhood(const SessionId& sid, const Roster& roster, uint32_t k, uint32_t u) {
  std::vector<uint32_t> ids = checked_ids(roster);
  if (!std::binary_search(ids.begin(), ids.end(), u)) return {};
  const size_t m = ids.size();
  if (k >= m - 1 || m <= 2) return ids;
  if (k < 1) throw Error(Exit::usage, "a neighbour graph needs at least one neighbour per client");
  const std::vector<uint32_t> order = cycle_order(sid, roster, ids);
  const size_t pos = static_cast<size_t>(std::find(order.begin(), order.end(), u) - order.begin());
  return closed_at(order, k, pos);
}

LocalGraph::LocalGraph(const SessionId& sid, const Roster& roster, uint32_t k, uint32_t u, unsigned radius) {
  std::vector<uint32_t> ids = checked_ids(roster);
  if (!std::binary_search(ids.begin(), ids.end(), u)) return;
  const size_t m = ids.size();
  if (k >= m - 1 || m <= 2) {
    full_ = true;
    ball_ = std::move(ids);
    return;
  }
  if (k < 1) throw Error(Exit::usage, "a neighbour graph needs at least one neighbour per client");
  const std::vector<uint32_t> order = cycle_order(sid, roster, ids);
  std::vector<size_t> pos_of(m);  // index in ids -> position on the cycle
  for (size_t p = 0; p < m; ++p)
    pos_of[static_cast<size_t>(std::lower_bound(ids.begin(), ids.end(), order[p]) - ids.begin())] = p;
  auto pos = [&](uint32_t x) {
    return pos_of[static_cast<size_t>(std::lower_bound(ids.begin(), ids.end(), x) - ids.begin())];
  };
  // Breadth first, one hop at a time; each client's neighbourhood is computed once.
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> found{{u, closed_at(order, k, pos(u))}};
  std::vector<uint32_t> seen{u};
  size_t level_begin = 0;
  for (unsigned hop = 0; hop < radius; ++hop) {
    const size_t level_end = found.size();
    for (size_t i = level_begin; i < level_end; ++i)
      for (uint32_t y : found[i].second) {
        auto it = std::lower_bound(seen.begin(), seen.end(), y);
        if (it != seen.end() && *it == y) continue;
        seen.insert(it, y);
        found.push_back({y, closed_at(order, k, pos(y))});
      }
    level_begin = level_end;
  }
  std::sort(found.begin(), found.end());
  for (auto& [x, c] : found) {
    ball_.push_back(x);
    closed_.push_back(std::move(c));
  }
}

std::span<const uint32_t> LocalGraph::closed(uint32_t x) const {
  auto it = std::lower_bound(ball_.begin(), ball_.end(), x);
  if (it == ball_.end() || *it != x) return {};
  if (full_) return ball_;
  return closed_[static_cast<size_t>(it - ball_.begin())];
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
