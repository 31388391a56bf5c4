#include "client.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <sodium.h>

#include "consistency.hpp"
#include "crypto.hpp"
#include "graph.hpp"
#include "identity.hpp"
#include "error.hpp"
#include "pack.hpp"
#include "params.hpp"
#include "protocol.hpp"
#include "random.hpp"
#include "roster_window.hpp"

namespace secagg {
namespace {

Error refuse(const std::string& origin, const std::string& what) {
  return Error(Exit::aborted, origin + ": " + what);
}

// A client state's stage is the last round the client completed (ClientState::stage).
Round stage_of(const ClientState& st) { return static_cast<Round>(st.stage); }
void set_stage(ClientState& st, Round done) { st.stage = round_number(done); }

// What completing a round means to the user: the step that does it and its tool.
struct StageStep {
  const char* did;  // "sent its shares"
  const char* tool;
};
StageStep stage_step(Round done) {
  switch (done) {
    case Round::r0: return {"advertised its keys", "secagg-keygen"};
    case Round::r1: return {"sent its shares", "secagg-share"};
    case Round::r2: return {"sent its masked input", "secagg-mask"};
    case Round::r3: return {"signed the survivor set", "secagg-unmask sign"};
    case Round::r4: return {"answered the unmasking request", "secagg-unmask"};
    case Round::none: break;
  }
  return {"reached an unknown stage", ""};
}

// A step needs the state the previous step left (want). Too early: say which step is missing;
// too late: say what already happened.
void expect_stage(const ClientState& st, Round want, const std::string& origin, std::string_view step) {
  const Round stage = stage_of(st);
  if (stage == want) return;
  if (stage < want) {
    const Round missing = next_round(stage, st.params.active());
    StageStep next = stage_step(missing);
    throw Error(Exit::aborted, fmt::format("{}: client {} has not {} yet (round {}): run {} first", origin, st.id,
                                           next.did, missing, next.tool));
  }
  if (!is_round_number(st.stage))
    throw Error(Exit::aborted, fmt::format("{}: client {} has reached an unknown stage", origin, st.id));
  throw Error(Exit::aborted, fmt::format("{}: client {} has already {} (round {}); it cannot {} now", origin, st.id,
                                         stage_step(stage).did, stage, step));
}

// The digest of a server message a step answered (its type, session, parties and body), kept
// in the state to recognise the same message when the step is run again.
Digest32 answered_digest(const Envelope& env) {
  static constexpr std::string_view label = "secagg client step answered v1";
  crypto_generichash_state h;
  uint8_t head[1 + kSessionIdBytes + 8];
  head[0] = static_cast<uint8_t>(env.type);
  std::copy(env.session.begin(), env.session.end(), head + 1);
  for (int i = 0; i < 4; ++i) {
    head[1 + kSessionIdBytes + i] = static_cast<uint8_t>(env.sender >> (8 * i));
    head[1 + kSessionIdBytes + 4 + i] = static_cast<uint8_t>(env.recipient >> (8 * i));
  }
  Digest32 out{};
  crypto_generichash_init(&h, nullptr, 0, out.size());
  crypto_generichash_update(&h, reinterpret_cast<const uint8_t*>(label.data()), label.size());
  crypto_generichash_update(&h, head, sizeof head);
  crypto_generichash_update(&h, env.body.data(), env.body.size());
  crypto_generichash_final(&h, out.data(), out.size());
  return out;
}

// The digest of an input vector, packed as a vector message packs it (man/secagg-formats.5,
// PACKED VECTORS: ceil(L x bits / 8) bytes), so that hashing costs a fraction of the masking
// (BLAKE2b of 8-byte words would be 40% of a 50-neighbour client's round 2). It lets whoever
// reads the state test a guess of the input, so the state keeps it only while a rerun of round
// 2 may still be needed: until round 4 is answered, or until a survivor set shows that round 2
// ended without this client.
// Nothing weaker does the job: a rerun must decide "same input or not" from the state and the
// input alone, so whoever holds the state can always decide it for a guess (by running the
// rerun); a key kept in the state changes nothing, and the masks that could tie the input to
// the stored message are gone by design (docs/security.md, "What is secret").
Digest32 input_digest(std::span<const uint64_t> x, unsigned bits) {
  static constexpr std::string_view label = "secagg client masked input v2";
  crypto_generichash_state h;
  crypto_generichash_init(&h, nullptr, 0, 32);
  crypto_generichash_update(&h, reinterpret_cast<const uint8_t*>(label.data()), label.size());
  // Pieces of 8 x 512 elements end on a byte boundary whatever the bit width.
  constexpr size_t kPiece = 8 * 512;
  uint8_t buf[kPiece * 8];
  for (size_t i = 0; i < x.size(); i += kPiece) {
    const size_t n = std::min(kPiece, x.size() - i);
    pack_into(x.subspan(i, n), bits, buf);
    crypto_generichash_update(&h, buf, packed_size(n, bits));
  }
  Digest32 out{};
  crypto_generichash_final(&h, out.data(), out.size());
  sodium_memzero(buf, sizeof buf);
  sodium_memzero(&h, sizeof h);
  return out;
}

bool same(const Digest32& a, const Digest32& b) { return sodium_memcmp(a.data(), b.data(), a.size()) == 0; }

// A step that answers a server message and, run again, answers it again the same way.
struct AnsweringStep {
  MsgType message;    // the server message it answers
  Round from, done;   // the stage it needs, the stage it leaves
  const char* does;   // "share its keys": what it cannot do at another stage
  const char* other;  // after "client N ": why a rerun for another message is refused
};

// Checks env (the step's message type, this session, from the server) and the client's stage,
// and sets `answered` to env's digest. Run again (the client is at s.done): the same message gets
// the answer the state holds, returned here, any other is refused. Else the client must be at
// s.from, and the step goes on (nullptr).
const Bytes* start_answering(const ClientState& st, const Envelope& env, const std::string& origin,
                             const AnsweringStep& s, Digest32& answered) {
  expect_message(env, origin, s.message, st.session);
  expect_sender(env, origin, kServerId);
  answered = answered_digest(env);
  if (stage_of(st) == s.done) {
    if (same(answered, st.answered)) return &st.sent;
    throw refuse(origin, fmt::format("client {} {}", st.id, s.other));
  }
  expect_stage(st, s.from, origin, s.does);
  return nullptr;
}

bool same_params(const Params& a, const Params& b) {
  return a.clients == b.clients && a.threshold == b.threshold && a.neighbours == b.neighbours &&
         a.modulus == b.modulus && a.length == b.length && a.prg == b.prg &&
         a.insecure_threshold == b.insecure_threshold && a.quant_bits == b.quant_bits &&
         std::bit_cast<uint64_t>(a.clip) == std::bit_cast<uint64_t>(b.clip) && a.max_weight == b.max_weight &&
         a.threat == b.threat && a.corrupt == b.corrupt && a.ca_pk == b.ca_pk;
}

// Prefix a failure of f with the file it concerns.
template <class F>
auto in_context(const std::string& origin, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(e.code(), origin + ": " + e.what());
  }
}

// The part of the graph this client sees: all of U1 in full SecAgg, else its window of the ring.
LocalGraph local_graph(const ClientState& st, unsigned radius) {
  if (!is_secagg_plus(st.params)) return LocalGraph::whole(st.roster.ids());
  return LocalGraph(RingWindow(st.ring, st.ring_whole, st.params.neighbours), st.id, radius);
}

// N[u] of this client, sorted.
std::vector<uint32_t> own_neighbourhood(const ClientState& st) {
  if (!is_secagg_plus(st.params)) return st.roster.ids();
  return RingWindow(st.ring, st.ring_whole, st.params.neighbours).closed(st.id);
}

// The U1 clients of this client's window, sorted (SecAgg+).
std::vector<uint32_t> window_members(const ClientState& st) {
  std::vector<uint32_t> m = st.ring;
  std::sort(m.begin(), m.end());
  return m;
}

// What a later server message (a survivor set, a consistency message) says within this client's
// window: in SecAgg+ the server sends each client only that part (recipient: the client), and a
// whole message (recipient 0) is cut down to it; a message for another client is refused.
template <class T>
T seen_by(const ClientState& st, const Envelope& env, const std::string& origin, T body) {
  if (!is_secagg_plus(st.params)) return body;
  if (env.recipient != kServerId) expect_recipient(env, origin, st.id);
  const std::vector<uint32_t>* ids = nullptr;
  if constexpr (std::is_same_v<T, Consistency>) ids = &body.u3;
  else ids = &body;
  if (!sorted_unique(*ids)) throw Error(Exit::data, origin + ": survivor ids are not sorted and unique");
  return within(body, window_members(st));
}

// A survivor set or consistency message as a SecAgg+ client sees it: addressed to it and cut down
// to its window (seen_by), re-encoded, so that the whole message and the client's own part are the
// same message to the step that answers it (run again with either, it gives the same answer), and
// its body needs no more cutting. Any other session's message is returned as it is.
Envelope as_seen(const ClientState& st, const Envelope& env, const std::string& origin, MsgType type) {
  if (!is_secagg_plus(st.params)) return env;
  expect_message(env, origin, type, st.session);
  expect_sender(env, origin, kServerId);
  if (type == MsgType::consistency)
    return open_envelope(encode(type, env.session, kServerId, st.id,
                                seen_by(st, env, origin, decode_body<Consistency>(env, origin))),
                         origin);
  return open_envelope(
      encode(type, env.session, kServerId, st.id, IdList{seen_by(st, env, origin, decode_body<IdList>(env, origin).ids)}),
      origin);
}

// An active session's roster: every entry certified by the session's CA for its id and its keys
// signed by that identity, or the whole roster is refused, naming the first bad entry by id.
// With a neighbour graph only the entries within three hops decide anything this client does:
// its neighbours' keys (round 1) and the signing keys of every round-3 signature it counts in
// round 4 (docs/security.md, "Active mode with SecAgg+"); the server checked every entry in round
// 0, and the audit checks them all again. So the cost stays flat as U1 grows.
// st: the state with this roster (and, in SecAgg+, its window) in place.
void check_attestations(const Roster& roster, const ClientState& st, const std::string& origin, unsigned threads) {
  const uint64_t now = unix_now();
  std::vector<const RosterEntry*> entries;
  const LocalGraph near = local_graph(st, 3);
  for (uint32_t id : near.ball()) entries.push_back(roster.find(id));
  Failures failed(entries.size());
  parallel_for(entries.size(), threads, [&](size_t i) {
    const RosterEntry& e = *entries[i];
    try {
      const std::string who = fmt::format("{}: roster entry of client {}", origin, e.id);
      if (!e.attestation) throw Error(Exit::data, who + ": has no certificate (an active session's roster certifies every client)");
      verify_attestation(*e.attestation, st.params.ca_pk, st.session, e.id, AdvertiseKeys{e.c_pk, e.s_pk, e.sig_pk, std::nullopt},
                         now, who);
    } catch (...) {
      failed.record(i);
    }
  });
  failed.rethrow_first();
}

// The checks a survivor set U3 must pass before a client signs it (round 3) or answers it
// (round 4): within U2 (as far as this client can see), at least t clients, this client among
// them. `doing`: "unmask", "sign it". A valid U3 without this client ends round 2 without it:
// st.input is erased (forgot_input) before the refusal. Returns U3 ∩ N[id], what round 3 signs.
std::vector<uint32_t> check_u3(ClientState& st, const std::vector<uint32_t>& u3, const std::string& origin, const char* doing) {
  if (!sorted_unique(u3)) throw Error(Exit::data, origin + ": survivor ids are not sorted and unique");
  // Checked within this client's neighbourhood, which is all it can see (all of U1 in full SecAgg).
  const std::vector<uint32_t> mine = own_neighbourhood(st);
  const bool full = !is_secagg_plus(st.params);
  std::vector<uint32_t> local_u3;
  bool outsider = false;  // a survivor that never was in U1 cannot be in U2 either (seen in full SecAgg)
  for (uint32_t v : u3) {
    if (full && !st.roster.find(v)) outsider = true;
    if (contains(mine, v)) local_u3.push_back(v);
  }
  if (outsider || !is_subset(local_u3, st.u2))
    throw refuse(origin, fmt::format("round 2 survivor set U3 is not a subset of the previous round's U2: refusing to {}",
                                     doing));
  if (local_u3.size() < st.params.threshold)
    throw refuse(origin, fmt::format("round 2 survivor set U3 has {} clients{}, fewer than the threshold {}: refusing "
                                     "to {}",
                                     local_u3.size(), full ? "" : " in this client's neighbourhood",
                                     st.params.threshold, doing));
  if (!contains(u3, st.id)) {
    st.input = Digest32{};  // round 2 is over without this client: nothing is to be resent
    throw refuse(origin, fmt::format("survivor set U3 does not include client {} although it sent its masked input: "
                                     "refusing to {}",
                                     st.id, doing));
  }
  return local_u3;
}

// Round 4 of an active session (docs/security.md, "Active mode" and "Active mode with SecAgg+"):
// the consistency message must be over the U3 this client signed, and every client whose status
// its answer depends on must have at least t signers in its neighbourhood whose signatures verify
// over that U3 (in full SecAgg: t signatures over U3); otherwise nothing is revealed
// (Exit::aborted). Every signature within three hops is checked (those further away decide
// nothing here): each must verify, since an honest server checked each.
// env: the consistency message as this client sees it (as_seen).
void check_consistency(const ClientState& st, const Envelope& env, const std::string& origin) {
  const Consistency c = decode_body<Consistency>(env, origin);
  if (c.u3 != st.u3)
    throw refuse(origin, fmt::format("consistency message is over another survivor set than the U3 client {} signed in "
                                     "round 3: refusing to unmask",
                                     st.id));
  const LocalGraph graph = local_graph(st, 3);
  // In full SecAgg every signer's view is U3: hashed once, not once per signer.
  const std::optional<Digest32> whole = graph.full() ? std::optional(survivor_digest(st.u3)) : std::nullopt;
  std::vector<uint32_t> signers;
  uint32_t last = 0;
  for (const SignedBy& s : c.signatures) {
    if (s.id <= last)
      throw Error(Exit::data, origin + ": consistency signatures are not sorted by client id and unique");
    last = s.id;
    const RosterEntry* e = st.roster.find(s.id);
    if (!contains(st.u3, s.id) || (!e && !is_secagg_plus(st.params)))
      throw refuse(origin, fmt::format("consistency message holds a signature of client {}, which is not in the survivor "
                                       "set U3: refusing to unmask",
                                       s.id));
    const auto closed = graph.closed(s.id);
    if (closed.empty() || !e) continue;  // beyond three hops: its view decides nothing this client reveals
    const Digest32 view = whole ? *whole : survivor_digest(signed_view(st.u3, closed));
    if (!ed25519_verify(e->sig_pk, s.signature, consistency_signed_bytes(st.session, s.id, view)))
      throw refuse(origin, fmt::format("consistency signature of client {} does not verify over the survivor set U3 "
                                       "client {} signed: refusing to unmask",
                                       s.id, st.id));
    signers.push_back(s.id);
  }
  const uint32_t t = st.params.threshold;
  if (graph.full()) {
    if (signers.size() < t)
      throw refuse(origin, fmt::format("consistency message holds {} signatures over U3, fewer than the threshold {}: "
                                       "refusing to unmask",
                                       signers.size(), t));
    return;
  }
  const auto owners = quorum_owners(graph, st.u3, st.u2, st.id);
  if (auto gap = first_gap(owners, signers, t, [&](uint32_t x) { return graph.closed(x); }))
    throw refuse(origin, fmt::format("consistency message holds {} signatures from client {}'s neighbourhood, fewer "
                                     "than the threshold {}: client {}'s survival is not settled, refusing to unmask",
                                     gap->signers, gap->owner, t, gap->owner));
}

}  // namespace

