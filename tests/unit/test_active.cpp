// Active sessions (docs/security.md, "Active mode"): parameters, certified adverts and rosters,
// round 3, and each refusal a lying server meets, with the library's real client and server code.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "active_session.hpp"
#include "client.hpp"
#include "error.hpp"
#include "identity.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "protocol.hpp"
#include "roster_window.hpp"
#include "server_session.hpp"
#include "shamir.hpp"

using namespace secagg;
using secagg::test::ActiveSession;
using secagg::test::make_active_session;

namespace {

// Runs f and returns the Error it throws, checking its code; fails the test if nothing is thrown.
template <class F>
std::string refusal(Exit code, F&& f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(static_cast<int>(e.code()) == static_cast<int>(code));
    return e.what();
  }
  FAIL("no refusal");
  return {};
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<uint64_t> input_of(uint32_t id, uint64_t length) {
  std::vector<uint64_t> x(length);
  for (uint64_t i = 0; i < length; ++i) x[i] = (uint64_t{id} * 1000003 + i * 7919) & 0xffffffffu;
  return x;
}

// An honest active session through round 2: the engine collects every round; `gone2` clients
// send no masked input. Leaves the engine at round 3 with survivors.msg in hand.
struct Through2 {
  ActiveSession s;
  ServerSession server;
  Bytes survivors;
  std::vector<uint32_t> u3;
};

Through2 run_to_round3(uint32_t n, uint32_t t, uint32_t corrupt, uint64_t length, std::set<uint32_t> gone2 = {}) {
  ActiveSession s = make_active_session(n, t, corrupt, length);
  ServerSession server(s.p, s.sid, Round::r1, s.roster);
  std::vector<Incoming> shares;
  for (uint32_t id = 1; id <= n; ++id)
    shares.push_back({"sh", open_envelope(client_share(s.st[id], s.roster_env(), "roster.msg"), "sh")});
  server.accept_all(shares, 2);
  RoundResult r1 = server.close(2);
  std::vector<Incoming> masked;
  for (uint32_t id = 1; id <= n; ++id) {
    const Bytes m = client_mask(s.st[id], open_envelope(r1.inboxes.at(id), "inbox"), "inbox", input_of(id, length), 1);
    if (!gone2.count(id)) masked.push_back({"m", open_envelope(m, "m")});
  }
  server.accept_all(masked, 2);
  RoundResult r2 = server.close(2);
  REQUIRE(server.round() == Round::r3);
  return {std::move(s), std::move(server), r2.marker, r2.in};
}

Envelope env_of(const Bytes& b) { return open_envelope(b, "msg"); }

}  // namespace

TEST_CASE("active params: t > (n + C) / 2 (per neighbourhood in SecAgg+), a CA; honest-but-curious bytes unchanged") {
  const Identity ca = make_identity();
  Params p = secagg::test::active_params(10, 7, 3, 4, ca.pk);
  CHECK_NOTHROW(validate_params(p));
  CHECK(min_active_threshold(10, 9, 3) == 7);
  CHECK(default_corrupt(10) == 3);
  CHECK(default_corrupt(5) == 1);
  p.threshold = 6;
  CHECK(has(refusal(Exit::usage, [&] { validate_params(p); }), "not above (n + C) / 2 = (10 + 3) / 2"));
  p.threshold = 7;
  p.ca_pk = Key32{};
  CHECK(has(refusal(Exit::usage, [&] { validate_params(p); }), "--ca"));
  p.ca_pk = ca.pk;
  // SecAgg+: the rule per closed neighbourhood of k + 1 holders, c = 3 of them corrupted at worst.
  p.neighbours = 6;
  CHECK(min_active_threshold(10, 6, 3) == 6);
  CHECK_NOTHROW(validate_params(p));
  p.threshold = 5;
  CHECK(has(refusal(Exit::usage, [&] { validate_params(p); }), "not above (k + 1 + c) / 2 = (6 + 1 + 3) / 2"));
  // Two neighbours, and three of the ten clients corrupted: both may be corrupted.
  p.neighbours = 2;
  p.threshold = 3;
  CHECK(has(refusal(Exit::usage, [&] { validate_params(p); }), "a client's 2 neighbours may all be corrupted"));
  p.threshold = 7;
  p.neighbours = 9;
  p.corrupt = 10;
  CHECK(has(refusal(Exit::usage, [&] { validate_params(p); }), "fewer than the n = 10"));
  p.corrupt = 3;
  p.threat = static_cast<ThreatModel>(7);
  CHECK(has(refusal(Exit::usage, [&] { validate_params(p); }), "unknown threat model 7"));

  // An honest-but-curious session names no CA and no C.
  Params h = secagg::test::active_params(10, 7, 0, 4, ca.pk);
  h.threat = ThreatModel::honest_but_curious;
  CHECK(has(refusal(Exit::usage, [&] { validate_params(h); }), "belong to an active session"));

  // The active fields travel behind their flag bit and come back whole; without them the bytes
  // are what they were before active mode existed (no flag, nothing after max_weight).
  p.threat = ThreatModel::active;
  const SessionId sid = new_session_id();
  const Params back = decode_body<Params>(env_of(encode(MsgType::params, sid, 0, 0, p)), "p");
  CHECK(back.active());
  CHECK(back.corrupt == 3);
  CHECK(back.ca_pk == ca.pk);
  h.ca_pk = Key32{};
  const Bytes hbc = encode(MsgType::params, sid, 0, 0, h);
  const Bytes act = encode(MsgType::params, sid, 0, 0, p);
  CHECK(act.size() == hbc.size() + 1 + 4 + 32);
}

