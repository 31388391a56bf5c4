// Active mode with SecAgg+ (docs/security.md, "Active mode with SecAgg+"): round 3 signs each
// client's view U3 ∩ N[j], and a holder reveals only when every client its answer depends on has
// t signers in its own neighbourhood whose views agree with what the holder was shown. These tests
// play a lying server against the real client code and check the property the argument rests
// on: honest holders never reveal both kinds of share of one client, and the server never gets
// a victim's self-mask seed together with the mask keys of all its honest partners.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "active_session.hpp"
#include "client.hpp"
#include "consistency.hpp"
#include "crypto.hpp"
#include "envelope.hpp"
#include "error.hpp"
#include "graph.hpp"
#include "graph_bounds.hpp"
#include "identity.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "protocol.hpp"
#include "roster_window.hpp"

using namespace secagg;

namespace {

bool has(const std::vector<uint32_t>& ids, uint32_t id) { return std::binary_search(ids.begin(), ids.end(), id); }

std::vector<uint32_t> without(std::vector<uint32_t> ids, const std::set<uint32_t>& out) {
  std::erase_if(ids, [&](uint32_t x) { return out.count(x) > 0; });
  return ids;
}

// An active SecAgg+ session after round 1; its graph is known from round 0's roster.
struct Sparse {
  secagg::test::ActiveSession s;
  std::optional<NeighbourGraph> graph;
  std::vector<uint32_t> ids;
  std::set<uint32_t> corrupt;  // their keys are the server's: it signs anything for them
  RoundResult r1;

  std::vector<uint32_t> closed(uint32_t u) const {
    const auto c = graph->closed(u);
    return {c.begin(), c.end()};
  }
};

Sparse shared(uint32_t n, uint32_t k, uint32_t t, std::set<uint32_t> corrupt) {
  Sparse x;
  x.s = secagg::test::make_active_session(n, t, static_cast<uint32_t>(corrupt.size()), 2, k);
  x.graph.emplace(x.s.p, x.s.sid, x.s.roster);
  x.ids = x.s.roster.ids();
  x.corrupt = std::move(corrupt);
  x.r1 = secagg::test::share_round(x.s);
  return x;
}

// Round 2 with the lying server's inboxes: holder h keeps dealer d's bundle when keep(h, d).
template <class Keep>
void mask_all(Sparse& x, Keep keep) {
  for (uint32_t id : x.ids) {
    SealedShares box = decode_body<SealedShares>(open_envelope(x.r1.inboxes.at(id), "inbox"), "inbox");
    secagg::test::trim(box, [&](uint32_t dealer) { return keep(id, dealer); });
    const Bytes inbox = encode(MsgType::inbox, x.s.sid, kServerId, id, box);
    std::vector<uint64_t> in(2, id);
    REQUIRE_NOTHROW(client_mask(x.s.st[id], open_envelope(inbox, "inbox"), "inbox", in, 1));
  }
}

// What the honest clients revealed in round 4, by owner.
struct Reveals {
  std::map<uint32_t, uint32_t> self_mask, mask_key;  // owner -> honest holders that revealed a share
  uint32_t answered = 0, refused = 0;
  std::set<uint32_t> answered_by;
};

// Round 3 and 4 with survivor set u3_of[c] shown to client c. Every honest client signs what it is
// shown (if its checks let it); the server then gives each signer the best consistency message
// it can make for that client's set: every honest signature that verifies over it and a forged
// one for every corrupted client.
Reveals play(Sparse& x, const std::map<uint32_t, std::vector<uint32_t>>& u3_of) {
  auto survivors = [&](const std::vector<uint32_t>& u3) {
    return encode(MsgType::survivors, x.s.sid, kServerId, kServerId, IdList{u3});
  };
  std::map<uint32_t, Signature64> sig;
  for (uint32_t c : x.ids) {
    if (x.corrupt.count(c)) continue;
    try {
      const Bytes m = client_sign(x.s.st[c], open_envelope(survivors(u3_of.at(c)), "s"), "survivors.msg");
      sig[c] = decode_body<SurvivorSignature>(open_envelope(m, "sig"), "sig").signature;
    } catch (const Error& e) {
      CHECK(e.code() == Exit::aborted);  // its own checks: nothing signed
    }
  }
  Reveals out;
  for (auto& [c, own] : sig) {
    const auto& u3 = u3_of.at(c);
    Consistency best{u3, {}};
    for (uint32_t j : x.ids) {
      if (!has(u3, j)) continue;
      const Bytes bytes = consistency_signed_bytes(x.s.sid, j, signed_view(u3, x.graph->closed(j)));
      if (x.corrupt.count(j)) {
        best.signatures.push_back({j, ed25519_sign(x.s.st[j].sig_seed, bytes)});
      } else if (auto it = sig.find(j); it != sig.end() && ed25519_verify(x.s.roster.find(j)->sig_pk, it->second, bytes)) {
        best.signatures.push_back({j, it->second});
      }
    }
    const Bytes cm = encode(MsgType::consistency, x.s.sid, kServerId, kServerId, best);
    const Envelope ce = open_envelope(cm, "consistency.msg");
    try {
      const Bytes ans = client_unmask(x.s.st[c], open_envelope(survivors(u3), "s"), "survivors.msg", &ce, "c.msg");
      const auto body = decode_body<UnmaskShares>(open_envelope(ans, "unmask"), "unmask");
      for (const auto& o : body.self_mask) ++out.self_mask[o.owner];
      out.answered_by.insert(c);
      for (const auto& o : body.mask_key) ++out.mask_key[o.owner];
      ++out.answered;
    } catch (const Error& e) {
      CHECK(e.code() == Exit::aborted);
      CHECK(x.s.st[c].stage == round_number(Round::r3));  // refused: nothing revealed
      ++out.refused;
    }
  }
  return out;
}

// The uniqueness the argument proves: no client has both its self-mask seed and its mask key
// revealed by honest holders.
void check_unique(const Reveals& r) {
  for (const auto& [owner, count] : r.self_mask) {
    CAPTURE(owner);
    CHECK((r.mask_key.count(owner) == 0));
  }
}

// Whether the server now holds x_v: t shares of b_v and, for each honest partner w of v (W, the
// dealers left in v's inbox), t shares of s_sk_w; corrupted holders hand theirs over.
bool unmasks(const Sparse& x, const Reveals& r, uint32_t v, const std::vector<uint32_t>& w, uint32_t t) {
  auto corrupt_in = [&](uint32_t owner) {
    uint32_t n = 0;
    for (uint32_t h : x.graph->closed(owner)) n += static_cast<uint32_t>(x.corrupt.count(h));
    return n;
  };
  auto get = [](const std::map<uint32_t, uint32_t>& m, uint32_t k) { return m.count(k) ? m.at(k) : 0u; };
  if (get(r.self_mask, v) + corrupt_in(v) < t) return false;
  for (uint32_t p : w)
    if (!x.corrupt.count(p) && get(r.mask_key, p) + corrupt_in(p) < t) return false;
  return true;
}

}  // namespace