void validate_state(const ClientState& st, const std::string& origin) {
  auto bad = [&](const std::string& what) { return Error(Exit::data, origin + ": client state " + what); };
  try {
    validate_params(st.params);
  } catch (const Error& e) {
    throw bad(std::string("has invalid session parameters: ") + e.what());
  }
  if (!is_round_number(st.stage)) throw bad("has an unknown stage");
  if (st.id < 1 || st.id > st.params.clients) throw bad("has a client id outside the session's ids");
  auto peers = [](const std::vector<PeerKey>& v) {
    std::vector<uint32_t> ids;
    for (auto& k : v) ids.push_back(k.peer);
    return ids;
  };
  std::vector<uint32_t> held;
  for (auto& h : st.held) held.push_back(h.from);
  if (!sorted_unique(st.roster.ids()) || !sorted_unique(st.u2) || !sorted_unique(st.u3) ||
      !sorted_unique(peers(st.share_keys)) || !sorted_unique(peers(st.mask_seeds)) || !sorted_unique(held))
    throw bad("has an id list that is not sorted and unique");
  if (st.sent.empty()) throw bad("has no record of the message its last step sent");
  if (stage_of(st) >= Round::r1 && !st.roster.find(st.id))
    throw bad("has a roster that does not list the client itself");
  if (stage_of(st) == Round::r3 && !st.params.active()) throw bad("has signed a survivor set in a session without round 3");
  if (st.params.active() != st.attestation.has_value()) throw bad("has an attestation that does not fit its session");
}

