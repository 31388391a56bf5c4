// A SecAgg+ client's view of the roster (docs/protocol.md, "SecAgg+: the roster a client sees"):
// the server makes each client's neighbourhood message from the committed roster, and the client
// checks that what it got is exactly its window of the ring the commitment gives, entry by entry
// and proof by proof, before it uses any of it. Full SecAgg sends the whole roster instead.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graph.hpp"
#include "messages.hpp"
#include "roster_tree.hpp"

namespace secagg {

// The server's side: the tree and the ring of one roster, from which each client's message is
// made on demand (O(window d) each, so that no one holds n messages at once).
class RosterWindows {
 public:
  RosterWindows(const Params& p, const SessionId& sid, Roster roster);
  const Digest32& root() const { return tree_.root(); }
  const std::vector<uint32_t>& ring() const { return ring_; }  // ring_order of root()
  // Client id's round-0 answer (id in U1): its window of the ring, as an encoded message.
  Neighbourhood body(uint32_t id) const;
  Bytes message(uint32_t id) const;
  // The clients of U1 in id's window, sorted: what id sees of any later set.
  std::vector<uint32_t> members(uint32_t id) const;

 private:
  Params p_;
  SessionId sid_{};
  Roster roster_;
  RosterTree tree_;
  std::vector<uint32_t> ring_;
  std::vector<uint32_t> pos_;  // pos_[id - 1]: id's position on the ring
  RingSpan span(uint32_t id) const;
};

// A SecAgg+ client's part of a later round's set (U3) or consistency message: the ids of `set`,
// and the signatures of clients, in `members` (all sorted).
std::vector<uint32_t> within(std::span<const uint32_t> set, std::span<const uint32_t> members);
Consistency within(const Consistency& c, std::span<const uint32_t> members);

// The client's side: a checked window.
struct CheckedWindow {
  uint32_t u1 = 0;                // |U1|, as the commitment binds it
  Roster roster;                  // the entries of the window's U1 clients, sorted by id
  std::vector<uint32_t> members;  // the same clients in ring order
  bool whole = false;             // they are all of U1
};
// Checks a neighbourhood message for client `self` of session (p, sid): every slot's proof leads to
// one roster commitment, and the slots are exactly self's window of the ring that commitment
// seeds (graph.hpp, ring_window, out to window_reach(p) clients of U1 on either side).
// Throws Error(Exit::data) naming origin and the slot at fault otherwise.
CheckedWindow check_window(const Params& p, const SessionId& sid, uint32_t self, const Neighbourhood& nb,
                           const std::string& origin);

// The round-0 answer's type: neighbourhood in a SecAgg+ session, roster otherwise.
MsgType roster_message_type(const Params& p);

}  // namespace secagg