TEST_CASE("active session: the exact sum, with a client gone before round 3 and one before round 4") {
  const uint32_t n = 9, t = 6;  // C = 1: t > (9 + 1) / 2
  const uint64_t L = 9;
  Through2 a = run_to_round3(n, t, 1, L, {6});
  CHECK(a.u3 == std::vector<uint32_t>{1, 2, 3, 4, 5, 7, 8, 9});
  // Round 3: client 7 sent its masked input but does not sign.
  std::vector<Incoming> sigs;
  for (uint32_t id : a.u3)
    if (id != 7) sigs.push_back({"sig", env_of(client_sign(a.s.st[id], env_of(a.survivors), "survivors.msg"))});
  a.server.accept_all(sigs, 2);
  const RoundResult r3 = a.server.close(2);
  CHECK(r3.in == std::vector<uint32_t>{1, 2, 3, 4, 5, 8, 9});
  CHECK(a.server.expected() == r3.in);  // round 4 waits for the signers, U4
  // Round 4: client 5 signed but does not answer; its input is still in the sum (it is in U3).
  std::vector<Incoming> answers;
  for (uint32_t id : r3.in)
    if (id != 5) {
      const Envelope c = env_of(r3.marker);
      answers.push_back({"u", env_of(client_unmask(a.s.st[id], env_of(a.survivors), "survivors.msg", &c, "c.msg"))});
    }
  // A non-signer cannot answer: it never signed U3.
  {
    const Envelope c = env_of(r3.marker);
    CHECK(has(refusal(Exit::aborted, [&] { client_unmask(a.s.st[7], env_of(a.survivors), "survivors.msg", &c, "c"); }),
              "has not signed the survivor set yet (round 3): run secagg-unmask sign first"));
  }
  a.server.accept_all(answers, 2);
  const RoundResult r4 = a.server.close(2);
  std::vector<uint64_t> want(L, 0);
  for (uint32_t id : a.u3) {
    const auto x = input_of(id, L);
    for (uint64_t i = 0; i < L; ++i) want[i] = (want[i] + x[i]) & 0xffffffffu;
  }
  CHECK(r4.aggregate == want);
}

TEST_CASE("active session: round 3 aborts below t signatures") {
  Through2 a = run_to_round3(5, 4, 1, 3);
  std::vector<Incoming> sigs;
  for (uint32_t id : {1u, 2u, 3u}) sigs.push_back({"sig", env_of(client_sign(a.s.st[id], env_of(a.survivors), "s"))});
  a.server.accept_all(sigs, 2);
  CHECK(has(refusal(Exit::aborted, [&] { a.server.close(2); }), "only 3 of 5 clients answered, fewer than the "
                                                                  "threshold 4 (U4 too small)"));
}