ClientState client_keygen(const Params& params, const SessionId& session, uint32_t id, const IdentityProof* proof) {
  validate_params(params);
  if (id < 1 || id > params.clients)
    throw Error(Exit::usage, fmt::format("client id {} is outside [1, {}]", id, params.clients));
  if (params.active() && !proof)
    throw Error(Exit::usage, "an active session's client signs its round-0 keys with its certified identity: give "
                             "--identity and --cert");
  if (!params.active() && proof)
    throw Error(Exit::usage, "an honest-but-curious session takes no identity or certificate (they are for "
                             "--threat-model active)");
  ClientState st;
  st.params = params;
  st.session = session;
  st.id = id;
  set_stage(st, Round::r0);
  auto c = x25519_keypair();
  auto s = x25519_keypair();
  st.c_sk = c.sk;
  st.c_pk = c.pk;
  st.s_sk = s.sk;
  st.s_pk = s.pk;
  random_bytes(st.sig_seed.data(), st.sig_seed.size());
  st.sig_pk = ed25519_public(st.sig_seed);
  if (proof)
    st.attestation = attest(proof->identity, proof->cert, params.ca_pk, session, id, AdvertiseKeys{st.c_pk, st.s_pk, st.sig_pk, std::nullopt},
                            proof->now, proof->cert_origin);
  st.sent = client_advertise(st);
  return st;
}