TEST_CASE("LocalGraph: the ball of radius r around u and its neighbourhoods are NeighbourGraph's") {
  // k = 8 at n = 31: the radius-4 window is the whole ring.
  for (uint32_t k : {4u, 6u, 8u}) {
    CAPTURE(k);
    secagg::test::ActiveSession s = secagg::test::make_active_session(31, k, 0, 1, k);
    const NeighbourGraph g(s.p, s.sid, s.roster);
    const RosterWindows windows(s.p, s.sid, s.roster);
    for (uint32_t u : {1u, 17u, 31u}) {
      // What client u computes from: its checked window of the ring.
      const CheckedWindow w = check_window(s.p, s.sid, u, windows.body(u), "roster.msg");
      const RingWindow ring(w.members, w.whole, k);
      for (unsigned radius = 0; radius <= 3; ++radius) {
        CAPTURE(u);
        CAPTURE(radius);
        const std::vector<uint32_t> ball = secagg::test::ball_of(g, u, radius);
        const LocalGraph local(ring, u, radius);
        CHECK(!local.full());
        CHECK(local.ball() == ball);
        for (uint32_t y : ball) {
          const auto a = local.closed(y), b = g.closed(y);
          CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
        }
      }
    }
  }
  // Full SecAgg: every client in the ball, N[x] = U1.
  secagg::test::ActiveSession f = secagg::test::make_active_session(6, 5, 0, 1);
  const LocalGraph full = LocalGraph::whole(f.roster.ids());
  CHECK(full.full());
  CHECK(full.closed(6).size() == 6);
  // SecAgg+ with |U1| <= k + 1: the window is the whole ring and the graph is full too.
  secagg::test::ActiveSession few = secagg::test::make_active_session(10, 4, 0, 1, 4);
  Roster five;
  for (uint32_t id : {1u, 3u, 5u, 7u, 9u}) five.clients.push_back(*few.roster.find(id));
  const CheckedWindow w = check_window(few.p, few.sid, 3, RosterWindows(few.p, few.sid, five).body(3), "roster.msg");
  CHECK(w.whole);
  const LocalGraph small(RingWindow(w.members, w.whole, 4), 3, 3);
  CHECK(small.full());
  CHECK(small.ball() == five.ids());
  CHECK(small.closed(9).size() == 5);
  CHECK(NeighbourGraph(few.p, few.sid, five).full());
}