TEST_CASE("active keygen: the client's own certificate must fit the session") {
  const Identity ca = make_identity(), other_ca = make_identity(), me = make_identity(), someone = make_identity();
  const Params p = secagg::test::active_params(5, 4, 1, 3, ca.pk);
  const SessionId sid = new_session_id();
  auto keygen = [&](const Certificate& c) {
    const IdentityProof proof{me, c, "id2.cert", 1000};
    return client_keygen(p, sid, 2, &proof);
  };
  CHECK_NOTHROW(keygen(certify(ca, 2, me.pk, 0)));
  CHECK(has(refusal(Exit::usage, [&] { keygen(certify(other_ca, 2, me.pk, 0)); }), "id2.cert: issued by another CA"));
  CHECK(has(refusal(Exit::usage, [&] { keygen(certify(ca, 3, me.pk, 0)); }), "id2.cert: certifies client 3, not 2"));
  CHECK(has(refusal(Exit::usage, [&] { keygen(certify(ca, 2, me.pk, 999)); }), "id2.cert: expired at 999"));
  CHECK(has(refusal(Exit::usage, [&] { keygen(certify(ca, 2, someone.pk, 0)); }), "certifies another identity"));
  CHECK(has(refusal(Exit::usage, [&] { client_keygen(p, sid, 2); }), "--identity and --cert"));
  Params hbc = p;
  hbc.threat = ThreatModel::honest_but_curious;
  hbc.corrupt = 0;
  hbc.ca_pk = Key32{};
  hbc.threshold = 3;
  const Certificate c = certify(ca, 2, me.pk, 0);
  const IdentityProof proof{me, c, "c", 1000};
  CHECK(has(refusal(Exit::usage, [&] { client_keygen(hbc, sid, 2, &proof); }), "takes no identity"));
}

TEST_CASE("active round 0: the server refuses an uncertified or badly bound advert") {
  ActiveSession s = make_active_session(5, 4, 1, 3);
  ServerSession server(s.p, s.sid);
  // An honest-but-curious advert (no attestation) from a client of the session.
  ClientState plain = s.st[1];
  plain.attestation.reset();
  const Incoming bare{"adv1.msg", env_of(client_advertise(plain))};
  CHECK(has(refusal(Exit::data, [&] { server.accept(bare); }), "adv1.msg: round 0 (advertise-keys) from client 1 has "
                                                                "no certificate"));
  // Client 2's attestation on client 1's keys: certifies client 2, not 1.
  ClientState stolen = s.st[1];
  stolen.attestation = s.st[2].attestation;
  const Incoming wrong{"adv1.msg", env_of(client_advertise(stolen))};
  CHECK(has(refusal(Exit::data, [&] { server.accept(wrong); }), "certificate: certifies client 2, not 1"));
  // Client 1's certificate with a binding over other keys: the session's keys are not the identity's.
  ClientState rebound = s.st[1];
  rebound.attestation = s.st[1].attestation;
  rebound.c_pk = s.st[3].c_pk;
  const Incoming moved{"adv1.msg", env_of(client_advertise(rebound))};
  CHECK(has(refusal(Exit::data, [&] { server.accept(moved); }), "bad identity signature over client 1's round-0 keys"));
  CHECK(server.accepted() == 0);
}

TEST_CASE("active round 1: every client refuses a roster with a substituted key, a Sybil or a foreign certificate") {
  ActiveSession s = make_active_session(5, 4, 1, 3);
  auto share_with = [&](const Roster& r, uint32_t who) {
    ClientState c = s.st[who];
    return refusal(Exit::data,
                   [&] { client_share(c, env_of(encode(MsgType::roster, s.sid, 0, 0, r)), "roster.msg"); });
  };
  // The server substitutes its own mask key for client 2's (to unmask client 2 with a key it owns).
  {
    Roster r = s.roster;
    r.clients[1].s_pk = x25519_keypair().pk;
    CHECK(has(share_with(r, 1), "roster.msg: roster entry of client 2: bad identity signature over client 2's "
                                "round-0 keys"));
  }
  // A Sybil: client 5's entry replaced by one the server made itself, under a certificate of its own CA.
  {
    Roster r = s.roster;
    const Identity fake_ca = make_identity(), fake = make_identity();
    const Certificate c = certify(fake_ca, 5, fake.pk, 0);
    RosterEntry& e = r.clients[4];
    e.c_pk = x25519_keypair().pk;
    e.s_pk = x25519_keypair().pk;
    e.attestation = Attestation{c, ed25519_sign(fake.seed, advert_signed_bytes(s.sid, 5, {e.c_pk, e.s_pk, e.sig_pk, std::nullopt}))};
    CHECK(has(share_with(r, 1), "roster entry of client 5: certificate: issued by another CA"));
  }
  // Client 3's real certificate and binding presented for id 4.
  {
    Roster r = s.roster;
    r.clients[3].attestation = r.clients[2].attestation;
    CHECK(has(share_with(r, 1), "roster entry of client 4: certificate: certifies client 3, not 4"));
  }
  // An entry stripped of its attestation: the roster message then carries none at all, and the
  // clients refuse the first entry.
  {
    Roster r = s.roster;
    for (auto& e : r.clients) e.attestation.reset();
    CHECK(has(share_with(r, 2), "roster entry of client 1: has no certificate"));
  }
  // The honest roster passes.
  ClientState c = s.st[1];
  CHECK_NOTHROW(client_share(c, s.roster_env(), "roster.msg"));
}

