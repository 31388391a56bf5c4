// SecAgg+ (k < n - 1): the neighbour graph, and random sessions with dropouts.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>

#include "client.hpp"
#include "error.hpp"
#include "graph.hpp"
#include "graph_bounds.hpp"
#include "params.hpp"
#include "roster_tree.hpp"
#include "roster_window.hpp"
#include "server_session.hpp"

using namespace secagg;

namespace {

Roster random_roster(std::mt19937_64& rng, uint32_t n, const std::vector<uint32_t>& absent = {}) {
  Roster r;
  for (uint32_t id = 1; id <= n; ++id) {
    if (std::find(absent.begin(), absent.end(), id) != absent.end()) continue;
    RosterEntry e;
    e.id = id;
    for (auto& b : e.c_pk) b = static_cast<uint8_t>(rng());
    for (auto& b : e.s_pk) b = static_cast<uint8_t>(rng());
    for (auto& b : e.sig_pk) b = static_cast<uint8_t>(rng());
    r.clients.push_back(e);
  }
  return r;
}

// The graph's parameters: n clients (the id domain 1..n), k neighbours; nothing else matters to it.
Params graph_params(uint32_t n, uint32_t k) {
  Params p;
  p.clients = n;
  p.neighbours = k;
  p.threshold = 2;
  p.modulus = 1 << 16;
  p.length = 1;
  return p;
}

std::vector<uint32_t> row(const NeighbourGraph& g, uint32_t u) {
  const auto c = g.closed(u);
  return {c.begin(), c.end()};
}

// The neighbourhood client u computes from its own checked window (what client_share does).
std::vector<uint32_t> client_view(const Params& p, const SessionId& sid, const RosterWindows& windows, uint32_t u) {
  const CheckedWindow w = check_window(p, sid, u, windows.body(u), fmt::format("roster-{}.msg", u));
  return RingWindow(w.members, w.whole, p.neighbours).closed(u);
}

}  // namespace

TEST_CASE("the neighbour graph is symmetric, k-regular and connected") {
  std::mt19937_64 rng(7);
  SessionId sid{};
  for (uint32_t m : {4u, 5u, 10u, 11u, 37u, 100u}) {
    // SecAgg+ takes an even k: k/2 neighbours on either side on the ring.
    for (uint32_t k = 2; k < m - 1; k += (m > 20 ? 8 : 2)) {
      Roster roster = random_roster(rng, m);
      NeighbourGraph g(graph_params(m, k), sid, roster);
      REQUIRE_FALSE(g.full());
      for (auto& e : roster.clients) {
        auto c = g.closed(e.id);
        CHECK(std::binary_search(c.begin(), c.end(), e.id));
        size_t degree = c.size() - 1;
        CHECK_MESSAGE(degree == k, "m=", m, " k=", k, " degree=", degree);
        for (uint32_t v : c) CHECK(g.adjacent(v, e.id));
      }
      // Connected: a search from the first client reaches everyone.
      std::set<uint32_t> seen{roster.clients[0].id};
      std::vector<uint32_t> todo{roster.clients[0].id};
      while (!todo.empty()) {
        uint32_t u = todo.back();
        todo.pop_back();
        for (uint32_t v : g.closed(u))
          if (seen.insert(v).second) todo.push_back(v);
      }
      CHECK(seen.size() == m);
    }
  }
}

// Clients compute only their own neighbourhood, from their window of the ring (roster_window.hpp);
// the server builds the whole graph. Any difference would make a client's shares and masks
// disagree with the server.
TEST_CASE("a client's own neighbourhood equals its row of the whole graph") {
  std::mt19937_64 rng(19);
  SessionId sid{};
  for (uint32_t m : {2u, 3u, 4u, 5u, 10u, 11u, 37u, 100u, 101u}) {
    const uint32_t n = m + 3;  // U1 leaves out ids 2, m/2 + 1 and m + 2
    std::vector<uint32_t> ks;
    for (uint32_t k = 2; k < n - 1; k += (m > 20 ? 6 : 2)) ks.push_back(k);
    ks.push_back(n - 1);  // full SecAgg
    for (uint32_t k : ks) {
      CAPTURE(m);
      CAPTURE(k);
      Roster roster = random_roster(rng, n, {2, m / 2 + 1, m + 2});
      const Params p = graph_params(n, k);
      NeighbourGraph g(p, sid, roster);
      // Full when k >= |U1| - 1, in full SecAgg and in SecAgg+ alike.
      CHECK(g.full() == (roster.clients.size() <= size_t{k} + 1));
      if (!is_secagg_plus(p)) {
        // Full SecAgg: the client takes the whole roster, and its neighbourhood is U1.
        for (auto& e : roster.clients) CHECK(row(g, e.id) == roster.ids());
        continue;
      }
      const RosterWindows windows(p, sid, roster);
      for (auto& e : roster.clients) CHECK(client_view(p, sid, windows, e.id) == row(g, e.id));
      // A client not in U1 has no row and no window, and no window of another client is its own.
      if (!g.full()) CHECK(g.closed(2).empty());
      try {
        (void)windows.body(2);
        FAIL("a window for a client not in U1");
      } catch (const Error& e) {
        CHECK(e.code() == Exit::software);
      }
      try {
        (void)check_window(p, sid, 2, windows.body(1), "roster-1.msg");
        FAIL("client 2 took client 1's window");
      } catch (const Error& e) {
        CHECK(e.code() == Exit::data);
      }
    }
  }
}