TEST_CASE("active SecAgg+ thresholds: the rule per closed neighbourhood, and auto sizing") {
  // Full SecAgg: exactly t > (n + C) / 2.
  CHECK(likely_corrupt_neighbours(100, 99, 33) == 33);
  CHECK(min_active_threshold(100, 99, 33) == 67);
  // Few corrupted clients: every one of them may be a neighbour.
  CHECK(likely_corrupt_neighbours(100, 20, 5) == 5);
  CHECK(min_active_threshold(100, 20, 5) == 14);
  // Many: a neighbourhood holds fewer than C but more than its share k C / n.
  const uint32_t c = likely_corrupt_neighbours(10000, 100, 1000);
  CHECK(c > 10);
  CHECK(c < 60);
  CHECK(min_active_threshold(10000, 100, 1000) == (101 + c) / 2 + 1);
  // auto: a graph far sparser than n - 1 at 10,000 clients, 5% corrupted and 5% dropping out.
  auto g = choose_active_graph(10000, 500, 0.05);
  REQUIRE(g.has_value());
  CHECK(g->neighbours < 200);
  CHECK(g->threshold == min_active_threshold(10000, g->neighbours, 500));
}

TEST_CASE("lying server, active SecAgg+: a client alive to one neighbourhood and dropped to another") {
  // v's holders are shown U3 = U1; the holders of v's neighbour w's shares outside N[v], and two
  // of those inside, are shown w dropped. v's own neighbourhood agrees that v survived, but w's
  // does not agree on w: every holder shown U1 needs w settled before it reveals b_v (w's mask
  // key, revealed by the others, would unmask v's pairwise mask with w), so it refuses. Those
  // shown w dropped may answer: for them U1 \ {w} is one consistent survivor set, w's input is
  // left out of the sum, and nobody reveals w's self-mask seed.
  const uint32_t n = 30, k = 10, t = 6;
  Sparse x = shared(n, k, t, {});
  mask_all(x, [](uint32_t, uint32_t) { return true; });
  const uint32_t v = 1;
  const std::vector<uint32_t> nv = x.closed(v);
  // The neighbour of v sharing the fewest neighbours with it: ring distance k/2.
  uint32_t w = 0, common = n;
  for (uint32_t y : nv)
    if (y != v && count_common(nv, x.closed(y)) < common) common = count_common(nv, x.closed(y)), w = y;
  REQUIRE(common == 6);  // v, w and the four between them
  std::set<uint32_t> shown_dropped;
  uint32_t between = 0;
  for (uint32_t y : x.closed(w))
    if (!has(nv, y)) shown_dropped.insert(y);
    else if (y != v && y != w && between++ < 2) shown_dropped.insert(y);
  std::map<uint32_t, std::vector<uint32_t>> u3_of;
  for (uint32_t c : x.ids) u3_of[c] = shown_dropped.count(c) ? without(x.ids, {w}) : x.ids;
  const Reveals r = play(x, u3_of);
  check_unique(r);
  for (uint32_t c : nv)
    if (!shown_dropped.count(c)) CHECK(!r.answered_by.count(c));
  CHECK(r.self_mask.count(w) == 0);
}

