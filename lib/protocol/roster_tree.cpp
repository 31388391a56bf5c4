#include "roster_tree.hpp"

#include <bit>
#include <string_view>

#include <fmt/format.h>
#include <sodium.h>

#include "error.hpp"
#include "le.hpp"

namespace secagg {
namespace {

constexpr std::string_view kLeafLabel = "secagg/v1 roster leaf";
constexpr std::string_view kAbsentLabel = "secagg/v1 roster absent";
constexpr std::string_view kNodeLabel = "secagg/v1 roster node";
constexpr std::string_view kRootLabel = "secagg/v1 roster root";

struct Hasher {
  crypto_generichash_state st;
  Hasher() { crypto_generichash_init(&st, nullptr, 0, 32); }
  Hasher& add(std::span<const uint8_t> b) {
    crypto_generichash_update(&st, b.data(), b.size());
    return *this;
  }
  Hasher& add(std::string_view s) { return add({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); }
  Hasher& add32(uint32_t v) {
    uint8_t b[4];
    le::store32(b, v);
    return add(b);
  }
  Hasher& add64(uint64_t v) {
    uint8_t b[8];
    le::store64(b, v);
    return add(b);
  }
  Digest32 done() {
    Digest32 out{};
    crypto_generichash_final(&st, out.data(), out.size());
    return out;
  }
};

Digest32 node(const Digest32& left, const Digest32& right) {
  return Hasher().add(kNodeLabel).add(left).add(right).done();
}

Digest32 bind_root(const SessionId& sid, uint32_t n, uint32_t u1, const Digest32& top) {
  return Hasher().add(kRootLabel).add(sid).add32(n).add32(u1).add(top).done();
}

}  // namespace

unsigned roster_tree_depth(uint32_t n) { return n <= 2 ? 1 : static_cast<unsigned>(std::bit_width(n - 1)); }

Digest32 roster_leaf(const RosterEntry* e) {
  if (!e) return Hasher().add(kAbsentLabel).done();
  Hasher h;
  h.add(kLeafLabel).add32(e->id).add(e->c_pk).add(e->s_pk).add(e->sig_pk);
  if (e->attestation) {
    const Certificate& c = e->attestation->cert;
    h.add32(c.id).add(c.identity_pk).add(c.ca_pk).add64(c.expires).add(c.signature).add(e->attestation->binding);
  }
  return h.done();
}

Digest32 roster_root(const SessionId& sid, uint32_t n, uint32_t u1, uint32_t id, const Digest32& leaf,
                     std::span<const Digest32> path) {
  const unsigned d = roster_tree_depth(n);
  if (id < 1 || id > n) throw Error(Exit::data, fmt::format("roster slot of client {}, outside [1, {}]", id, n));
  if (path.size() != d)
    throw Error(Exit::data, fmt::format("roster proof of client {} has {} digests, not the {} of a session of {} clients",
                                        id, path.size(), d, n));
  Digest32 h = leaf;
  uint32_t index = id - 1;
  for (const Digest32& sibling : path) {
    h = (index & 1) ? node(sibling, h) : node(h, sibling);
    index >>= 1;
  }
  return bind_root(sid, n, u1, h);
}

RosterTree::RosterTree(const SessionId& sid, uint32_t n, const Roster& roster) {
  const unsigned d = roster_tree_depth(n);
  const Digest32 absent = roster_leaf(nullptr);
  std::vector<Digest32> leaves(size_t{1} << d, absent);
  for (const RosterEntry& e : roster.clients) {
    if (e.id < 1 || e.id > n) throw Error(Exit::data, fmt::format("roster lists client {}, outside [1, {}]", e.id, n));
    leaves[e.id - 1] = roster_leaf(&e);
  }
  levels_.push_back(std::move(leaves));
  // An all-absent subtree hashes the same wherever it is: computed once per level.
  Digest32 empty = absent;
  while (levels_.back().size() > 1) {
    const std::vector<Digest32>& below = levels_.back();
    const Digest32 empty_above = node(empty, empty);
    std::vector<Digest32> up(below.size() / 2);
    for (size_t i = 0; i < up.size(); ++i)
      up[i] = below[2 * i] == empty && below[2 * i + 1] == empty ? empty_above : node(below[2 * i], below[2 * i + 1]);
    empty = empty_above;
    levels_.push_back(std::move(up));
  }
  root_ = bind_root(sid, n, static_cast<uint32_t>(roster.clients.size()), levels_.back()[0]);
}

std::vector<Digest32> RosterTree::path(uint32_t id) const {
  if (id < 1 || static_cast<size_t>(id) > levels_[0].size())
    throw Error(Exit::software, fmt::format("no roster slot for client {}", id));
  std::vector<Digest32> out;
  size_t index = id - 1;
  for (size_t l = 0; l + 1 < levels_.size(); ++l) {
    out.push_back(levels_[l][index ^ 1]);
    index >>= 1;
  }
  return out;
}

}  // namespace secagg