TEST_CASE("every party derives the same graph, and it depends on the session, the roster's entries and U1") {
  std::mt19937_64 rng(11);
  SessionId sid{};
  sid[0] = 1;
  const Params p = graph_params(30, 6);
  Roster roster = random_roster(rng, 30);
  NeighbourGraph a(p, sid, roster), b(p, sid, roster);
  // Over the clients of r: the same neighbourhood for each.
  auto same = [&](const NeighbourGraph& x, const NeighbourGraph& y, const Roster& r) {
    for (auto& e : r.clients)
      if (row(x, e.id) != row(y, e.id)) return false;
    return true;
  };
  CHECK_FALSE(a.full());
  CHECK(same(a, b, roster));
  // The server's graph from its commitment is the graph anyone computes from the roster.
  const RosterWindows windows(p, sid, roster);
  CHECK(windows.root() == RosterTree(sid, p.clients, roster).root());
  CHECK(same(a, NeighbourGraph(p, sid, roster, &windows.ring()), roster));
  SessionId other = sid;
  other[15] ^= 1;
  CHECK_FALSE(same(a, NeighbourGraph(p, other, roster), roster));
  // Any change of any entry changes the graph: each key of the first, a middle and the last entry.
  for (size_t i : {size_t{0}, size_t{14}, size_t{29}})
    for (int field = 0; field < 3; ++field) {
      CAPTURE(i);
      CAPTURE(field);
      Roster changed = roster;
      RosterEntry& e = changed.clients[i];
      (field == 0 ? e.c_pk : field == 1 ? e.s_pk : e.sig_pk)[0] ^= 1;
      CHECK_FALSE(same(a, NeighbourGraph(p, sid, changed), roster));
    }
  // An attestation is part of the entry too.
  Roster attested = roster;
  attested.clients[3].attestation = Attestation{};
  CHECK_FALSE(same(a, NeighbourGraph(p, sid, attested), roster));
  // Another U1: one client less.
  Roster fewer = roster;
  fewer.clients.erase(fewer.clients.begin() + 7);
  CHECK_FALSE(same(a, NeighbourGraph(p, sid, fewer), fewer));
  // k >= |U1| - 1: everyone neighbours everyone, in full SecAgg and in SecAgg+.
  CHECK(NeighbourGraph(graph_params(30, 29), sid, roster).full());
  Roster seven;
  for (uint32_t id : {1u, 4u, 9u, 12u, 20u, 27u, 30u}) seven.clients.push_back(*roster.find(id));
  const NeighbourGraph small(p, sid, seven);
  CHECK(small.full());
  const RosterWindows small_windows(p, sid, seven);
  for (uint32_t id : seven.ids()) {
    CHECK(row(small, id) == seven.ids());
    CHECK(client_view(p, sid, small_windows, id) == seven.ids());
  }
}

TEST_CASE("the graph does not depend on the order in which the server received the keys") {
  Params p;
  p.clients = 12;
  p.threshold = 4;
  p.neighbours = 4;
  p.modulus = 1 << 16;
  p.length = 4;
  validate_params(p);
  SessionId sid = new_session_id();
  std::vector<ClientState> cs;
  std::vector<Incoming> adverts;
  for (uint32_t id = 1; id <= p.clients; ++id) {
    cs.push_back(client_keygen(p, sid, id));
    adverts.push_back({fmt::format("adv{}", id), open_envelope(client_advertise(cs.back()), "adv")});
  }
  Roster r1 = collect_keys(p, sid, adverts);
  std::reverse(adverts.begin(), adverts.end());
  std::swap(adverts[2], adverts[7]);
  Roster r2 = collect_keys(p, sid, adverts);
  NeighbourGraph g1(p, sid, r1), g2(p, sid, r2);
  for (uint32_t id = 1; id <= p.clients; ++id) {
    auto a = g1.closed(id), b = g2.closed(id);
    CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
  }
}