TEST_CASE("active round 1: each client checks the certificates around it, itself included, full SecAgg and SecAgg+") {
  // Every client of an honest session takes its round-0 answer; with its own attestation broken
  // (and, in SecAgg+, committed to so that its proof holds) each refuses, naming itself. The
  // entries checked are the ball of radius 3 of a LocalGraph (all of U1 in full SecAgg), which
  // must stay alive while they are looked up.
  const uint32_t n = 11;
  for (uint32_t k : {n - 1, 4u}) {
    CAPTURE(k);
    ActiveSession s = make_active_session(n, min_active_threshold(n, k, 1), 1, 2, k == n - 1 ? 0 : k);
    for (uint32_t id = 1; id <= n; ++id) {
      CAPTURE(id);
      ClientState c = s.st[id];
      CHECK_NOTHROW(client_share(c, s.roster_env(id), "roster.msg"));
      Roster bad = s.roster;
      for (RosterEntry& e : bad.clients)
        if (e.id == id) e.attestation->binding[0] ^= 1;
      const Bytes m = k == n - 1 ? encode(MsgType::roster, s.sid, kServerId, kServerId, bad)
                                 : RosterWindows(s.p, s.sid, bad).message(id);
      ClientState d = s.st[id];
      CHECK(has(refusal(Exit::data, [&] { client_share(d, env_of(m), "roster.msg"); }),
                fmt::format("roster.msg: roster entry of client {}: ", id)));
    }
  }
}

TEST_CASE("active round 3: a client signs one survivor set only; a rerun sends the same bytes") {
  Through2 a = run_to_round3(5, 4, 1, 3);
  const Bytes first = client_sign(a.s.st[1], env_of(a.survivors), "survivors.msg");
  CHECK(client_sign(a.s.st[1], env_of(a.survivors), "survivors.msg") == first);
  const Bytes other = encode(MsgType::survivors, a.s.sid, 0, 0, IdList{{1, 2, 3, 4}});
  CHECK(has(refusal(Exit::aborted, [&] { client_sign(a.s.st[1], env_of(other), "other.msg"); }),
            "has already signed a different survivor set"));
  // The server refuses a signature over another set than its U3.
  ClientState c2 = a.s.st[2];
  const Bytes sig_other = client_sign(c2, env_of(other), "other.msg");
  CHECK(has(refusal(Exit::data, [&] { a.server.accept({"sig2.msg", env_of(sig_other)}); }),
            "its signature is not over this session's survivor set U3"));
}

