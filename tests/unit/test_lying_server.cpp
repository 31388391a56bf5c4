// The lying-server attack of docs/security.md ("A lying server beats t > n/2"), reproduced with
// the library's real client code: a server that lies about who survived recovers one honest
// client's exact input with t > n/2, no Sybil clients, and every client check passing.
//
// This pins what an honest-but-curious session does NOT protect against (threat model T1 only,
// docs/protocol.md). The same attack against an active session (docs/security.md, "Active mode":
// certified identities, round 3) runs below too: there every client refuses to reveal anything.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "active_session.hpp"
#include "client.hpp"
#include "crypto.hpp"
#include "envelope.hpp"
#include "error.hpp"
#include "mask.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "protocol.hpp"
#include "server_session.hpp"
#include "shamir.hpp"

using namespace secagg;

namespace {

// What the lying server decides before the session starts.
struct AttackPlan {
  uint32_t n = 0, t = 0;
  uint32_t v = 0;                                    // the target
  std::vector<uint32_t> w;                           // W: the t - 1 peers left in v's inbox, sorted
  std::map<uint32_t, std::vector<uint32_t>> u3_of;   // every client c: the survivor set U3(c) it is shown
};

std::vector<uint32_t> all_ids(uint32_t n) {
  std::vector<uint32_t> ids(n);
  for (uint32_t i = 0; i < n; ++i) ids[i] = i + 1;
  return ids;
}

bool in(const std::vector<uint32_t>& ids, uint32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

// The shares of each secret the plan makes honest clients reveal, counted from the survivor sets
// alone: a client c ≠ v (whose inbox is complete) reveals its share of b_u for u in U3(c) and of
// s_sk_u for u not in U3(c) (client_unmask). v itself is left out: it holds shares of {v} ∪ W
// only and, shown U3(v) = {v} ∪ W, reveals no mask key.
struct ShareCounts {
  uint32_t self_seed_v = 0;                 // shares of b_v
  std::map<uint32_t, uint32_t> mask_key;    // w in W -> shares of s_sk_w
};
ShareCounts count_shares(const AttackPlan& a) {
  ShareCounts k;
  for (uint32_t w : a.w) k.mask_key[w] = 0;
  for (uint32_t c = 1; c <= a.n; ++c) {
    if (c == a.v) continue;
    const auto& u3 = a.u3_of.at(c);
    if (in(u3, a.v)) ++k.self_seed_v;
    for (uint32_t w : a.w)
      if (!in(u3, w)) ++k.mask_key[w];
  }
  return k;
}

// A plan the clients' round-4 checks accept (every U3(c) contains c and v, has at least t members
// and lies within c's U2) and that reveals t shares of b_v and of every s_sk_w.
bool plan_works(const AttackPlan& a) {
  if (a.w.size() + 1 < a.t || in(a.w, a.v)) return false;
  for (uint32_t c = 1; c <= a.n; ++c) {
    auto it = a.u3_of.find(c);
    if (it == a.u3_of.end()) return false;
    const auto& u3 = it->second;
    // c's own U2: the senders of its inbox, {v} ∪ W for v and everyone for the others.
    std::vector<uint32_t> u2 = all_ids(a.n);
    if (c == a.v) std::erase_if(u2, [&](uint32_t u) { return u != a.v && !in(a.w, u); });
    if (!in(u3, c) || !in(u3, a.v) || u3.size() < a.t || !std::is_sorted(u3.begin(), u3.end())) return false;
    for (uint32_t u : u3)
      if (!in(u2, u)) return false;
  }
  const ShareCounts k = count_shares(a);
  if (k.self_seed_v < a.t) return false;
  for (uint32_t w : a.w)
    if (k.mask_key.at(w) < a.t) return false;
  return true;
}

// The counting argument of docs/security.md made constructive: v = 1, W = {2, ..., t}; every
// other client c leaves out of U3(c) up to n - t members of W \ {c}, those still needing the most
// shares first. Returns nothing when that does not reach t shares of every s_sk_w.
std::optional<AttackPlan> plan_attack(uint32_t n, uint32_t t) {
  AttackPlan a;
  a.n = n;
  a.t = t;
  a.v = 1;
  for (uint32_t w = 2; w <= t; ++w) a.w.push_back(w);
  std::map<uint32_t, uint32_t> need;
  for (uint32_t w : a.w) need[w] = t;
  // Members of W first: they cannot leave themselves out, so they are the constrained ones; the
  // clients outside W, who may leave out any member of W, then fill what is still missing.
  std::vector<uint32_t> order = a.w;
  for (uint32_t c = t + 1; c <= n; ++c) order.push_back(c);
  for (uint32_t c : order) {
    std::vector<uint32_t> cand;
    for (uint32_t w : a.w)
      if (w != c && need[w] > 0) cand.push_back(w);
    std::stable_sort(cand.begin(), cand.end(), [&](uint32_t x, uint32_t y) { return need[x] > need[y]; });
    if (cand.size() > n - t) cand.resize(n - t);
    std::vector<uint32_t> u3;
    for (uint32_t u = 1; u <= n; ++u)
      if (!in(cand, u)) u3.push_back(u);
    for (uint32_t w : cand) --need[w];
    a.u3_of[c] = u3;
  }
  a.u3_of[a.v] = a.w;  // v is shown exactly its own U2, {v} ∪ W: the only set it accepts
  a.u3_of[a.v].insert(a.u3_of[a.v].begin(), a.v);
  if (!plan_works(a)) return std::nullopt;
  return a;
}

// The condition docs/security.md states: t(t − 1) key shares needed, at most n − t left out by
// each of the other n − 1 clients.
bool doc_condition(uint32_t n, uint32_t t) { return uint64_t{t} * (t - 1) <= uint64_t{n - 1} * (n - t); }

struct AttackResult {
  std::vector<uint64_t> x_v;        // v's real input
  std::vector<uint64_t> recovered;  // what the server computed from y_v alone
  std::vector<uint64_t> recovered_by_remove_masks;
  ShareCounts counted;              // shares the other clients actually revealed
};

// One whole session, every client running the library's honest client code, the server lying
// as docs/security.md describes. Every client call must succeed.
AttackResult run_attack(const AttackPlan& a, PrgKind prg, uint64_t length, uint64_t seed) {
  REQUIRE(plan_works(a));
  const uint32_t n = a.n, t = a.t, v = a.v;
  Params p;
  p.clients = n;
  p.threshold = t;
  p.neighbours = n - 1;  // full SecAgg: everyone shares with everyone
  p.modulus = uint64_t{1} << 32;
  p.length = length;
  p.prg = static_cast<uint8_t>(prg);
  REQUIRE_NOTHROW(validate_params(p));  // a threshold secagg accepts: t > n/2, no --insecure-low-threshold
  REQUIRE(2 * t > n);

  std::mt19937_64 rng(seed);
  std::vector<std::vector<uint64_t>> x(n + 1, std::vector<uint64_t>(length));
  for (uint32_t id = 1; id <= n; ++id)
    for (auto& e : x[id]) e = rng() & 0xffffffffu;

  // Setup and round 0 are honest: the server relays the real keys (no key substitution).
  const SessionId sid = new_session_id();
  const Envelope params_env = open_envelope(encode(MsgType::params, sid, kServerId, kServerId, p), "params.msg");
  const Params cp = decode_body<Params>(params_env, "params.msg");
  std::vector<ClientState> st(n + 1);
  std::vector<Incoming> adverts;
  for (uint32_t id = 1; id <= n; ++id) {
    REQUIRE_NOTHROW(st[id] = client_keygen(cp, params_env.session, id));
    adverts.push_back({fmt::format("adv-{}.msg", id), open_envelope(client_advertise(st[id]), "adv")});
  }
  const Roster roster = collect_keys(p, sid, adverts);
  const Bytes roster_msg = encode(MsgType::roster, sid, kServerId, kServerId, roster);

  // Round 1: every client shares its keys with every other; the server collects them honestly.
  std::vector<Incoming> shares;
  for (uint32_t id = 1; id <= n; ++id) {
    Bytes m;
    REQUIRE_NOTHROW(m = client_share(st[id], open_envelope(roster_msg, "roster.msg"), "roster.msg"));
    shares.push_back({fmt::format("shares-{}.msg", id), open_envelope(m, "shares")});
  }
  ShareRound r1 = collect_shares(p, sid, roster, shares);
  REQUIRE(r1.u2 == all_ids(n));

  // ATTACK STEP 1: trim v's inbox to t bundles, its own and those of W. v checks only that its
  // inbox holds at least t senders, itself among them, so it takes U2 = {v} ∪ W and masks with
  // W alone: y_v = x_v + PRG(b_v) + sum over w in W of sign(v, w) PRG(s_vw). Every other
  // client gets its complete inbox, so it holds shares of b_v and of every s_sk_w.
  std::map<uint32_t, Bytes> inbox_msg;
  for (auto& [id, inbox] : r1.inboxes) {
    SealedShares sent = inbox;
    if (id == v)
      std::erase_if(sent.shares, [&](const SealedShare& s) { return s.peer != v && !in(a.w, s.peer); });
    inbox_msg[id] = encode(MsgType::inbox, sid, kServerId, id, sent);
  }
  REQUIRE(decode_body<SealedShares>(open_envelope(inbox_msg.at(v), "inbox"), "inbox").shares.size() == t);

  // Round 2: every client masks its input; the server keeps v's masked input y_v, checked and
  // signature-verified by the server's own round-2 code.
  ServerSession server(p, sid, Round::r2, roster, r1.u2);
  for (uint32_t id = 1; id <= n; ++id) {
    const std::string origin = fmt::format("inbox-{}.msg", id);
    Bytes m;
    REQUIRE_NOTHROW(m = client_mask(st[id], open_envelope(inbox_msg.at(id), origin), origin, x[id], 1));
    if (id == v) REQUIRE_NOTHROW(server.accept({"masked-v.msg", open_envelope(m, "masked")}));
  }
  REQUIRE(st[v].u2.size() == t);  // v's own view of U2: {v} ∪ W
  const std::vector<uint64_t> y_v = server.masked_sum();
  REQUIRE(y_v != x[v]);  // the mask is there

  // ATTACK STEP 2: each client c gets its own survivor set U3(c), in a message shaped exactly like
  // the honest broadcast survivors.msg. c answers with shares of b_u for u in U3(c) (v among
  // them) and of s_sk_u for u in U2 \ U3(c) (some of W). Each answer passes the server's own
  // check for that c's U3(c) (signature, owners), and reveals no client's two secrets.
  std::vector<shamir::Share> b_v_shares;
  std::map<uint32_t, std::vector<shamir::Share>> s_sk_shares;  // w -> shares
  AttackResult res;
  for (uint32_t c = 1; c <= n; ++c) {
    CAPTURE(c);
    const auto& u3 = a.u3_of.at(c);
    const Bytes survivors_msg = encode(MsgType::survivors, sid, kServerId, kServerId, IdList{u3});
    Bytes answer;
    REQUIRE_NOTHROW(answer = client_unmask(st[c], open_envelope(survivors_msg, "survivors.msg"), "survivors.msg"));
    CHECK(st[c].stage == round_number(Round::r4));
    if (c == v) continue;  // v holds only shares of {v} ∪ W and reveals no mask key: of no use
    ServerSession round4(p, sid, Round::r4, roster, r1.u2, u3);
    const Incoming response{fmt::format("unmask-{}.msg", c), open_envelope(answer, "unmask")};
    REQUIRE_NOTHROW(round4.accept(response));
    const UnmaskShares body = decode_body<UnmaskShares>(response.env, response.origin);
    bool both = false;  // some owner with both its b and its s_sk revealed by this one answer
    for (const auto& s : body.self_mask)
      for (const auto& k : body.mask_key) both = both || s.owner == k.owner;
    CHECK_FALSE(both);
    for (const auto& s : body.self_mask)
      if (s.owner == v) b_v_shares.push_back(s.share);
    for (const auto& k : body.mask_key)
      if (in(a.w, k.owner)) s_sk_shares[k.owner].push_back(k.share);
  }
  res.counted.self_seed_v = static_cast<uint32_t>(b_v_shares.size());
  for (auto& [w, s] : s_sk_shares) res.counted.mask_key[w] = static_cast<uint32_t>(s.size());

  // ATTACK STEP 3: rebuild b_v and every s_sk_w from t shares each (the server's own check holds:
  // s_sk_w gives the s_pk_w w advertised), recompute s_vw from s_sk_w and v's public key as the
  // clients do, and take PRG(b_v) and every sign(v, w) PRG(s_vw) back out of y_v.
  REQUIRE(b_v_shares.size() >= t);
  const Secret32 b_v = shamir::reconstruct(std::span(b_v_shares).first(t));
  std::vector<SignedSeed> masks{{b_v, Sign::minus}};
  Recovered rec;
  rec.self_seeds.push_back({v, b_v});
  for (uint32_t w : a.w) {
    CAPTURE(w);
    REQUIRE(s_sk_shares[w].size() >= t);
    const Secret32 s_sk_w = shamir::reconstruct(std::span(s_sk_shares[w]).first(t));
    REQUIRE(x25519_public(s_sk_w) == roster.find(w)->s_pk);
    const Secret32 s_vw = pairwise_seed(s_sk_w, roster.find(v)->s_pk, sid, w, v);
    masks.push_back({s_vw, v < w ? Sign::minus : Sign::plus});  // v added it with sign(v, w)
    rec.mask_keys.push_back({w, s_sk_w});
  }
  res.recovered = y_v;
  add_masks(p.prg_kind(), p.ring(), masks, res.recovered.data(), 0, length);

  // The same with the honest server's own unmasking step, told U3 = {v} and that W dropped out.
  res.recovered_by_remove_masks = y_v;
  remove_masks(p, sid, roster, std::vector<uint32_t>{v}, rec, res.recovered_by_remove_masks.data(), 0, length, 1);

  res.x_v = x[v];
  return res;
}

}  // namespace

TEST_CASE("lying server: recovers an honest client's input at n = 5, t = 3 (docs/security.md's example)") {
  // v = 1, W = {2, 3}: clients 4 and 5 get U3 = {1, 4, 5}, client 2 gets {1, 2, 4}, client 3
  // gets {1, 3, 4}; v itself is shown its own U2, {1, 2, 3}.
  AttackPlan a;
  a.n = 5;
  a.t = 3;
  a.v = 1;
  a.w = {2, 3};
  a.u3_of = {{1, {1, 2, 3}}, {2, {1, 2, 4}}, {3, {1, 3, 4}}, {4, {1, 4, 5}}, {5, {1, 4, 5}}};
  REQUIRE(plan_works(a));
  for (PrgKind prg : {PrgKind::aes128ctr, PrgKind::chacha20}) {
    const std::string prg_text(prg_name(prg));
    CAPTURE(prg_text);
    const AttackResult r = run_attack(a, prg, 6, 9001 + static_cast<uint64_t>(prg));
    CHECK(r.recovered == r.x_v);
    CHECK(r.recovered_by_remove_masks == r.x_v);
    // "four shares of b_1 and three each of s_sk_2 and s_sk_3"
    CHECK(r.counted.self_seed_v == 4);
    CHECK(r.counted.mask_key.at(2) == 3);
    CHECK(r.counted.mask_key.at(3) == 3);
  }
}

TEST_CASE("lying server: recovers an honest client's input at n = 10, t = 6, the smallest threshold setup accepts") {
  REQUIRE(min_secure_threshold(10) == 6);
  // v = 1, W = {2, ..., 6}. Each of the 9 other clients may leave n - t = 4 clients out of its
  // U3; t(t - 1) = 30 shares of mask keys are needed, 36 can be had. Each member of W leaves out
  // the other four, so each s_sk_w gets 4 shares from W; clients 7 to 10 supply the other 2.
  AttackPlan a;
  a.n = 10;
  a.t = 6;
  a.v = 1;
  a.w = {2, 3, 4, 5, 6};
  a.u3_of = {
      {1, {1, 2, 3, 4, 5, 6}},                 // v: its own U2
      {2, {1, 2, 7, 8, 9, 10}},                // W: leave out the rest of W
      {3, {1, 3, 7, 8, 9, 10}},
      {4, {1, 4, 7, 8, 9, 10}},
      {5, {1, 5, 7, 8, 9, 10}},
      {6, {1, 6, 7, 8, 9, 10}},
      {7, {1, 6, 7, 8, 9, 10}},                // leaves out 2, 3, 4, 5
      {8, {1, 5, 7, 8, 9, 10}},                // leaves out 2, 3, 4, 6
      {9, {1, 2, 3, 4, 7, 8, 9, 10}},          // leaves out 5, 6
      {10, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},   // told the truth
  };
  REQUIRE(plan_works(a));
  for (PrgKind prg : {PrgKind::aes128ctr, PrgKind::chacha20}) {
    const std::string prg_text(prg_name(prg));
    CAPTURE(prg_text);
    const AttackResult r = run_attack(a, prg, 8, 4242 + static_cast<uint64_t>(prg));
    CHECK(r.recovered == r.x_v);
    CHECK(r.recovered_by_remove_masks == r.x_v);
    CHECK(r.counted.self_seed_v == 9);
    for (uint32_t w : a.w) CHECK(r.counted.mask_key.at(w) == 6);
  }
}

TEST_CASE("lying server: recovers an honest client's input at n = 100, t = 61, the largest t the counting allows") {
  REQUIRE(doc_condition(100, 61));
  REQUIRE_FALSE(doc_condition(100, 62));
  const auto a = plan_attack(100, 61);
  REQUIRE(a.has_value());
  const AttackResult r = run_attack(*a, PrgKind::aes128ctr, 4, 100);
  CHECK(r.recovered == r.x_v);
}

TEST_CASE("lying server: the simple attack (two disjoint groups of t) is impossible at these n, t") {
  // The simple attack asks one group of t clients for the shares of v's mask key (telling them
  // v dropped) and a disjoint group of t for the shares of b_v (telling them v survived). Among
  // n clients no two disjoint subsets of t exist when 2t > n: checked over every pair of subsets.
  for (auto [n, t] : {std::pair{5u, 3u}, std::pair{10u, 6u}}) {
    CAPTURE(n);
    CAPTURE(t);
    std::vector<uint32_t> groups;  // every subset of t of the n clients, as a bit set
    for (uint32_t s = 0; s < (1u << n); ++s)
      if (static_cast<uint32_t>(std::popcount(s)) == t) groups.push_back(s);
    bool disjoint_pair = false;
    for (uint32_t g : groups)
      for (uint32_t h : groups) disjoint_pair = disjoint_pair || (g & h) == 0;
    CHECK_FALSE(disjoint_pair);
    CHECK(2 * t > n);
  }
}

TEST_CASE("lying server: the attack is open exactly while t(t - 1) <= (n - 1)(n - t), for t >= 3") {
  // docs/security.md's bound, made constructive for every n up to 40 and every t secagg accepts:
  // where the bound holds, plan_attack finds survivor sets that the clients accept and that reveal
  // t shares of b_v and of every s_sk_w (necessity is the doc's counting argument). The one
  // exception is n = 3, t = 2: the single w can be left out only by the one client outside
  // {v, w}, which gives one share of s_sk_w, not two.
  for (uint32_t n = 3; n <= 40; ++n)
    for (uint32_t t = min_secure_threshold(n); t <= n; ++t) {
      CAPTURE(n);
      CAPTURE(t);
      CHECK(plan_attack(n, t).has_value() == (doc_condition(n, t) && t >= 3));
    }
  // The doc's numbers: open at (5, 3), (10, 6), (100, 61), up to about t = 0.62n.
  CHECK(doc_condition(5, 3));
  CHECK(doc_condition(10, 6));
  CHECK_FALSE(doc_condition(10, 7));
  uint32_t largest = 0;
  for (uint32_t t = min_secure_threshold(1000); t <= 1000; ++t)
    if (doc_condition(1000, t)) largest = t;
  CHECK(largest == 618);
}

// ---- The same attack against an active session ----------------------------------------------

namespace {

// Every client of an active session shown its own U3(c) by the plan: each signs it (its checks
// pass, as in the honest-but-curious run), and the server then offers each client the best
// consistency message it can make for U3(c), every signature it holds over that set. Returns the
// number of clients that revealed anything (the test wants 0) and the largest number of
// signatures the server held over one set.
struct ActiveOutcome {
  uint32_t revealed = 0;
  size_t largest_group = 0;
  uint32_t refused = 0;
};

ActiveOutcome run_attack_active(const AttackPlan& a, uint32_t corrupt, uint64_t length) {
  REQUIRE(plan_works(a));
  const uint32_t n = a.n, v = a.v;
  secagg::test::ActiveSession s = secagg::test::make_active_session(n, a.t, corrupt, length);
  const RoundResult r1 = secagg::test::share_round(s);
  // ATTACK STEP 1, as before: v's inbox trimmed to {v} ∪ W.
  for (uint32_t id = 1; id <= n; ++id) {
    SealedShares box = decode_body<SealedShares>(open_envelope(r1.inboxes.at(id), "inbox"), "inbox");
    if (id == v) secagg::test::trim(box, [&](uint32_t peer) { return peer == v || in(a.w, peer); });
    const Bytes inbox = encode(MsgType::inbox, s.sid, kServerId, id, box);
    std::vector<uint64_t> x(length, id);
    REQUIRE_NOTHROW(client_mask(s.st[id], open_envelope(inbox, "inbox"), "inbox", x, 1));
  }
  REQUIRE(s.st[v].u2.size() == a.t);
  // ATTACK STEP 2, round 3: each client signs the set it is shown.
  std::map<std::vector<uint32_t>, std::vector<SignedBy>> signed_sets;
  for (uint32_t c = 1; c <= n; ++c) {
    CAPTURE(c);
    const auto& u3 = a.u3_of.at(c);
    const Bytes survivors = encode(MsgType::survivors, s.sid, kServerId, kServerId, IdList{u3});
    Bytes sig;
    REQUIRE_NOTHROW(sig = client_sign(s.st[c], open_envelope(survivors, "survivors.msg"), "survivors.msg"));
    const auto body = decode_body<SurvivorSignature>(open_envelope(sig, "sig"), "sig");
    signed_sets[u3].push_back({c, body.signature});
  }
  ActiveOutcome out;
  for (auto& [set, sigs] : signed_sets) out.largest_group = std::max(out.largest_group, sigs.size());
  // Round 4: the best consistency message for each client's own set.
  for (uint32_t c = 1; c <= n; ++c) {
    CAPTURE(c);
    const auto& u3 = a.u3_of.at(c);
    Consistency best{u3, signed_sets.at(u3)};
    std::sort(best.signatures.begin(), best.signatures.end(),
              [](const SignedBy& x, const SignedBy& y) { return x.id < y.id; });
    const Bytes survivors = encode(MsgType::survivors, s.sid, kServerId, kServerId, IdList{u3});
    const Bytes consistency = encode(MsgType::consistency, s.sid, kServerId, kServerId, best);
    const Envelope ce = open_envelope(consistency, "consistency.msg");
    try {
      client_unmask(s.st[c], open_envelope(survivors, "survivors.msg"), "survivors.msg", &ce, "consistency.msg");
      ++out.revealed;
    } catch (const Error& e) {
      CHECK(e.code() == Exit::aborted);
      CHECK(std::string(e.what()).find("fewer than the threshold") != std::string::npos);
      CHECK(s.st[c].stage == round_number(Round::r3));  // nothing revealed, the state unchanged
      ++out.refused;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("lying server against an active session: every client refuses, at (5, 3), (10, 6) and (100, 61)") {
  struct Case {
    uint32_t n, t, corrupt;
  };
  for (const Case k : {Case{5, 3, 0}, Case{10, 6, 1}, Case{100, 61, 21}}) {
    CAPTURE(k.n);
    CAPTURE(k.t);
    REQUIRE(min_active_threshold(k.n, k.n - 1, k.corrupt) <= k.t);  // setup accepts these parameters
    std::optional<AttackPlan> a = plan_attack(k.n, k.t);
    REQUIRE(a.has_value());
    const ActiveOutcome o = run_attack_active(*a, k.corrupt, 4);
    CHECK(o.revealed == 0);
    CHECK(o.refused == k.n);
    CHECK(o.largest_group < k.t);
  }
}

TEST_CASE("lying server against an active session: one survivor set for everyone gets too few signatures") {
  // The attack with a single U3: v and everyone outside W, so that the clients of W reveal nothing
  // and the others reveal b_v and the mask keys of W. v refuses to sign (U3 is not within its U2),
  // the members of W refuse (U3 leaves them out), and at most the n - t others sign: fewer than t
  // (docs/security.md, "Active mode"). At (10, 6) the set itself is below t and nobody signs.
  struct Case {
    uint32_t n, t, corrupt, signers;
  };
  for (const Case k : {Case{5, 3, 0, 2}, Case{10, 6, 1, 0}}) {
    CAPTURE(k.n);
    const uint32_t n = k.n, t = k.t;
    secagg::test::ActiveSession s = secagg::test::make_active_session(n, t, k.corrupt, 3);
    const RoundResult r1 = secagg::test::share_round(s);
    std::vector<uint32_t> w, u3 = {1};
    for (uint32_t id = 2; id <= t; ++id) w.push_back(id);
    for (uint32_t id = t + 1; id <= n; ++id) u3.push_back(id);
    for (uint32_t id = 1; id <= n; ++id) {
      SealedShares box = decode_body<SealedShares>(open_envelope(r1.inboxes.at(id), "inbox"), "inbox");
      if (id == 1) secagg::test::trim(box, [&](uint32_t peer) { return peer == 1 || in(w, peer); });
      std::vector<uint64_t> x(3, id);
      REQUIRE_NOTHROW(client_mask(s.st[id], open_envelope(encode(MsgType::inbox, s.sid, 0, id, box), "i"), "i", x, 1));
    }
    const Bytes survivors = encode(MsgType::survivors, s.sid, kServerId, kServerId, IdList{u3});
    uint32_t signers = 0;
    for (uint32_t c = 1; c <= n; ++c) {
      try {
        client_sign(s.st[c], open_envelope(survivors, "survivors.msg"), "survivors.msg");
        ++signers;
      } catch (const Error& e) {
        CHECK(e.code() == Exit::aborted);
        CHECK((c == 1 || in(w, c) || u3.size() < t));
      }
    }
    CHECK(signers == k.signers);
    CHECK(signers < t);
  }
}