TEST_CASE("lying server, active SecAgg+: random survivor sets and trimmed inboxes never unmask an input") {
  // n = 24, k = 8, C = 2 corrupted clients whose signatures the server forges at will, t = 6, the
  // smallest t > (k + 1 + c) / 2. Each trial trims a victim v's inbox to t - 1 partners W and
  // shows every client one of three survivor sets that split v from W.
  const uint32_t n = 24, k = 8;
  const uint32_t t = min_active_threshold(n, k, 2);
  REQUIRE(t == 6);
  std::mt19937 rng(20261202);
  uint32_t answered = 0;
  for (uint32_t trial = 0; trial < 8; ++trial) {
    CAPTURE(trial);
    const uint32_t v = 1 + trial % 4;  // never a corrupted id
    Sparse x = shared(n, k, t, {5, 13});
    std::vector<uint32_t> nbrs;
    for (uint32_t y : x.closed(v))
      if (y != v) nbrs.push_back(y);
    std::shuffle(nbrs.begin(), nbrs.end(), rng);
    std::vector<uint32_t> w(nbrs.begin(), nbrs.begin() + (t - 1));
    std::sort(w.begin(), w.end());
    mask_all(x, [&](uint32_t holder, uint32_t dealer) { return holder != v || dealer == v || has(w, dealer); });
    // All alive; W dropped (v alive); v dropped: each client is shown one, at random.
    const std::set<uint32_t> ws(w.begin(), w.end());
    const std::vector<std::vector<uint32_t>> sets = {x.ids, without(x.ids, ws), without(x.ids, {v})};
    // Trial 0 is the control: one set for everyone but v.
    std::map<uint32_t, std::vector<uint32_t>> u3_of;
    for (uint32_t c : x.ids) u3_of[c] = trial == 0 ? x.ids : sets[rng() % sets.size()];
    // v is shown a set whose part in N[v] lies within its U2, {v} ∪ W, so that it signs.
    std::vector<uint32_t> for_v;
    for (uint32_t c : x.ids)
      if (!has(x.closed(v), c) || c == v || has(w, c)) for_v.push_back(c);
    u3_of[v] = for_v;
    const Reveals r = play(x, u3_of);
    check_unique(r);
    CHECK(!unmasks(x, r, v, w, t));
    if (trial == 0) CHECK(r.answered >= n - 3);  // the honest clients but v (its set differs)
    answered += r.answered;
  }
  MESSAGE("holders that answered, over all trials: " << answered);
}

TEST_CASE("active SecAgg+: a client checks the certificates within three hops, the ones it relies on") {
  // A broken attestation far from client 1 is none of its business (the server and the audit
  // check every entry), even one in its window of the ring (out to four hops); one within three
  // hops is refused, as in full SecAgg. The server commits to the roster with the broken entry,
  // so the entry's proof holds; the commitment, and with it the ring, is that roster's.
  const uint32_t n = 40, k = 4;
  secagg::test::ActiveSession s = secagg::test::make_active_session(n, 4, 1, 2, k);
  auto with_bad = [&](uint32_t victim, size_t byte) {
    Roster r = s.roster;
    for (RosterEntry& e : r.clients)
      if (e.id == victim) e.attestation->binding[byte] ^= 1;
    return r;
  };
  // A victim (and which byte of its binding to break) whose roster puts it within three hops of
  // client 1, and one whose roster puts it in client 1's window but beyond three hops.
  struct Pick {
    uint32_t victim = 0;
    size_t byte = 0;
  };
  std::optional<Pick> near, far;
  for (size_t byte = 0; byte < 64 && !(near && far); ++byte)
    for (uint32_t victim = 2; victim <= n && !(near && far); ++victim) {
      const Roster r = with_bad(victim, byte);
      const CheckedWindow w =
          check_window(s.p, s.sid, 1, RosterWindows(s.p, s.sid, r).body(1), "roster-1.msg");
      const LocalGraph ball(RingWindow(w.members, w.whole, k), 1, 3);
      REQUIRE(ball.ball().size() < n);
      const bool in_window = std::find(w.members.begin(), w.members.end(), victim) != w.members.end();
      if (has(ball.ball(), victim)) {
        if (!near) near = Pick{victim, byte};
      } else if (in_window && !far) {
        far = Pick{victim, byte};
      }
    }
  REQUIRE(near.has_value());
  REQUIRE(far.has_value());
  auto message = [&](const Pick& pick) {
    return open_envelope(RosterWindows(s.p, s.sid, with_bad(pick.victim, pick.byte)).message(1), "roster-1.msg");
  };
  ClientState st = s.st[1];
  CHECK_NOTHROW(client_share(st, message(*far), "roster-1.msg"));
  st = s.st[1];
  try {
    client_share(st, message(*near), "roster-1.msg");
    FAIL("a bad certificate within three hops passed");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::data);
    CHECK(std::string(e.what()).find(fmt::format("roster entry of client {}", near->victim)) != std::string::npos);
  }
}