TEST_CASE("active round 4: a client reveals nothing without t valid signatures over the U3 it signed") {
  Through2 a = run_to_round3(5, 4, 1, 3);
  std::vector<Incoming> sigs;
  for (uint32_t id = 1; id <= 5; ++id)
    sigs.push_back({"sig", env_of(client_sign(a.s.st[id], env_of(a.survivors), "survivors.msg"))});
  a.server.accept_all(sigs, 2);
  const RoundResult r3 = a.server.close(2);
  const Consistency honest = decode_body<Consistency>(env_of(r3.marker), "c");
  REQUIRE(honest.signatures.size() == 5);
  auto unmask_with = [&](const Consistency& c, const SessionId& sid) {
    ClientState st = a.s.st[1];
    const Envelope e = env_of(encode(MsgType::consistency, sid, 0, 0, c));
    return client_unmask(st, env_of(a.survivors), "survivors.msg", &e, "consistency.msg");
  };
  // No consistency message at all.
  {
    ClientState st = a.s.st[1];
    CHECK(has(refusal(Exit::aborted, [&] { client_unmask(st, env_of(a.survivors), "survivors.msg"); }),
              "reveals shares only against the consistency message"));
  }
  // Fewer than t signatures.
  {
    Consistency c = honest;
    c.signatures.resize(3);
    CHECK(has(refusal(Exit::aborted, [&] { unmask_with(c, a.s.sid); }), "holds 3 signatures over U3, fewer than the "
                                                                         "threshold 4"));
  }
  // Another U3 (the signatures then do not verify either; the set is refused first).
  {
    Consistency c = honest;
    c.u3 = {1, 2, 3, 4};
    CHECK(has(refusal(Exit::aborted, [&] { unmask_with(c, a.s.sid); }), "over another survivor set than the U3 client 1 "
                                                                         "signed"));
  }
  // A signature moved to another signer, and one of a client outside U3's roster.
  {
    Consistency c = honest;
    std::swap(c.signatures[0].signature, c.signatures[1].signature);
    CHECK(has(refusal(Exit::aborted, [&] { unmask_with(c, a.s.sid); }), "consistency signature of client 1 does not "
                                                                         "verify"));
    c = honest;
    c.signatures.push_back({6, honest.signatures[0].signature});
    CHECK(has(refusal(Exit::aborted, [&] { unmask_with(c, a.s.sid); }), "signature of client 6, which is not in the "
                                                                         "survivor set U3"));
  }
  // Replayed from another session: refused from the header.
  CHECK(has(refusal(Exit::data, [&] { unmask_with(honest, new_session_id()); }), "belongs to session"));
  // The honest message: the answer, and the same answer again.
  ClientState st = a.s.st[1];
  const Envelope e = env_of(r3.marker);
  const Bytes answer = client_unmask(st, env_of(a.survivors), "survivors.msg", &e, "consistency.msg");
  CHECK(client_unmask(st, env_of(a.survivors), "survivors.msg", &e, "consistency.msg") == answer);
  // The survivor set given alongside must be the one signed.
  ClientState st2 = a.s.st[2];
  const Bytes other = encode(MsgType::survivors, a.s.sid, 0, 0, IdList{{1, 2, 3, 4}});
  CHECK(has(refusal(Exit::aborted, [&] { client_unmask(st2, env_of(other), "other.msg", &e, "c"); }),
            "is not the one client 2 signed in round 3"));
}

// ---- Robust unmasking: bad shares, and bundles that do not open (docs/protocol.md) -------------

namespace {

// What a test may do to the messages of a session as they pass: a dealer's share-keys message
// (re-signed with the dealer's key it is given), a holder's inbox, a responder's round-4 answer.
struct Tamper {
  std::function<void(uint32_t dealer, SealedShares& body)> shares;
  std::function<void(uint32_t holder, SealedShares& box)> inbox;
  std::function<void(uint32_t responder, UnmaskShares& body)> answer;
};

struct Outcome {
  RoundResult r4;
  std::vector<uint64_t> want;  // the plaintext sum of U3
  std::map<uint32_t, std::vector<uint32_t>> unopened;  // holder -> dealers whose shares did not open
};

// A whole session of n clients, every one of them answering every round, active or not.
Outcome run_tampered(uint32_t n, uint32_t t, bool active, const Tamper& tamper) {
  const uint64_t L = 6;
  ActiveSession s;
  if (active) {
    s = make_active_session(n, t, 0, L);
  } else {
    s.p = secagg::test::active_params(n, t, 0, L, Key32{});
    s.p.threat = ThreatModel::honest_but_curious;
    s.sid = new_session_id();
    s.st.resize(n + 1);
    ServerSession r0(s.p, s.sid);
    for (uint32_t id = 1; id <= n; ++id) {
      s.st[id] = client_keygen(s.p, s.sid, id);
      r0.accept({"adv", env_of(client_advertise(s.st[id]))});
    }
    s.roster_msg = r0.close(1).marker;
    s.roster = r0.roster();
  }
  ServerSession server(s.p, s.sid, Round::r1, s.roster);
  for (uint32_t id = 1; id <= n; ++id) {
    Bytes m = client_share(s.st[id], s.roster_env(), "roster.msg");
    if (tamper.shares) {
      SealedShares body = decode_body<SealedShares>(env_of(m), "sh");
      tamper.shares(id, body);
      m = encode_signed(MsgType::share_keys, s.sid, id, kServerId, body, s.st[id].sig_seed);
    }
    server.accept({"sh", env_of(m)});
  }
  RoundResult r1 = server.close(1);
  Outcome out;
  out.want.assign(L, 0);
  for (uint32_t id = 1; id <= n; ++id) {
    Bytes inbox = r1.inboxes.at(id);
    if (tamper.inbox) {
      SealedShares box = decode_body<SealedShares>(env_of(inbox), "inbox");
      tamper.inbox(id, box);
      inbox = encode(MsgType::inbox, s.sid, kServerId, id, box);
    }
    const auto x = input_of(id, L);
    server.accept({"m", env_of(client_mask(s.st[id], env_of(inbox), "inbox", x, 1))});
    out.unopened[id] = unopened_shares(s.st[id]);
    for (uint64_t i = 0; i < L; ++i) out.want[i] = (out.want[i] + x[i]) & 0xffffffffu;
  }
  const RoundResult r2 = server.close(1);
  std::optional<RoundResult> r3;
  if (active) {
    for (uint32_t id = 1; id <= n; ++id) server.accept({"sig", env_of(client_sign(s.st[id], env_of(r2.marker), "s"))});
    r3 = server.close(1);
  }
  for (uint32_t id = 1; id <= n; ++id) {
    const Secret32 key = s.st[id].sig_seed;
    const Envelope c = active ? env_of(r3->marker) : Envelope{};
    Bytes m = client_unmask(s.st[id], env_of(r2.marker), "survivors.msg", active ? &c : nullptr, "c");
    if (tamper.answer) {
      UnmaskShares body = decode_body<UnmaskShares>(env_of(m), "u");
      tamper.answer(id, body);
      m = encode_signed(MsgType::unmask_shares, s.sid, id, kServerId, body, key);
    }
    server.accept({"u", env_of(m)});
  }
  out.r4 = server.close(1);
  return out;
}

}  // namespace

