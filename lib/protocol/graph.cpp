#include "graph.hpp"

#include <algorithm>
#include <numeric>
#include <string_view>

#include <fmt/format.h>
#include <sodium.h>

#include "error.hpp"
#include "le.hpp"
#include "random_bits.hpp"
#include "roster_tree.hpp"

namespace secagg {
namespace {

constexpr std::string_view kGraphLabel = "secagg/v1 graph";

// Uniform integer in [0, bound) from the ChaCha20 keystream of the seed, by rejection (exact):
// 8 bytes per try, read little-endian, in the stream's order.
struct Draw {
  ChaChaRandomBits bits;
  explicit Draw(const uint8_t seed[32]) : bits(seed) {}
  uint64_t below(uint64_t bound) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    for (;;) {
      uint8_t b[8];
      bits.fill(b, sizeof b);
      const uint64_t v = le::get64(b);
      if (v < limit) return v % bound;
    }
  }
};

// N[members[i]] on the cycle `members` (|members| > k + 1), k even: the k/2 on either side.
std::vector<uint32_t> closed_on_cycle(std::span<const uint32_t> members, uint32_t k, size_t i) {
  const size_t m = members.size();
  std::vector<uint32_t> out{members[i]};
  out.reserve(k + 1);
  for (size_t j = 1; j <= k / 2; ++j) {
    out.push_back(members[(i + j) % m]);
    out.push_back(members[(i + m - j) % m]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> checked_ids(const Roster& roster) {
  std::vector<uint32_t> ids = roster.ids();
  for (size_t i = 1; i < ids.size(); ++i)
    if (ids[i - 1] >= ids[i]) throw Error(Exit::data, "roster ids are not sorted and unique");
  return ids;
}

}  // namespace

bool is_secagg_plus(const Params& p) { return p.clients >= 2 && p.neighbours < p.clients - 1; }

unsigned window_radius(const Params& p) { return p.active() ? 4 : 1; }

uint32_t window_reach(const Params& p) { return window_radius(p) * (p.neighbours / 2); }

std::vector<uint32_t> ring_order(const SessionId& sid, const Digest32& root, uint32_t n) {
  unsigned char seed[32];
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, sizeof seed);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kGraphLabel.data()), kGraphLabel.size());
  crypto_generichash_update(&st, sid.data(), sid.size());
  crypto_generichash_update(&st, root.data(), root.size());
  crypto_generichash_final(&st, seed, sizeof seed);
  std::vector<uint32_t> ring(n);
  std::iota(ring.begin(), ring.end(), uint32_t{1});
  Draw draw(seed);
  sodium_memzero(seed, sizeof seed);
  for (size_t i = ring.size(); i > 1; --i) std::swap(ring[i - 1], ring[draw.below(i)]);
  return ring;
}

RingSpan ring_window(std::span<const uint32_t> ring, size_t pos, uint32_t reach,
                     const std::function<bool(uint32_t id)>& in_u1) {
  const size_t n = ring.size();
  // Steps from pos to the reach-th member of U1 in one direction (+1 or -1); n if there is none.
  auto walk = [&](bool forward) {
    uint32_t found = 0;
    for (size_t i = 1; i < n; ++i)
      if (in_u1(ring[forward ? (pos + i) % n : (pos + n - i) % n]) && ++found == reach) return i;
    return n;
  };
  const size_t left = walk(false);
  const size_t right = left == n ? n : walk(true);
  if (left == n || right == n || left + right + 1 >= n) return RingSpan{.first = 0, .count = n, .whole = true};
  return RingSpan{.first = (pos + n - left) % n, .count = left + right + 1, .whole = false};
}

RingWindow::RingWindow(std::vector<uint32_t> members, bool whole, uint32_t k)
    : members_(std::move(members)), whole_(whole), k_(k) {
  std::vector<std::pair<uint32_t, uint32_t>> by_id;
  for (size_t i = 0; i < members_.size(); ++i) by_id.emplace_back(members_[i], static_cast<uint32_t>(i));
  std::sort(by_id.begin(), by_id.end());
  for (auto [id, i] : by_id) {
    sorted_.push_back(id);
    index_of_.push_back(i);
  }
}

std::vector<uint32_t> RingWindow::closed(uint32_t x) const {
  auto it = std::lower_bound(sorted_.begin(), sorted_.end(), x);
  if (it == sorted_.end() || *it != x) return {};
  const size_t i = index_of_[static_cast<size_t>(it - sorted_.begin())];
  const size_t m = members_.size();
  if (whole_) return m <= size_t{k_} + 1 ? sorted_ : closed_on_cycle(members_, k_, i);
  if (i < k_ / 2 || i + k_ / 2 >= m) return {};
  std::vector<uint32_t> out(members_.begin() + static_cast<ptrdiff_t>(i - k_ / 2),
                            members_.begin() + static_cast<ptrdiff_t>(i + k_ / 2 + 1));
  std::sort(out.begin(), out.end());
  return out;
}

LocalGraph LocalGraph::whole(std::vector<uint32_t> ids) {
  LocalGraph g;
  g.full_ = true;
  g.ball_ = std::move(ids);
  return g;
}

LocalGraph::LocalGraph(const RingWindow& w, uint32_t u, unsigned radius) {
  std::vector<uint32_t> mine = w.closed(u);
  if (w.whole() && w.members().size() <= mine.size()) {
    // N[u] is all of U1: so is every neighbourhood.
    full_ = true;
    ball_ = std::move(mine);
    return;
  }
  // Breadth first, one hop at a time; each client's neighbourhood is computed once.
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> found{{u, std::move(mine)}};
  std::vector<uint32_t> seen{u};
  size_t level_begin = 0;
  for (unsigned hop = 0; hop < radius; ++hop) {
    const size_t level_end = found.size();
    for (size_t i = level_begin; i < level_end; ++i)
      for (uint32_t y : found[i].second) {
        auto it = std::lower_bound(seen.begin(), seen.end(), y);
        if (it != seen.end() && *it == y) continue;
        seen.insert(it, y);
        found.push_back({y, w.closed(y)});
        if (found.back().second.empty())
          throw Error(Exit::software, fmt::format("client {}'s window of the ring is too narrow for {} hops", u, radius));
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

NeighbourGraph::NeighbourGraph(const Params& p, const SessionId& sid, const Roster& roster,
                               const std::vector<uint32_t>* ring) {
  ids_ = checked_ids(roster);
  const size_t m = ids_.size();
  if (!is_secagg_plus(p) || m <= size_t{p.neighbours} + 1) {
    full_ = true;
    return;
  }
  const std::vector<uint32_t> own =
      ring ? std::vector<uint32_t>{} : ring_order(sid, RosterTree(sid, p.clients, roster).root(), p.clients);
  std::vector<uint32_t> members;
  members.reserve(m);
  for (uint32_t id : ring ? *ring : own)
    if (std::binary_search(ids_.begin(), ids_.end(), id)) members.push_back(id);
  closed_.assign(m, {});
  for (size_t i = 0; i < m; ++i) {
    const size_t at = static_cast<size_t>(std::lower_bound(ids_.begin(), ids_.end(), members[i]) - ids_.begin());
    closed_[at] = closed_on_cycle(members, p.neighbours, i);
  }
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