namespace {

struct PlusOutcome {
  int aborted = -1;  // server abort round, -1: completed
  std::vector<uint32_t> u3;
  std::vector<uint64_t> aggregate;
  std::string message;
};

// One SecAgg+ session. vanish[id-1] = round before which the client disappears (Round::none: never).
// A client that refuses a step (Exit::aborted: its neighbourhood fell below t) drops out too.
PlusOutcome run_plus(const Params& p, const std::vector<Round>& vanish, const std::vector<std::vector<uint64_t>>& x) {
  PlusOutcome out;
  SessionId sid = new_session_id();
  std::vector<ClientState> st;
  std::vector<Incoming> in;
  auto alive = [&](uint32_t id, Round r) { return vanish[id - 1] > r; };
  auto step = [&](Round round, auto&& f) {
    try {
      f();
      return true;
    } catch (const Error& e) {
      if (e.code() != Exit::aborted) throw;
      out.aborted = round_number(round);
      out.message = e.what();
      return false;
    }
  };
  for (uint32_t id = 1; id <= p.clients; ++id) st.push_back(client_keygen(p, sid, id));
  for (uint32_t id = 1; id <= p.clients; ++id)
    if (alive(id, Round::r0)) in.push_back({"adv", open_envelope(client_advertise(st[id - 1]), "adv")});
  Roster roster;
  if (!step(Round::r0, [&] { roster = collect_keys(p, sid, in); })) return out;
  // Each client of U1 takes its own neighbourhood message (every session here is SecAgg+).
  REQUIRE(is_secagg_plus(p));
  const RosterWindows windows(p, sid, roster);
  in.clear();
  for (auto& e : roster.clients)
    if (alive(e.id, Round::r1)) {
      const Envelope mine = open_envelope(windows.message(e.id), "roster");
      in.push_back({"shares", open_envelope(client_share(st[e.id - 1], mine, "r"), "s")});
    }
  ShareRound r1;
  if (!step(Round::r1, [&] { r1 = collect_shares(p, sid, roster, in); })) return out;
  std::vector<Incoming> masked;
  for (uint32_t id : r1.u2) {
    if (!alive(id, Round::r2)) continue;
    Envelope inbox = open_envelope(encode(MsgType::inbox, sid, kServerId, id, r1.inboxes.at(id)), "inbox");
    try {
      masked.push_back({"masked", open_envelope(client_mask(st[id - 1], inbox, "inbox", x[id - 1], 1), "m")});
    } catch (const Error& e) {
      if (e.code() != Exit::aborted) throw;  // refused: its neighbourhood in U2 is below t
    }
  }
  MaskedRound r2;
  if (!step(Round::r2, [&] { r2 = collect_masked(p, sid, roster, r1.u2, masked); })) return out;
  out.u3 = r2.u3;
  Envelope surv = open_envelope(encode(MsgType::survivors, sid, kServerId, kServerId, IdList{r2.u3}), "survivors");
  std::vector<Incoming> answers;
  for (uint32_t id : r2.u3) {
    if (!alive(id, Round::r4)) continue;
    try {
      answers.push_back({"unmask", open_envelope(client_unmask(st[id - 1], surv, "survivors"), "u")});
    } catch (const Error& e) {
      if (e.code() != Exit::aborted) throw;
    }
  }
  Recovered rec;
  if (!step(Round::r4, [&] { rec = recover_secrets(p, sid, roster, r1.u2, r2.u3, answers); })) return out;
  out.aggregate = std::move(r2.sum);
  remove_masks(p, sid, roster, r2.u3, rec, out.aggregate.data(), 0, out.aggregate.size(), 2);
  return out;
}

}  // namespace