Bytes client_readvertise(const ClientState& st, const Params& params, const SessionId& session, uint32_t id,
                         const std::string& origin) {
  if (st.session != session || !same_params(st.params, params) || st.id != id)
    throw Error(Exit::cantcreat,
                fmt::format("{}: already exists and holds client {}'s state of {}; refusing to overwrite a client state",
                            origin, st.id, st.session != session || !same_params(st.params, params)
                                                ? std::string("another session")
                                                : "this session"));
  if (stage_of(st) != Round::r0) {
    throw Error(Exit::aborted, fmt::format("{}: client {} has already {} (round {}); it cannot advertise its keys "
                                           "again now",
                                           origin, st.id, stage_step(stage_of(st)).did, stage_of(st)));
  }
  return st.sent;
}

// Self-signed: the server keeps a key only from a client that holds its secret half.
Bytes client_advertise(const ClientState& st) {
  return encode_signed(MsgType::advertise_keys, st.session, st.id, kServerId,
                       AdvertiseKeys{st.c_pk, st.s_pk, st.sig_pk, st.attestation}, st.sig_seed);
}

Bytes client_share(ClientState& st, const Envelope& env, const std::string& origin, unsigned threads) {
  // Run again: the same roster gets the same shares (fresh ones would be a second, different
  // sharing of its secrets); another roster is refused.
  // A SecAgg+ client gets its window of the ring (roster_window.hpp), anyone else the roster.
  const AnsweringStep kShare{roster_message_type(st.params), Round::r0, Round::r1, "share its keys",
                             "already sent its shares for a different roster in this session: refusing to share its "
                             "keys a second time"};
  if (env.type == MsgType::roster && kShare.message == MsgType::neighbourhood)
    throw Error(Exit::data, fmt::format("{}: is the server's whole roster; in a SecAgg+ session client {} takes its own "
                                        "neighbourhood message (S/roster-{}.msg)",
                                        origin, st.id, st.id));
  Digest32 answered;
  if (const Bytes* again = start_answering(st, env, origin, kShare, answered)) return *again;
  ClientState next = st;
  uint32_t u1_size = 0;
  if (kShare.message == MsgType::neighbourhood) {
    expect_recipient(env, origin, st.id);
    CheckedWindow w = check_window(st.params, st.session, st.id, decode_body<Neighbourhood>(env, origin), origin);
    u1_size = w.u1;
    next.roster = std::move(w.roster);
    next.ring = std::move(w.members);
    next.ring_whole = w.whole;
  } else {
    next.roster = decode_body<Roster>(env, origin);
    u1_size = static_cast<uint32_t>(next.roster.clients.size());
  }
  const Roster& roster = next.roster;
  std::vector<uint32_t> u1 = roster.ids();
  if (!sorted_unique(u1)) throw Error(Exit::data, origin + ": roster ids are not sorted and unique");
  for (auto& e : roster.clients) {
    if (e.id < 1 || e.id > st.params.clients)
      throw Error(Exit::data, fmt::format("{}: roster lists client {}, outside [1, {}]", origin, e.id, st.params.clients));
  }
  {
    // The paper's round 1 asserts every public key in U1 is distinct (and no client reuses one key
    // for both purposes): a repeated key would mean a copied or relayed identity.
    std::vector<Key32> keys;
    for (auto& e : roster.clients) {
      keys.push_back(e.c_pk);
      keys.push_back(e.s_pk);
      keys.push_back(e.sig_pk);
    }
    std::sort(keys.begin(), keys.end());
    if (std::adjacent_find(keys.begin(), keys.end()) != keys.end())
      throw Error(Exit::data, origin + ": roster repeats a public key");
  }
  // The roster must carry this client's own keys, signing key included: a server (or a network
  // attacker) that replaced them to speak for this client is caught here, by the victim.
  const RosterEntry* self = roster.find(st.id);
  if (!self || self->c_pk != st.c_pk || self->s_pk != st.s_pk || self->sig_pk != st.sig_pk)
    throw Error(Exit::data, fmt::format("{}: roster does not list client {} with the keys it advertised", origin, st.id));
  if (st.params.active()) check_attestations(roster, next, origin, threads);
  if (u1_size < st.params.threshold)
    throw refuse(origin, fmt::format("round 0 roster U1 has {} clients, fewer than the threshold {}: refusing to go on",
                                     u1_size, st.params.threshold));
  // Shares go to this client's closed neighbourhood N[u] only (all of U1 in full SecAgg).
  std::vector<uint32_t> holders = own_neighbourhood(next);
  if (holders.size() < st.params.threshold)
    throw refuse(origin, fmt::format("client {}'s neighbourhood in U1 has {} clients, fewer than the threshold {}: "
                                     "refusing to go on",
                                     st.id, holders.size(), st.params.threshold));

  next.share_keys.clear();
  random_bytes(next.b_seed.data(), 32);
  Secret32 mask_key = next.s_sk;
  auto key_shares = shamir::split(mask_key, st.params.threshold, holders);
  auto mask_shares = shamir::split(next.b_seed, st.params.threshold, holders);
  SealedShares out;
  out.shares.resize(holders.size());
  if (st.params.active()) out.commitments.resize(holders.size());
  for (size_t i = 0; i < holders.size(); ++i) {
    out.shares[i].peer = holders[i];
    random_bytes(out.shares[i].nonce.data(), out.shares[i].nonce.size());
  }
  // Both agreements with every neighbour happen here, on all threads: the share key (kept: it
  // also opens the neighbour's share for us in round 2) and the pairwise mask seed (kept: round 2
  // then only expands masks, which is the step a slow client must finish in time).
  // A low-order key makes an agreement fail (Exit::data naming the peer): no separate pre-check.
  next.share_keys.assign(holders.size(), PeerKey{});
  next.mask_seeds.assign(holders.size(), PeerKey{});
  parallel_for(holders.size(), threads, [&](size_t i) {
    const uint32_t v = holders[i];
    const RosterEntry* peer = roster.find(v);
    Secret32 k = in_context(origin, [&] { return share_key(st.c_sk, peer->c_pk, st.session, st.id, v); });
    SecretBytes pt = encode_share_plaintext(st.id, v, key_shares[i], mask_shares[i]);
    out.shares[i].ciphertext = aead_seal(k, out.shares[i].nonce, share_ad(st.session, st.id, v), pt);
    if (st.params.active())
      out.commitments[i] = {share_commitment(st.session, st.id, v, ShareKind::mask_key, key_shares[i]),
                            share_commitment(st.session, st.id, v, ShareKind::self_mask, mask_shares[i])};
    next.share_keys[i] = {v, k};
    next.mask_seeds[i].peer = v;
    if (v != st.id)
      next.mask_seeds[i].key =
          in_context(origin, [&] { return pairwise_seed(st.s_sk, peer->s_pk, st.session, st.id, v); });
  });
  set_stage(next, Round::r1);
  Bytes msg = encode_signed(MsgType::share_keys, st.session, st.id, kServerId, out, st.sig_seed);
  next.answered = answered;
  next.input = Digest32{};
  next.sent = msg;
  st = next;
  return msg;
}

