#include "roster_window.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "error.hpp"

namespace secagg {

MsgType roster_message_type(const Params& p) { return is_secagg_plus(p) ? MsgType::neighbourhood : MsgType::roster; }

RosterWindows::RosterWindows(const Params& p, const SessionId& sid, Roster roster)
    : p_(p), sid_(sid), roster_(std::move(roster)), tree_(sid, p.clients, roster_) {
  ring_ = ring_order(sid_, tree_.root(), p_.clients);
  pos_.resize(ring_.size());
  for (size_t q = 0; q < ring_.size(); ++q) pos_[ring_[q] - 1] = static_cast<uint32_t>(q);
}

RingSpan RosterWindows::span(uint32_t id) const {
  if (id < 1 || id > p_.clients || !roster_.find(id))
    throw Error(Exit::software, fmt::format("client {} is not in U1: it has no window", id));
  return ring_window(ring_, pos_[id - 1], window_reach(p_),
                     [&](uint32_t v) { return roster_.find(v) != nullptr; });
}

std::vector<uint32_t> RosterWindows::members(uint32_t id) const {
  const RingSpan w = span(id);
  std::vector<uint32_t> out;
  for (size_t j = 0; j < w.count; ++j)
    if (const uint32_t v = ring_[(w.first + j) % ring_.size()]; roster_.find(v)) out.push_back(v);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> within(std::span<const uint32_t> set, std::span<const uint32_t> members) {
  std::vector<uint32_t> out;
  std::set_intersection(set.begin(), set.end(), members.begin(), members.end(), std::back_inserter(out));
  return out;
}

Consistency within(const Consistency& c, std::span<const uint32_t> members) {
  Consistency out;
  out.u3 = within(c.u3, members);
  for (const SignedBy& s : c.signatures)
    if (std::binary_search(members.begin(), members.end(), s.id)) out.signatures.push_back(s);
  return out;
}

Neighbourhood RosterWindows::body(uint32_t id) const {
  const RingSpan w = span(id);
  Neighbourhood nb;
  nb.u1 = static_cast<uint32_t>(roster_.clients.size());
  nb.slots.reserve(w.count);
  for (size_t j = 0; j < w.count; ++j) {
    const uint32_t v = ring_[(w.first + j) % ring_.size()];
    WindowSlot s;
    s.id = v;
    if (const RosterEntry* e = roster_.find(v)) s.entry = *e;
    s.path = tree_.path(v);
    nb.slots.push_back(std::move(s));
  }
  return nb;
}

Bytes RosterWindows::message(uint32_t id) const {
  return encode(MsgType::neighbourhood, sid_, kServerId, id, body(id));
}

CheckedWindow check_window(const Params& p, const SessionId& sid, uint32_t self, const Neighbourhood& nb,
                           const std::string& origin) {
  auto bad = [&](const std::string& what) { return Error(Exit::data, fmt::format("{}: {}", origin, what)); };
  if (nb.slots.empty()) throw bad(fmt::format("neighbourhood message for client {} has no slots", self));
  if (nb.u1 > p.clients)
    throw bad(fmt::format("neighbourhood message says U1 has {} clients, more than the session's {}", nb.u1, p.clients));
  // One commitment: every slot's proof must lead to the first slot's root.
  Digest32 root{};
  for (size_t j = 0; j < nb.slots.size(); ++j) {
    const WindowSlot& s = nb.slots[j];
    if (s.entry && s.entry->id != s.id) throw bad(fmt::format("window slot {} holds an entry of another client", s.id));
    const Digest32 r = [&] {
      try {
        return roster_root(sid, p.clients, nb.u1, s.id, roster_leaf(s.entry ? &*s.entry : nullptr), s.path);
      } catch (const Error& e) {
        throw bad(e.what());
      }
    }();
    if (j == 0) {
      root = r;
    } else if (r != root) {
      throw bad(fmt::format("window slots of clients {} and {} lead to different roster commitments (an entry or a "
                            "proof was changed): refusing the roster",
                            nb.slots[0].id, s.id));
    }
  }
  // The slots, by id, to look a client up while walking the ring.
  std::vector<std::pair<uint32_t, size_t>> by_id;
  for (size_t j = 0; j < nb.slots.size(); ++j) by_id.emplace_back(nb.slots[j].id, j);
  std::sort(by_id.begin(), by_id.end());
  for (size_t j = 1; j < by_id.size(); ++j)
    if (by_id[j - 1].first == by_id[j].first)
      throw bad(fmt::format("neighbourhood message has two slots for client {}", by_id[j].first));
  auto slot_of = [&](uint32_t v) -> const WindowSlot* {
    auto it = std::lower_bound(by_id.begin(), by_id.end(), std::pair<uint32_t, size_t>{v, 0});
    return it != by_id.end() && it->first == v ? &nb.slots[it->second] : nullptr;
  };
  const WindowSlot* mine = slot_of(self);
  if (!mine || !mine->entry) throw bad(fmt::format("neighbourhood message does not list client {} in U1", self));

  const std::vector<uint32_t> ring = ring_order(sid, root, p.clients);
  const size_t pos = static_cast<size_t>(std::find(ring.begin(), ring.end(), self) - ring.begin());
  const RingSpan w = ring_window(ring, pos, window_reach(p), [&](uint32_t v) {
    const WindowSlot* s = slot_of(v);
    if (!s)
      throw bad(fmt::format("neighbourhood message lacks the slot of client {}, which the committed roster's ring puts "
                            "within client {}'s window: refusing a neighbourhood that does not follow from the "
                            "commitment",
                            v, self));
    return s->entry.has_value();
  });
  if (w.count != nb.slots.size())
    throw bad(fmt::format("neighbourhood message has {} slots where the committed roster's ring gives client {} a "
                          "window of {}: refusing a neighbourhood that does not follow from the commitment",
                          nb.slots.size(), self, w.count));
  CheckedWindow out;
  out.u1 = nb.u1;
  out.whole = w.whole;
  for (size_t j = 0; j < w.count; ++j) {
    const WindowSlot& s = nb.slots[j];
    const uint32_t want = ring[(w.first + j) % ring.size()];
    if (s.id != want)
      throw bad(fmt::format("neighbourhood message's slot {} is client {} where the committed roster's ring has client "
                            "{}: refusing a neighbourhood that does not follow from the commitment",
                            j, s.id, want));
    if (s.entry) {
      out.members.push_back(s.id);
      out.roster.clients.push_back(*s.entry);
    }
  }
  if (out.whole && out.members.size() != nb.u1)
    throw bad(fmt::format("neighbourhood message shows all of U1 as {} clients but says U1 has {}",
                          out.members.size(), nb.u1));
  std::sort(out.roster.clients.begin(), out.roster.clients.end(),
            [](const RosterEntry& a, const RosterEntry& b) { return a.id < b.id; });
  return out;
}

}  // namespace secagg