TEST_CASE("random SecAgg+ sessions give the plaintext sum of U3 or abort with a threshold message") {
  std::mt19937_64 rng(0x5ecA66u);
  int completed = 0, aborted = 0;
  for (int s = 0; s < 120; ++s) {
    Params p;
    p.clients = static_cast<uint32_t>(std::uniform_int_distribution<int>(5, 40)(rng));
    // An even k in [2, n - 2]: SecAgg+ takes k/2 neighbours on either side.
    p.neighbours = 2 * static_cast<uint32_t>(std::uniform_int_distribution<int>(1, (static_cast<int>(p.clients) - 2) / 2)(rng));
    uint32_t holders = p.neighbours + 1;
    p.threshold = std::uniform_int_distribution<uint32_t>(holders / 2 + 1, holders)(rng);
    const uint64_t moduli[] = {2, 3, 1u << 16, 1000003, uint64_t{1} << 32, (uint64_t{1} << 62) - 57};
    p.modulus = moduli[rng() % 6];
    p.length = 1 + rng() % 50;
    p.prg = static_cast<uint8_t>(rng() % 2 ? PrgKind::aes128ctr : PrgKind::chacha20);
    validate_params(p);
    double drop = std::uniform_real_distribution<double>(0, 0.25)(rng);
    std::vector<Round> vanish(p.clients, Round::none);
    for (auto& v : vanish)
      if (std::uniform_real_distribution<double>(0, 1)(rng) < drop) v = kRounds[rng() % 4];
    std::vector<std::vector<uint64_t>> x(p.clients, std::vector<uint64_t>(p.length));
    for (auto& xi : x)
      for (auto& e : xi) e = rng() % p.modulus;
    CAPTURE(s);
    CAPTURE(p.clients);
    CAPTURE(p.neighbours);
    CAPTURE(p.threshold);
    CAPTURE(p.modulus);
    PlusOutcome o = run_plus(p, vanish, x);
    bool nobody_drops = std::all_of(vanish.begin(), vanish.end(), [](Round v) { return v == Round::none; });
    if (nobody_drops) CHECK_MESSAGE(o.aborted == -1, "aborted without dropouts: ", o.message);
    if (o.aborted >= 0) {
      ++aborted;
      CHECK(o.message.find("threshold") != std::string::npos);
      continue;
    }
    ++completed;
    std::vector<uint64_t> want(p.length, 0);
    Modulus ring = p.ring();
    for (uint32_t id : o.u3)
      for (size_t i = 0; i < want.size(); ++i) want[i] = ring.add(want[i], x[id - 1][i]);
    CHECK(o.aggregate == want);
  }
  MESSAGE("SecAgg+ sessions: ", completed, " completed, ", aborted, " aborted");
  CHECK(completed > 50);
  CHECK(aborted > 0);
}

TEST_CASE("graph sizing follows Bell et al.'s bounds for stated dropout and corruption rates") {
  // Flower's evaluation: 51 share holders (k = 50), threshold 26, 5% dropouts and 5% corrupted.
  for (uint32_t n : {100u, 200u, 500u, 1000u}) CHECK(check_graph(n, 50, 26, 0.05, 0.05).empty());
  // Too few neighbours: no threshold is both secure and correct.
  CHECK(check_graph(500, 20, 11, 0.05, 0.05).find("no threshold works") != std::string::npos);
  // Too low a threshold: corrupted neighbours could reach it.
  CHECK(check_graph(500, 50, 15, 0.05, 0.05).find("too low") != std::string::npos);
  // Too high a threshold: surviving neighbours may not reach it.
  CHECK(check_graph(500, 50, 40, 0.05, 0.05).find("too high") != std::string::npos);
  // A very sparse graph falls apart once bad clients are removed.
  CHECK(check_graph(500, 4, 3, 0.05, 0.05).find("falls apart") != std::string::npos);

  auto c = choose_graph(1000, 0.05, 0.05);
  REQUIRE(c.has_value());
  CHECK(c->neighbours % 2 == 0);
  CHECK(check_graph(1000, c->neighbours, c->threshold, 0.05, 0.05).empty());
  // It is the fewest: two fewer neighbours fail.
  CHECK_FALSE(check_graph(1000, c->neighbours - 2, c->threshold, 0.05, 0.05).empty());
  // More dropouts or corruption never need fewer neighbours.
  auto worse = choose_graph(1000, 0.1, 0.1);
  REQUIRE(worse.has_value());
  CHECK(worse->neighbours >= c->neighbours);
  // With 45% corrupted and 45% dropping out no graph sparser than full SecAgg works.
  CHECK_FALSE(choose_graph(20, 0.45, 0.45).has_value());
}