Bytes client_mask(ClientState& st, const Envelope& env, const std::string& origin, std::span<const uint64_t> x,
                  unsigned threads, const ProgressFn& progress) {
  expect_message(env, origin, MsgType::inbox, st.session);
  expect_sender(env, origin, kServerId);
  expect_recipient(env, origin, st.id);
  const Digest32 answered = answered_digest(env);
  const bool again = stage_of(st) == Round::r2;
  if (again && !same(answered, st.answered))
    throw refuse(origin, fmt::format("client {} already sent a masked input for a different inbox in this session: "
                                     "refusing (two masked inputs of one client reveal their difference)",
                                     st.id));
  if (!again) expect_stage(st, Round::r1, origin, "mask an input");
  if (x.size() != st.params.length)
    throw Error(Exit::data, fmt::format("input has {} elements, the session expects {}", x.size(), st.params.length));
  Modulus ring = st.params.ring();
  for (size_t i = 0; i < x.size(); ++i)
    if (x[i] >= ring.R) throw Error(Exit::data, fmt::format("input element {} is {}, outside [0, {})", i, x[i], ring.R));
  if (again && forgot_input(st))
    throw refuse(origin, fmt::format("client {} has learned that round 2 ended without its masked input (a survivor "
                                     "set U3 left it out), and has erased its record of the input: its masked input "
                                     "cannot be sent again",
                                     st.id));
  const Digest32 input = input_digest(x, ring.bits());
  if (again) {
    // Run again: the masks are those of the first run, so only the same input may be sent,
    // and it is sent as it was, byte for byte.
    if (same(input, st.input)) return st.sent;
    throw refuse(origin, fmt::format("client {} already sent a masked input for a different input vector in this "
                                     "session: refusing (two masked inputs under the same masks reveal their "
                                     "difference)",
                                     st.id));
  }

  SealedShares inbox = decode_body<SealedShares>(env, origin);
  std::vector<uint32_t> u2;
  for (auto& s : inbox.shares) u2.push_back(s.peer);
  // A client sees U2 only within its neighbourhood: the senders of its inbox, N[u] ∩ U2.
  std::vector<uint32_t> neighbourhood;
  for (const auto& k : st.share_keys) neighbourhood.push_back(k.peer);
  if (!sorted_unique(u2)) throw Error(Exit::data, origin + ": inbox senders are not sorted and unique");
  if (!is_subset(u2, neighbourhood))
    throw refuse(origin, "round 1 survivor set U2 is not a subset of this client's neighbourhood in the roster U1: "
                         "refusing to go on");
  if (!contains(u2, st.id)) throw Error(Exit::data, fmt::format("{}: inbox lacks client {}'s own share", origin, st.id));
  if (u2.size() < st.params.threshold)
    throw refuse(origin, fmt::format("round 1 survivor set U2 has {} clients, fewer than the threshold {}: refusing to "
                                     "go on",
                                     u2.size(), st.params.threshold));

  // A commitment per share in an active session (the server forwards each dealer's), none otherwise.
  const bool committed = st.params.active();
  if (committed != !inbox.commitments.empty())
    throw Error(Exit::data, fmt::format("{}: inbox {} the dealers' round-1 commitments, which {} session's inbox {}",
                                        origin, committed ? "lacks" : "carries",
                                        committed ? "an active" : "an honest-but-curious",
                                        committed ? "carries" : "does not carry"));
  ClientState next = st;
  next.u2 = u2;
  next.held.clear();
  for (size_t i = 0; i < inbox.shares.size(); ++i) {
    const SealedShare& s = inbox.shares[i];
    auto key = std::lower_bound(st.share_keys.begin(), st.share_keys.end(), s.peer,
                                [](const PeerKey& k, uint32_t id) { return k.peer < id; });
    if (key == st.share_keys.end() || key->peer != s.peer)
      throw Error(Exit::data, fmt::format("{}: client state has no share key for client {}", origin, s.peer));
    // A bundle that does not open is the dealer's fault (or the server's): this client goes on
    // without that dealer's shares, masks as usual (the pairwise seeds do not depend on them) and
    // reports them missing in round 4, where the dealer's other holders supply the t shares
    // (docs/protocol.md, "Bundles that do not open"). Its own bundle must open.
    HeldShares h;
    uint32_t f = 0, t = 0;
    auto pt = aead_open(key->key, s.nonce, share_ad(st.session, s.peer, st.id), s.ciphertext);
    bool good = pt && decode_share_plaintext(*pt, f, t, h.key_share, h.mask_share) && f == s.peer && t == st.id &&
                h.key_share.x == st.id && h.mask_share.x == st.id;
    if (good && committed) {
      const ShareCommitment& c = inbox.commitments[i];
      good = share_commitment(st.session, s.peer, st.id, ShareKind::mask_key, h.key_share) == c.key &&
             share_commitment(st.session, s.peer, st.id, ShareKind::self_mask, h.mask_share) == c.mask;
    }
    if (!good) {
      if (s.peer == st.id)
        throw Error(Exit::data, fmt::format("{}: client {}'s own round 1 share does not open (the inbox was "
                                            "tampered with, or is not meant for client {})",
                                            origin, st.id, st.id));
      continue;
    }
    h.from = s.peer;
    next.held.push_back(h);
  }

  // The pairwise seeds were agreed in round 1; mask with the neighbours that reached U2.
  std::vector<SignedSeed> seeds;
  seeds.reserve(u2.size());
  seeds.push_back({st.b_seed, Sign::plus});
  for (const auto& s : st.mask_seeds)
    if (s.peer != st.id && contains(u2, s.peer)) seeds.push_back({s.key, st.id < s.peer ? Sign::plus : Sign::minus});
  set_stage(next, Round::r2);
  // Forward secrecy: once y has been computed nothing needs the private keys, the self-mask seed or
  // the pairwise seeds again (only the shares held for others are still to be revealed), so the
  // state stops carrying them; a stolen state file then cannot unmask y. The signing key stays:
  // it signs the round-4 answer.
  next.c_sk = Secret32{};
  next.s_sk = Secret32{};
  next.b_seed = Secret32{};
  next.mask_seeds.clear();
  next.share_keys.clear();
  // y = x + masks is computed tile by tile straight into the message, packed: no vector of y.
  Bytes msg = encode_ring_vector_with(
      MsgType::masked_input, st.session, st.id, kServerId, ring, x.size(),
      [&](uint8_t* packed) { apply_masks_packed(st.params.prg_kind(), ring, seeds, x, packed, threads, progress); },
      &st.sig_seed);
  // The message itself is kept: the masks cannot be made again once their seeds are gone.
  next.answered = answered;
  next.input = input;
  next.sent = msg;
  st = std::move(next);
  return msg;
}