TEST_CASE("robust unmasking: a bad share in round 4 is left out and named; the sum is exact") {
  Tamper t;
  t.answer = [](uint32_t responder, UnmaskShares& body) {
    if (responder != 2) return;
    for (auto& s : body.self_mask)
      if (s.owner == 3) s.share.y[0] ^= 1;
    for (auto& s : body.self_mask)
      if (s.owner == 5) s.share.y[4] = (s.share.y[4] + 1) % shamir::kPrime;
  };
  const Outcome o = run_tampered(5, 3, true, t);
  CHECK(o.r4.aggregate == o.want);
  REQUIRE(o.r4.bad_shares.size() == 2);
  CHECK(o.r4.bad_shares[0].responder == 2);
  CHECK(o.r4.bad_shares[0].owner == 3);
  CHECK(o.r4.bad_shares[1].owner == 5);
  CHECK(o.r4.bad_shares[0].kind == ShareKind::self_mask);
  CHECK(has(round_warnings(o.r4).at(0), "client 2's share of client 3's self-mask seed does not match what client 3 "
                                        "committed to in round 1: left out"));
  // Without commitments (honest-but-curious) the five answers still expose each liar: the shares
  // beyond t check the reconstruction, and leaving the bad one out makes the rest agree.
  const Outcome h = run_tampered(5, 3, false, t);
  CHECK(h.r4.aggregate == h.want);
  REQUIRE(h.r4.bad_shares.size() == 2);
  CHECK(h.r4.bad_shares[0].responder == 2);
  CHECK(h.r4.bad_shares[0].owner == 3);
  CHECK_FALSE(h.r4.bad_shares[0].committed);
  CHECK(has(round_warnings(h.r4).at(0), "client 2's share of client 3's self-mask seed does not agree with the other "
                                        "responders' shares: left out"));
}

TEST_CASE("honest-but-curious: a bad mask-key share is found with t + 1 answers; two bad ones abort, naming the owner") {
  // Client 5 drops before round 2: its mask key is rebuilt from the four others' shares, and one
  // lie among them is found against client 5's advertised key.
  Tamper one;
  one.answer = [](uint32_t responder, UnmaskShares& body) {
    if (responder == 3)
      for (auto& s : body.self_mask) s.share.y[2] ^= 8;
  };
  const Outcome o = run_tampered(5, 3, false, one);
  CHECK(o.r4.aggregate == o.want);
  CHECK(o.r4.bad_shares.size() == 5);  // client 3 lied about every self-mask seed
  // Two liars among five answers at t = 3 are beyond what can be corrected (one error needs
  // 2 <= 5 - 3); with unrelated errors no four shares agree, and the session aborts. (Two liars
  // who coordinate their errors can make four shares agree on a wrong secret: without
  // commitments nothing can tell; an active session's commitments name them.)
  Tamper two;
  two.answer = [](uint32_t responder, UnmaskShares& body) {
    if (responder == 3 || responder == 4)
      for (auto& s : body.self_mask)
        if (s.owner == 1) s.share.y[2] = (s.share.y[2] + 1000 * responder + 7) % shamir::kPrime;
  };
  CHECK(has(refusal(Exit::data, [&] { run_tampered(5, 3, false, two); }),
            "the shares of client 1's self-mask seed are inconsistent (a responder sent a bad share, and more than one "
            "did)"));
}