namespace {

// The shares a round-4 answer reveals: of b_v for v in U3, of the mask key of v in U2 \ U3.
UnmaskShares reveal(const ClientState& st, const std::vector<uint32_t>& u3) {
  UnmaskShares out;
  out.missing = unopened_shares(st);
  for (const auto& h : st.held) {
    if (contains(u3, h.from))
      out.self_mask.push_back({h.from, h.mask_share});
    else
      out.mask_key.push_back({h.from, h.key_share});
  }
  return out;
}

// The answer to survivor set u3, the client's last message: the state drops the shares and the
// signing key.
Bytes finish_unmask(ClientState& st, const Digest32& answered, const std::vector<uint32_t>& u3) {
  const UnmaskShares out = reveal(st, u3);
  ClientState next = st;
  next.u3 = u3;
  set_stage(next, Round::r4);
  next.held.clear();  // answered: the shares are of no further use, and the stage refuses a second request
  // This is the client's last message: the signing key goes too, so a stolen state file cannot
  // speak for the client afterwards.
  next.sig_seed = Secret32{};
  Bytes msg = encode_signed(MsgType::unmask_shares, st.session, st.id, kServerId, out, st.sig_seed);
  next.answered = answered;
  next.input = Digest32{};  // round 2 is over: no more need to recognise the input
  next.sent = msg;
  st = next;
  return msg;
}

Bytes client_unmask_active(ClientState& st, const Envelope& survivors, const std::string& origin,
                           const Envelope* consistency, const std::string& consistency_origin) {
  if (!consistency)
    throw refuse(origin, fmt::format("client {} is in an active session: it reveals shares only against the "
                                     "consistency message of round 3 (--consistency S/consistency.msg): refusing to "
                                     "unmask",
                                     st.id));
  expect_message(survivors, origin, MsgType::survivors, st.session);
  expect_sender(survivors, origin, kServerId);
  // Run again: the same consistency message gets the same answer; any other is refused.
  static constexpr AnsweringStep kUnmask{MsgType::consistency, Round::r3, Round::r4, "answer an unmasking request",
                                         "has already answered an unmasking request in this session for a different "
                                         "consistency message: refusing a second one"};
  Digest32 answered;
  const Envelope seen = as_seen(st, *consistency, consistency_origin, MsgType::consistency);
  const Bytes* again = start_answering(st, seen, consistency_origin, kUnmask, answered);
  if (seen_by(st, survivors, origin, decode_body<IdList>(survivors, origin).ids) != st.u3)
    throw refuse(origin, fmt::format("survivor set U3 is not the one client {} signed in round 3: refusing to unmask",
                                     st.id));
  if (again) return *again;
  check_consistency(st, seen, consistency_origin);
  return finish_unmask(st, answered, st.u3);
}

}  // namespace