TEST_CASE("robust unmasking: below t good shares, the abort names the owner and why") {
  Tamper t;
  t.answer = [](uint32_t responder, UnmaskShares& body) {
    if (responder == 1) return;  // only client 1 tells the truth about client 4's self-mask seed
    for (auto& s : body.self_mask)
      if (s.owner == 4) s.share.y[1] ^= 2;
  };
  const std::string why = refusal(Exit::aborted, [&] { run_tampered(5, 3, true, t); });
  CHECK(has(why, "only 1 good share(s) of client 4's self mask came back, fewer than the threshold 3 (0 responders "
                 "hold no share of it: its round-1 bundle did not open for them; 4 sent a bad share)"));
}

TEST_CASE("a bundle that does not open: its holder goes on, reports it, and the sum is exact, in both modes") {
  for (const bool active : {true, false}) {
    CAPTURE(active);
    Tamper t;
    t.inbox = [](uint32_t holder, SealedShares& box) {
      if (holder != 1) return;
      for (auto& s : box.shares)
        if (s.peer == 4) s.ciphertext[3] ^= 0x40;
    };
    const Outcome o = run_tampered(5, 3, active, t);
    CHECK(o.unopened.at(1) == std::vector<uint32_t>{4});
    CHECK(o.unopened.at(2).empty());
    CHECK(o.r4.aggregate == o.want);
    CHECK(o.r4.missing == std::vector<std::pair<uint32_t, uint32_t>>{{1, 4}});
    CHECK(has(round_warnings(o.r4).at(0), "client 1 holds no share of client 4"));
  }
}

TEST_CASE("active: a share that does not match its dealer's commitment does not open for its holder") {
  // Client 4 commits to other shares than it deals client 2: client 2 treats the bundle as one
  // that does not open, so no honest holder ever reveals a share its dealer did not commit to.
  Tamper t;
  t.shares = [](uint32_t dealer, SealedShares& body) {
    if (dealer == 4) body.commitments[1].mask[0] ^= 1;  // holder 2's entry
  };
  const Outcome o = run_tampered(5, 3, true, t);
  CHECK(o.unopened.at(2) == std::vector<uint32_t>{4});
  CHECK(o.r4.bad_shares.empty());
  CHECK(o.r4.aggregate == o.want);
}

TEST_CASE("active: a dealer whose shares open for fewer than t holders is named in the abort") {
  Tamper t;
  t.shares = [](uint32_t dealer, SealedShares& body) {
    if (dealer == 3)
      for (size_t i = 0; i < body.commitments.size(); ++i)
        if (body.shares[i].peer != 3) body.commitments[i].key[5] ^= 1;
  };
  const std::string why = refusal(Exit::aborted, [&] { run_tampered(5, 3, true, t); });
  CHECK(has(why, "only 1 good share(s) of client 3's self mask came back, fewer than the threshold 3 (4 responders hold "
                 "no share of it"));
}

TEST_CASE("the server refuses share commitments that do not fit the session") {
  Tamper t;
  t.shares = [](uint32_t dealer, SealedShares& body) {
    if (dealer == 2) body.commitments.assign(body.shares.size(), ShareCommitment{});
  };
  CHECK(has(refusal(Exit::data, [&] { run_tampered(5, 3, false, t); }),
            "round 1 (share-keys) from client 2 carries share commitments, which an honest-but-curious session does "
            "not take"));
  Tamper none;
  none.shares = [](uint32_t dealer, SealedShares& body) {
    if (dealer == 2) body.commitments.clear();
  };
  CHECK(has(refusal(Exit::data, [&] { run_tampered(5, 3, true, none); }),
            "round 1 (share-keys) from client 2 has no commitments to its shares"));
}