std::vector<uint32_t> unopened_shares(const ClientState& st) {
  std::vector<uint32_t> out;
  size_t j = 0;  // held is sorted by sender, as U2 is
  for (uint32_t u : st.u2) {
    while (j < st.held.size() && st.held[j].from < u) ++j;
    if (j == st.held.size() || st.held[j].from != u) out.push_back(u);
  }
  return out;
}

bool forgot_input(const ClientState& st) {
  return stage_of(st) == Round::r2 && sodium_is_zero(st.input.data(), st.input.size());
}

Bytes client_sign(ClientState& st, const Envelope& env, const std::string& origin) {
  if (!st.params.active())
    throw Error(Exit::usage, origin + ": round 3 (consistency check) belongs to active sessions; this session is "
                                      "honest-but-curious: answer the survivor set with secagg-unmask");
  // Run again: the same survivor set gets the same signature; another is never signed.
  static constexpr AnsweringStep kSign{MsgType::survivors, Round::r2, Round::r3, "sign a survivor set",
                                       "has already signed a different survivor set in this session: refusing to "
                                       "sign a second one (two signed sets would let a server show two groups of "
                                       "clients different survivors)"};
  Digest32 answered;
  const Envelope seen = as_seen(st, env, origin, MsgType::survivors);
  if (const Bytes* again = start_answering(st, seen, origin, kSign, answered)) return *again;
  const std::vector<uint32_t> u3 = decode_body<IdList>(seen, origin).ids;
  const std::vector<uint32_t> view = check_u3(st, u3, origin, "sign it");
  ClientState next = st;
  next.u3 = u3;
  set_stage(next, Round::r3);
  const SurvivorSignature sig{ed25519_sign(st.sig_seed, consistency_signed_bytes(st.session, st.id, view))};
  Bytes msg = encode_signed(MsgType::consistency_signature, st.session, st.id, kServerId, sig, st.sig_seed);
  next.answered = answered;
  next.input = Digest32{};  // a U3 with this client in it: round 2 is over, its input is never resent
  next.sent = msg;
  st = next;
  return msg;
}

Bytes client_unmask(ClientState& st, const Envelope& env, const std::string& origin, const Envelope* consistency,
                    const std::string& consistency_origin) {
  if (st.params.active()) return client_unmask_active(st, env, origin, consistency, consistency_origin);
  if (consistency)
    throw Error(Exit::usage, "a consistency message belongs to an active session; this one is honest-but-curious");
  // Run again: the same survivor set gets the same answer (the signing key is gone, so it is the
  // stored one); any other could reveal both shares of one client.
  static constexpr AnsweringStep kUnmask{MsgType::survivors, Round::r2, Round::r4, "answer an unmasking request",
                                         "has already answered an unmasking request in this session for a different "
                                         "survivor set: refusing a second one (it could reveal both shares of a "
                                         "client)"};
  Digest32 answered;
  const Envelope seen = as_seen(st, env, origin, MsgType::survivors);
  if (const Bytes* again = start_answering(st, seen, origin, kUnmask, answered)) return *again;
  const std::vector<uint32_t> u3 = decode_body<IdList>(seen, origin).ids;
  check_u3(st, u3, origin, "unmask");
  return finish_unmask(st, answered, u3);
}

}  // namespace secagg
