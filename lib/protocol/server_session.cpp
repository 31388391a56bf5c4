#include "server_session.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "consistency.hpp"
#include "crypto.hpp"
#include "identity.hpp"
#include "error.hpp"
#include "message_file.hpp"
#include "pack.hpp"
#include "protocol.hpp"
#include "shamir.hpp"
#include "signature.hpp"
#include "thread_pool.hpp"
#include "vectors.hpp"

namespace secagg {
namespace {

// The set a round's senders must belong to, as its refusals name it.
const char* expected_set(Round r, bool active) {
  switch (r) {
    case Round::r0: return "the session's ids [1, n]";
    case Round::r1: return "the roster U1";
    case Round::r2: return "U2 (the clients whose shares were delivered)";
    case Round::r4:
      if (active) return "U4 (the clients that signed the survivor set)";
      [[fallthrough]];
    default: return "U3 (the survivors)";
  }
}

// A secret from its first t shares, checked: a mask key against the public key its owner advertised
// (s_pk), and, when more than t shares came back, against the (t+1)-th share. When the check fails
// and there are enough shares to tell, the one share whose removal makes the rest agree is the bad
// one: it is left out and its responder (its x) returned in `culprit` (honest-but-curious
// sessions, which have no commitments; an active session's shares were checked one by one).
// Otherwise Error(Exit::data) naming the owner. This corrects one bad share among the t + 2 kept
// (2e <= m - t); two responders who coordinate their errors can make t + 1 shares agree on a
// wrong secret, which only commitments catch (docs/protocol.md, "Bad shares").
Secret32 reconstruct_checked(const std::vector<shamir::Share>& shares, size_t t, const Key32* s_pk,
                             shamir::LagrangeCache& cache, std::optional<uint32_t>& culprit, uint32_t owner,
                             bool self_mask, bool committed) {
  auto attempt = [&](std::span<const shamir::Share> set) -> std::optional<Secret32> {
    try {
      Secret32 secret = shamir::reconstruct(set.first(t), &cache);
      if (set.size() > t && !shamir::on_polynomial(set.first(t), set[t], &cache)) return std::nullopt;
      if (s_pk && x25519_public(secret) != *s_pk) return std::nullopt;
      return secret;
    } catch (const Error&) {
      return std::nullopt;
    }
  };
  const size_t checked = std::min(shares.size(), t + 1);
  if (auto s = attempt(std::span(shares).first(checked))) return *s;
  // Leave each share out in turn; a set without it must still be checked, by s_pk or by a share
  // beyond the t it is rebuilt from.
  const size_t needed = s_pk ? t : t + 1;
  if (shares.size() >= needed + 1)
    for (size_t i = 0; i < shares.size(); ++i) {
      std::vector<shamir::Share> rest;
      for (size_t j = 0; j < shares.size() && rest.size() < needed; ++j)
        if (j != i) rest.push_back(shares[j]);
      if (auto s = attempt(rest)) {
        culprit = shares[i].x;
        return *s;
      }
    }
  if (committed)
    throw Error(Exit::data, fmt::format("round 4 (unmask-shares): the shares of client {}'s {} do not agree although "
                                        "each matches its commitment: client {} dealt shares that are not on one "
                                        "polynomial",
                                        owner, self_mask ? "self-mask seed" : "mask key", owner));
  throw Error(Exit::data, fmt::format("round 4 (unmask-shares): the shares of client {}'s {} are inconsistent (a "
                                      "responder sent a bad share{})",
                                      owner, self_mask ? "self-mask seed" : "mask key",
                                      shares.size() >= needed + 1 ? ", and more than one did"
                                                                  : "; too few answers to tell which"));
}

// Encoding the inboxes takes threads only for a few MiB or more: starting one can cost milliseconds.
constexpr uint64_t kParallelBytes = uint64_t{4} << 20;

}  // namespace

const char* formed_set(Round r, bool active) {
  switch (r) {
    case Round::r0: return "U1";
    case Round::r1: return "U2";
    case Round::r2: return "U3";
    case Round::r3: return "U4";
    default: return active ? "U5" : "U4";
  }
}

ServerSession::ServerSession(const Params& p, const SessionId& sid) : p_(p), sid_(sid) { open(Round::r0); }

ServerSession::ServerSession(const Params& p, const SessionId& sid, Round r, Roster roster, std::vector<uint32_t> u2,
                             std::vector<uint32_t> u3)
    : p_(p), sid_(sid), roster_(std::move(roster)), u2_(std::move(u2)), u3_(std::move(u3)) {
  if (r == Round::r4) sum_.assign(p_.length, 0);
  open(r);
}

ServerSession ServerSession::load(const SessionDir& s, const Params& p, const SessionId& sid, Round r) {
  ServerSession e;
  e.p_ = p;
  e.sid_ = sid;
  if (r >= Round::r1) e.roster_ = s.roster(sid);
  if (r >= Round::r2) e.u2_ = s.u2(sid);
  if (r >= Round::r3) {
    e.u3_ = s.survivors(sid);
    e.sum_in_ = s;
  }
  e.dir_ = s;
  if (r == Round::r4 && p.active()) e.u4_ = e.checked_consistency(s.consistency(sid), s.path(Marker::consistency)).signer_ids();
  e.open(r);
  return e;
}

Round ServerSession::first_open_round(const SessionDir& s) {
  const bool active = s.params().first.active();
  for (Round r : kActiveRounds)
    if ((active || r != Round::r3) && !s.has(SessionDir::marker_of(r))) return r;
  return Round::none;
}

void ServerSession::open(Round r) {
  round_ = r;
  origin_.clear();
  kept_.clear();
  switch (r) {
    case Round::r0:
      expected_.resize(p_.clients);
      for (uint32_t i = 0; i < p_.clients; ++i) expected_[i] = i + 1;
      break;
    case Round::r1: expected_ = roster_.ids(); break;
    case Round::r2:
      expected_ = u2_;
      sum_.assign(p_.length, 0);
      break;
    case Round::r3: expected_ = u3_; break;
    case Round::r4: expected_ = p_.active() ? u4_ : u3_; break;
    case Round::none: expected_.clear(); break;
  }
}

const std::shared_ptr<const RosterWindows>& ServerSession::windows() {
  if (!windows_) windows_ = std::make_shared<const RosterWindows>(p_, sid_, roster_);
  return windows_;
}

const NeighbourGraph& ServerSession::graph() {
  if (!graph_) graph_.emplace(p_, sid_, roster_, is_secagg_plus(p_) ? &windows()->ring() : nullptr);
  return *graph_;
}

// ---- Checks -------------------------------------------------------------------------------------

// The envelope of a client message of this round: its type, session, recipient (the server), a
// sender the round waits for and, after round 0, the sender's signature by the key it advertised
// in round 0 (the roster): the one check that stops a client, or anyone else, from speaking for
// another id. Round 0's self-signature is checked with its body, which holds the key.
void ServerSession::check_envelope(const Incoming& m) const {
  const MsgType type = client_message(round_);
  expect_message(m.env, m.origin, type, sid_);
  expect_recipient(m.env, m.origin, kServerId);
  const uint32_t u = m.env.sender;
  if (!contains(expected_, u))
    throw Error(Exit::data, fmt::format("{}: {} message is from client {}, which is not in {}", m.origin,
                                        round_label(type), u, expected_set(round_, p_.active())));
  if (round_ == Round::r0) return;
  const RosterEntry* e = roster_.find(u);
  if (!e)
    throw Error(Exit::data, fmt::format("{}: {} message from client {}: the roster U1 has no round-0 key of client {} "
                                        "to check its signature against",
                                        m.origin, round_label(type), u, u));
  if (!signed_by(m.env, e->sig_pk))
    throw Error(Exit::data, fmt::format("{}: {} message from client {}: bad signature: not signed by client {}'s "
                                        "round-0 key",
                                        m.origin, round_label(type), u, u));
}

RosterEntry ServerSession::check_advert(const Incoming& m) const {
  auto body = decode_body<AdvertiseKeys>(m.env, m.origin);
  if (!usable_public_key(body.c_pk) || !usable_public_key(body.s_pk))
    throw Error(Exit::data, fmt::format("{}: round 0 (advertise-keys) from client {} has a low-order public key",
                                        m.origin, m.env.sender));
  // Proof of possession: a client cannot advertise a signing key whose secret it lacks (someone
  // else's, to have its messages pass as its own). Also refuses keys libsodium cannot use.
  if (!signed_by(m.env, body.sig_pk))
    throw Error(Exit::data, fmt::format("{}: round 0 (advertise-keys) message from client {}: bad signature: not "
                                        "signed by the signing key it advertises",
                                        m.origin, m.env.sender));
  // Active: the keys are the certified client's (docs/security.md, "Active mode"), checked here
  // so that a roster the server sends on is one every client accepts.
  if (p_.active() != body.attestation.has_value())
    throw Error(Exit::data, fmt::format("{}: round 0 (advertise-keys) from client {} {}", m.origin, m.env.sender,
                                        p_.active() ? "has no certificate: this session is active, and each client "
                                                      "signs its keys with its certified identity (secagg-keygen "
                                                      "--identity --cert)"
                                                    : "carries a certificate, which an honest-but-curious session "
                                                      "does not take"));
  if (body.attestation)
    verify_attestation(*body.attestation, p_.ca_pk, sid_, m.env.sender, body, unix_now(),
                       fmt::format("{}: round 0 (advertise-keys) from client {}", m.origin, m.env.sender));
  return {m.env.sender, body.c_pk, body.s_pk, body.sig_pk, body.attestation};
}

// What client u signs in round 3: its view U3 ∩ N[u] of the U3 this server sent (one U3 for
// everyone). In full SecAgg every view is U3, hashed once for all the signers.
Bytes ServerSession::signed_bytes(uint32_t u) {
  if (!graph().full()) return consistency_signed_bytes(sid_, u, signed_view(u3_, graph().closed(u)));
  if (!u3_digest_) u3_digest_ = survivor_digest(u3_);
  return consistency_signed_bytes(sid_, u, *u3_digest_);
}

// Round 3: a client's signature over its view of the U3 this server sent.
SurvivorSignature ServerSession::check_signature(const Incoming& m) {
  auto body = decode_body<SurvivorSignature>(m.env, m.origin);
  const RosterEntry* e = roster_.find(m.env.sender);
  if (!ed25519_verify(e->sig_pk, body.signature, signed_bytes(m.env.sender)))
    throw Error(Exit::data, fmt::format("{}: round 3 (consistency-signature) from client {}: its signature is not over "
                                        "this session's survivor set U3",
                                        m.origin, m.env.sender));
  return body;
}

Consistency ServerSession::checked_consistency(Consistency c, const std::string& origin) {
  if (c.u3 != u3_) throw Error(Exit::data, origin + ": its survivor set is not the session's U3 (survivors.msg)");
  uint32_t last = 0;
  for (const SignedBy& s : c.signatures) {
    const RosterEntry* e = roster_.find(s.id);
    if (s.id <= last || !e || !contains(u3_, s.id) || !ed25519_verify(e->sig_pk, s.signature, signed_bytes(s.id)))
      throw Error(Exit::data, fmt::format("{}: the signature of client {} is not a valid one over U3", origin, s.id));
    last = s.id;
  }
  return c;
}

SealedShares ServerSession::check_shares(const Incoming& m) {
  auto body = decode_body<SealedShares>(m.env, m.origin);
  const size_t ct_len = kSharePlaintextBytes + kAeadTagBytes;
  std::vector<uint32_t> to;
  for (auto& s : body.shares) {
    to.push_back(s.peer);
    if (s.ciphertext.size() != ct_len)
      throw Error(Exit::data, fmt::format("{}: round 1 (share-keys) from client {}: share for client {} is {} bytes, "
                                          "expected {}",
                                          m.origin, m.env.sender, s.peer, s.ciphertext.size(), ct_len));
  }
  if (p_.active() != !body.commitments.empty())
    throw Error(Exit::data, fmt::format("{}: round 1 (share-keys) from client {} {}", m.origin, m.env.sender,
                                        p_.active() ? "has no commitments to its shares, which an active session's "
                                                      "share-keys message carries"
                                                    : "carries share commitments, which an honest-but-curious "
                                                      "session does not take"));
  auto holders = graph().closed(m.env.sender);
  if (!std::equal(to.begin(), to.end(), holders.begin(), holders.end()))
    throw Error(Exit::data, fmt::format("{}: round 1 (share-keys) from client {} does not carry exactly one share for "
                                        "each client of its neighbourhood in U1",
                                        m.origin, m.env.sender));
  return body;
}

std::span<const uint8_t> ServerSession::check_masked(const Incoming& m) const {
  check_envelope(m);
  const uint32_t u = m.env.sender;
  const Modulus ring = p_.ring();
  const RingVectorView body = view_ring_vector(m.env, m.origin);
  if (body.modulus != ring.R || body.length != p_.length)
    throw Error(Exit::data, fmt::format("{}: round 2 (masked-input) from client {} has modulus {} and length {}, the "
                                        "session has {} and {}",
                                        m.origin, u, body.modulus, body.length, ring.R, p_.length));
  size_t bad = 0;
  try {
    bad = first_outside(body.packed, body.length, ring);
  } catch (const Error& e) {
    throw Error(Exit::data, fmt::format("{}: round 2 (masked-input) from client {}: {}", m.origin, u, e.what()));
  }
  if (bad != body.length)
    throw Error(Exit::data, fmt::format("{}: round 2 (masked-input) from client {}: element {} is outside [0, {})",
                                        m.origin, u, bad, ring.R));
  return body.packed;
}

const ShareCommitment* ServerSession::HeldCommitments::find(uint32_t dealer) const {
  auto it = std::lower_bound(dealers.begin(), dealers.end(), dealer);
  return it == dealers.end() || *it != dealer ? nullptr : &commitments[static_cast<size_t>(it - dealers.begin())];
}

const ServerSession::HeldCommitments& ServerSession::commitments_of(uint32_t holder, HeldCommitments& loaded) const {
  if (auto it = commitments_.find(holder); it != commitments_.end()) return it->second;
  if (!dir_) return loaded;
  const std::string f = dir_->inbox_path(holder);
  const Envelope env = open_envelope(read_message_file(f, &p_), f);
  expect_message(env, f, MsgType::inbox, sid_);
  expect_recipient(env, f, holder);
  SealedShares box = decode_body<SealedShares>(env, f);
  for (const SealedShare& sh : box.shares) loaded.dealers.push_back(sh.peer);  // sorted: the engine wrote it
  loaded.commitments = std::move(box.commitments);
  if (loaded.commitments.size() != loaded.dealers.size()) loaded = {};
  return loaded;
}

// A responder answers for exactly its neighbours: self-mask shares for N[v] ∩ U3, mask-key
// shares for N[v] ∩ (U2 \ U3), except those it reports missing (their bundles did not open for
// it in round 2). In an active session each share must match its dealer's round-1 commitment; one
// that does not is left out and named (BadShare), and the answer's other shares still count.
CheckedAnswer ServerSession::check_unmask(const Incoming& m) {
  const uint32_t v = m.env.sender;
  CheckedAnswer out;
  out.shares = decode_body<UnmaskShares>(m.env, m.origin);
  UnmaskShares& body = out.shares;
  if (!sorted_unique(body.missing))
    throw Error(Exit::data, fmt::format("{}: round 4 (unmask-shares) from client {}: its missing owners are not sorted "
                                        "and unique",
                                        m.origin, v));
  std::vector<uint32_t> want_b, want_key, owners;
  for (uint32_t u : graph().closed(v)) {
    const bool missing = contains(body.missing, u);
    if (contains(u3_, u)) {
      if (!missing) want_b.push_back(u);
      owners.push_back(u);
    } else if (contains(u2_, u)) {
      if (!missing) want_key.push_back(u);
      owners.push_back(u);
    }
  }
  if (!is_subset(body.missing, owners) || contains(body.missing, v))
    throw Error(Exit::data, fmt::format("{}: round 4 (unmask-shares) from client {} reports missing shares of a client "
                                        "it cannot miss (itself, or one outside its U2)",
                                        m.origin, v));
  auto check = [&](const std::vector<OwnedShare>& shares, const std::vector<uint32_t>& want, const char* kind) {
    bool ok = shares.size() == want.size();
    for (size_t i = 0; ok && i < shares.size(); ++i) ok = shares[i].owner == want[i] && shares[i].share.x == v;
    if (!ok)
      throw Error(Exit::data, fmt::format("{}: round 4 (unmask-shares) from client {} does not carry exactly one {} "
                                          "share per client it should",
                                          m.origin, v, kind));
  };
  check(body.self_mask, want_b, "self-mask");
  check(body.mask_key, want_key, "mask-key");
  if (!p_.active()) return out;
  HeldCommitments loaded;
  const HeldCommitments& committed = commitments_of(v, loaded);
  auto verify = [&](std::vector<OwnedShare>& shares, ShareKind kind) {
    std::erase_if(shares, [&](const OwnedShare& s) {
      const ShareCommitment* c = committed.find(s.owner);
      if (c && share_commitment(sid_, s.owner, v, kind, s.share) == (kind == ShareKind::self_mask ? c->mask : c->key))
        return false;
      out.bad.push_back({v, s.owner, kind, true});
      return true;
    });
  };
  verify(body.self_mask, ShareKind::self_mask);
  verify(body.mask_key, ShareKind::mask_key);
  return out;
}

// Refuses m if its sender is already in `seen` (sender -> origin).
void ServerSession::refuse_duplicate(const Incoming& m, const std::map<uint32_t, std::string>& seen) const {
  if (auto it = seen.find(m.env.sender); it != seen.end())
    throw Error(Exit::data, fmt::format("{}: duplicate {} message from client {} (also in {})", m.origin,
                                        round_label(client_message(round_)), m.env.sender, it->second));
}

// A key another client already advertised (a copied advert, or one client posing as two) is
// refused as the second one's fault; the session goes on without it.
void ServerSession::refuse_repeated_keys(const Incoming& m, const RosterEntry& e) const {
  for (const Key32* k : {&e.c_pk, &e.s_pk, &e.sig_pk})
    if (auto it = advertised_.find(*k); it != advertised_.end())
      throw Error(Exit::data, fmt::format("{}: round 0 (advertise-keys) from client {} repeats a public key that "
                                          "client {} advertised",
                                          m.origin, m.env.sender, it->second));
}

// ---- Accepting ----------------------------------------------------------------------------------

// A round that keeps each client's checked body (rounds 1 and 4): one message, or a batch whose
// envelopes and duplicates were checked, its bodies on all threads in sender order.
template <class Body>
void ServerSession::add_checked(const Incoming& m, std::map<uint32_t, Body>& into,
                                Body (ServerSession::*check)(const Incoming&)) {
  check_envelope(m);
  Body body = (this->*check)(m);
  refuse_duplicate(m, origin_);
  into.emplace(m.env.sender, std::move(body));
}

template <class Body>
void ServerSession::add_all_checked(std::span<const Incoming* const> sorted, unsigned threads,
                                    std::map<uint32_t, Body>& into, Body (ServerSession::*check)(const Incoming&)) {
  std::vector<Body> bodies(sorted.size());
  parallel_for_each_checked(sorted.size(), threads, [&](size_t i) { bodies[i] = (this->*check)(*sorted[i]); });
  for (size_t i = 0; i < sorted.size(); ++i) into.emplace(sorted[i]->env.sender, std::move(bodies[i]));
}

void ServerSession::accept(const Incoming& m) {
  const uint32_t id = m.env.sender;
  switch (round_) {
    case Round::r0: {
      check_envelope(m);
      const RosterEntry e = check_advert(m);
      refuse_duplicate(m, origin_);
      refuse_repeated_keys(m, e);
      for (const Key32* k : {&e.c_pk, &e.s_pk, &e.sig_pk}) advertised_.emplace(*k, id);
      adverts_.emplace(id, e);
      break;
    }
    case Round::r1: add_checked(m, shares_, &ServerSession::check_shares); break;
    case Round::r2: {
      const std::span<const uint8_t> y = check_masked(m);
      refuse_duplicate(m, origin_);
      unpack_add(sum_, std::span(&y, 1), p_.ring(), 1);
      break;
    }
    case Round::r3: add_checked(m, signatures_, &ServerSession::check_signature); break;
    case Round::r4: add_checked(m, responses_, &ServerSession::check_unmask); break;
    case Round::none: throw Error(Exit::software, "a message arrived after the session's last round");
  }
  record(m);
}

// An accepted message: its origin, for the duplicate check, and the message itself for the
// session's transcript where the directory does not keep it already (session_dir.hpp).
void ServerSession::record(const Incoming& m) {
  origin_.emplace(m.env.sender, m.origin);
  if (!SessionDir::keeps_messages(round_)) kept_.emplace(m.env.sender, seal_envelope(m.env));
}

void ServerSession::accept_all(std::span<const Incoming> ms, unsigned threads) {
  if (round_ == Round::none) throw Error(Exit::software, "messages arrived after the session's last round");
  if (round_ == Round::r2) {
    // Checking a message (its signature, its body, the size and range of its packed elements)
    // needs no other: on all threads, each message whole. Nothing reaches the sum unless every
    // message passes; then the packed elements of all are added straight into the sum, the
    // threads splitting the elements (no message is unpacked whole).
    std::vector<std::span<const uint8_t>> packed(ms.size());
    parallel_for_each_checked(ms.size(), threads, [&](size_t i) { packed[i] = check_masked(ms[i]); });
    std::map<uint32_t, std::string> batch;
    for (const auto& m : ms) {
      refuse_duplicate(m, origin_);
      refuse_duplicate(m, batch);
      batch.emplace(m.env.sender, m.origin);
    }
    unpack_add(sum_, packed, p_.ring(), threads);
    origin_.merge(batch);
    return;
  }

  // Rounds 0, 1, 3 and 4: the envelopes (signature checks need nothing from another message), then
  // duplicates, only once every envelope passed, so that a batch with both a bad message and a
  // duplicate reports the bad message; then the bodies, in sender order.
  parallel_for_each_checked(ms.size(), threads, [&](size_t i) { check_envelope(ms[i]); });
  std::map<uint32_t, const Incoming*> by_sender;
  for (const auto& m : ms) {
    refuse_duplicate(m, origin_);
    auto [it, fresh] = by_sender.emplace(m.env.sender, &m);
    if (!fresh)
      throw Error(Exit::data, fmt::format("{}: duplicate {} message from client {} (also in {})", m.origin,
                                          round_label(client_message(round_)), m.env.sender, it->second->origin));
  }
  std::vector<const Incoming*> sorted;
  sorted.reserve(by_sender.size());
  for (auto& [id, m] : by_sender) sorted.push_back(m);
  if (round_ != Round::r0) graph();  // built once, before the threads share it
  switch (round_) {
    case Round::r0: {
      std::vector<RosterEntry> entries(sorted.size());
      parallel_for_each_checked(sorted.size(), threads, [&](size_t i) { entries[i] = check_advert(*sorted[i]); });
      std::map<Key32, uint32_t> owner = advertised_;
      for (const auto& e : entries)
        for (const Key32* k : {&e.c_pk, &e.s_pk, &e.sig_pk})
          if (auto [it, fresh] = owner.emplace(*k, e.id); !fresh)
            throw Error(Exit::data, fmt::format("round 0 (advertise-keys): client {} advertises a public key that "
                                                "client {} also advertises",
                                                e.id, it->second));
      advertised_ = std::move(owner);
      for (auto& e : entries) adverts_.emplace(e.id, std::move(e));
      break;
    }
    case Round::r1: add_all_checked(sorted, threads, shares_, &ServerSession::check_shares); break;
    case Round::r3: add_all_checked(sorted, threads, signatures_, &ServerSession::check_signature); break;
    default: add_all_checked(sorted, threads, responses_, &ServerSession::check_unmask); break;
  }
  for (const Incoming* m : sorted) record(*m);
}

// ---- Closing ------------------------------------------------------------------------------------

// Round 3 over a neighbour graph: every client of U2 needs t signers in its neighbourhood, or
// the holders of its shares refuse round 4 (consistency.hpp); in full SecAgg, t signers at all.
void ServerSession::require_quorums(const std::vector<uint32_t>& signers) {
  if (graph().full()) return;
  auto gap = first_gap(u2_, signers, p_.threshold, [&](uint32_t x) { return graph().closed(x); });
  if (gap)
    throw Error(Exit::aborted, fmt::format("{}: only {} of client {}'s neighbourhood signed, fewer than the threshold "
                                           "{}: the holders of its shares would refuse to unmask: session aborted",
                                           round_label(client_message(round_)), gap->signers, gap->owner,
                                           p_.threshold));
}

void ServerSession::require_threshold(size_t got) const {
  if (got < p_.threshold)
    throw Error(Exit::aborted, fmt::format("{}: only {} of {} clients answered, fewer than the threshold {} ({} too "
                                           "small): session aborted",
                                           round_label(client_message(round_)), got, expected_.size(), p_.threshold,
                                           formed_set(round_, p_.active())));
}

RoundResult ServerSession::close(unsigned threads, const std::function<void(Step)>& on_step,
                                 const ProgressFn& progress) {
  std::map<uint32_t, Bytes> kept = std::move(kept_);
  RoundResult r;
  switch (round_) {
    case Round::r0: r = close_keys(); break;
    case Round::r1: r = close_shares(threads); break;
    case Round::r2: r = close_masked(); break;
    case Round::r3: r = close_consistency(); break;
    case Round::r4: r = close_unmask(threads, on_step, progress); break;
    case Round::none: throw Error(Exit::software, "the session's last round is closed already");
  }
  r.messages = std::move(kept);
  return r;
}

RoundResult ServerSession::close_keys() {
  require_threshold(adverts_.size());
  Roster roster;
  roster.clients.reserve(adverts_.size());
  for (auto& [id, e] : adverts_) roster.clients.push_back(e);
  RoundResult r;
  r.round = Round::r0;
  r.in = roster.ids();
  r.marker = encode(MsgType::roster, sid_, kServerId, kServerId, roster);
  roster_ = std::move(roster);
  graph_.reset();
  windows_.reset();
  if (is_secagg_plus(p_)) r.personal = [w = windows()](uint32_t id) { return w->message(id); };
  adverts_.clear();
  advertised_.clear();
  open(Round::r1);
  return r;
}

RoundResult ServerSession::close_shares(unsigned threads) {
  RoundResult r;
  r.round = Round::r1;
  for (auto& [u, b] : shares_) r.in.push_back(u);
  require_threshold(r.in.size());
  std::map<uint32_t, SealedShares> inboxes;
  for (uint32_t v : r.in) inboxes.emplace(v, SealedShares{});
  uint64_t bytes = 0;
  for (auto& [u, b] : shares_)  // ascending u, so every inbox comes out sorted by sender
    for (size_t i = 0; i < b.shares.size(); ++i) {
      SealedShare& s = b.shares[i];
      auto it = inboxes.find(s.peer);
      if (it == inboxes.end()) continue;  // addressed to a client that dropped in round 1
      SealedShare fwd = std::move(s);
      fwd.peer = u;
      bytes += kSharePlaintextBytes + 64;
      it->second.shares.push_back(std::move(fwd));
      if (!b.commitments.empty()) it->second.commitments.push_back(b.commitments[i]);
    }
  shares_.clear();
  // Active: round 4 checks each revealed share against its dealer's commitment.
  commitments_.clear();
  for (const auto& [v, box] : inboxes) {
    if (box.commitments.empty()) continue;
    HeldCommitments& held = commitments_[v];
    for (const SealedShare& s : box.shares) held.dealers.push_back(s.peer);
    held.commitments = box.commitments;
  }
  std::vector<std::pair<const uint32_t, SealedShares>*> boxes;
  for (auto& e : inboxes) boxes.push_back(&e);
  std::vector<Bytes> encoded(boxes.size());
  parallel_for(boxes.size(), bytes >= kParallelBytes ? threads : 1, [&](size_t i) {
    const uint32_t v = boxes[i]->first;
    encoded[i] = encode(MsgType::inbox, sid_, kServerId, v, boxes[i]->second);
    SealedShares().shares.swap(boxes[i]->second.shares);
  });

  for (size_t i = 0; i < boxes.size(); ++i) r.inboxes.emplace(boxes[i]->first, std::move(encoded[i]));
  r.marker = encode(MsgType::server_round1, sid_, kServerId, kServerId, IdList{r.in});
  u2_ = r.in;
  open(Round::r2);
  return r;
}

RoundResult ServerSession::close_masked() {
  RoundResult r;
  r.round = Round::r2;
  for (auto& [id, origin] : origin_) r.in.push_back(id);
  require_threshold(r.in.size());
  r.marker = encode(MsgType::survivors, sid_, kServerId, kServerId, IdList{r.in});
  if (is_secagg_plus(p_))
    r.personal = [w = windows(), u3 = std::make_shared<const std::vector<uint32_t>>(r.in), sid = sid_](uint32_t id) {
      return encode(MsgType::survivors, sid, kServerId, id, IdList{within(*u3, w->members(id))});
    };
  u3_ = r.in;
  u3_digest_.reset();
  open(next_round(Round::r2, p_.active()));  // the running sum stays: round 4 removes its masks
  return r;
}

RoundResult ServerSession::close_consistency() {
  RoundResult r;
  r.round = Round::r3;
  Consistency c;
  c.u3 = u3_;
  for (auto& [id, s] : signatures_) {
    r.in.push_back(id);
    c.signatures.push_back({id, s.signature});
  }
  require_threshold(r.in.size());
  require_quorums(r.in);
  r.marker = encode(MsgType::consistency, sid_, kServerId, kServerId, c);
  if (is_secagg_plus(p_))
    r.personal = [w = windows(), whole = std::make_shared<const Consistency>(c), sid = sid_](uint32_t id) {
      return encode(MsgType::consistency, sid, kServerId, id, within(*whole, w->members(id)));
    };
  u4_ = r.in;
  signatures_.clear();
  open(Round::r4);
  return r;
}

std::vector<uint32_t> ServerSession::dropped() const {
  std::vector<uint32_t> out;
  std::set_difference(u2_.begin(), u2_.end(), u3_.begin(), u3_.end(), std::back_inserter(out));
  return out;
}

Recovered ServerSession::recover() const {
  if (round_ != Round::r4) throw Error(Exit::software, "secrets are recovered in round 4");
  const std::vector<uint32_t> dropped = this->dropped();
  std::span<const uint32_t> u3 = u3_;
  Recovered rec;
  for (auto& [id, b] : responses_) rec.responders.push_back(id);
  require_threshold(rec.responders.size());

  // Each secret is rebuilt from the first t responders of its owner's neighbourhood (by id). The
  // shares are dealt out by one pass over the responses in id order: each list is sorted by owner,
  // as are U3 and U2 \ U3, so a merge walk finds each owner's slot without a search.
  const size_t t = p_.threshold;
  // An active session's shares are checked against their commitments already: t of them suffice.
  // Otherwise up to two more are kept, to check the reconstruction with and, when it fails, to
  // find the one bad share (reconstruct_checked).
  const size_t keep = p_.active() ? t : t + 2;
  std::vector<std::vector<shamir::Share>> self_shares(u3.size()), key_shares(dropped.size());
  auto deal = [&](const std::vector<OwnedShare>& list, std::span<const uint32_t> owners,
                  std::vector<std::vector<shamir::Share>>& slots) {
    size_t j = 0;
    for (const auto& o : list) {
      while (j < owners.size() && owners[j] < o.owner) ++j;
      if (j == owners.size()) break;  // check_unmask allows no other owner
      if (slots[j].size() < keep) slots[j].push_back(o.share);
    }
  };
  for (const auto& [id, a] : responses_) {
    deal(a.shares.self_mask, u3, self_shares);
    deal(a.shares.mask_key, dropped, key_shares);
  }
  // Why a secret has fewer than t shares: responders that hold none of it (its bundle did not open
  // for them) and shares left out as bad are named, since they are not plain dropouts.
  auto short_of = [&](uint32_t owner, size_t got, bool self_mask) {
    size_t missing = 0, bad = 0;
    for (const auto& [id, a] : responses_) {
      missing += contains(a.shares.missing, owner) ? 1 : 0;
      for (const BadShare& b : a.bad) bad += b.owner == owner ? 1 : 0;
    }
    std::string why;
    if (missing + bad > 0)
      why = fmt::format(" ({} responders hold no share of it: its round-1 bundle did not open for them; {} sent a bad "
                        "share)",
                        missing, bad);
    return Error(Exit::aborted, fmt::format("round 4 (unmask-shares): only {} good share(s) of client {}'s {} came back, "
                                            "fewer than the threshold {}{}: it cannot be recovered: session aborted",
                                            got, owner, self_mask ? "self mask" : "mask key", t, why));
  };
  // Reconstruction, and the check of each mask key against its advertised public key, on all
  // threads: each worker takes every threads-th secret with its own Lagrange cache (in full
  // SecAgg one set of coefficients serves every secret). Each secret's failure (too few shares,
  // or inconsistent ones) is kept, and the first in owner order is reported, as a serial loop
  // over U3 then U2 \ U3 would.
  const size_t total = u3.size() + dropped.size();
  std::vector<Secret32> secrets(total);
  std::vector<std::optional<uint32_t>> culprit(total);
  Failures failed(total);
  const unsigned workers = static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(default_threads(), total)));
  parallel_for(workers, workers, [&](size_t w) {
    shamir::LagrangeCache cache;
    for (size_t s = w; s < total; s += workers) {
      const bool self_mask = s < u3.size();
      const uint32_t owner = self_mask ? u3[s] : dropped[s - u3.size()];
      try {
        const auto& shares = self_mask ? self_shares[s] : key_shares[s - u3.size()];
        if (shares.size() < t) throw short_of(owner, shares.size(), self_mask);
        const RosterEntry* e = self_mask ? nullptr : roster_.find(owner);
        if (!self_mask && !e) throw Error(Exit::software, fmt::format("client {} has no roster entry", owner));
        secrets[s] = reconstruct_checked(shares, t, self_mask ? nullptr : &e->s_pk, cache, culprit[s], owner, self_mask,
                                         p_.active());
      } catch (...) {
        failed.record(s);
      }
    }
  });
  for (size_t s = 0; s < total; ++s)
    if (culprit[s])
      rec.culprits.push_back({s < u3.size() ? u3[s] : dropped[s - u3.size()], *culprit[s], s < u3.size()});
  failed.rethrow_first();
  for (size_t j = 0; j < u3.size(); ++j) rec.self_seeds.emplace_back(u3[j], secrets[j]);
  for (size_t j = 0; j < dropped.size(); ++j) rec.mask_keys.emplace_back(dropped[j], secrets[u3.size() + j]);
  return rec;
}

RoundResult ServerSession::close_unmask(unsigned threads, const std::function<void(Step)>& on_step,
                                        const ProgressFn& progress) {
  auto step = [&](Step s) {
    if (on_step) on_step(s);
  };
  step(Step::reconstruct);
  Recovered rec = recover();
  // A loaded session reads its masked sum only now: what the responses say is checked first.
  if (sum_in_) {
    sum_ = sum_in_->masked_sum(p_, sid_);
    sum_in_.reset();
  }
  step(Step::remove_masks);
  remove_masks(p_, sid_, roster_, graph(), u3_, rec, sum_.data(), 0, sum_.size(), threads, progress);
  RoundResult r = round4_result(std::move(rec), std::move(sum_));
  r.marker = vector_message(r.aggregate, p_.ring(), sid_);
  sum_.clear();
  responses_.clear();
  open(Round::none);
  step(Step::done);
  return r;
}

RoundResult ServerSession::unmask_range(uint64_t begin, uint64_t end, unsigned threads, const ProgressFn& progress) {
  if (round_ != Round::r4 || !sum_in_) throw Error(Exit::software, "a range is unmasked in a loaded round 4");
  if (begin >= end || end > p_.length) throw Error(Exit::software, "unmask_range: a range outside the vector");
  Recovered rec = recover();
  std::vector<uint64_t> part = sum_in_->masked_sum_range(p_, sid_, begin, end);
  remove_masks(p_, sid_, roster_, graph(), u3_, rec, part.data(), begin, end, threads, progress);
  return round4_result(std::move(rec), std::move(part));
}

RoundResult ServerSession::round4_result(Recovered rec, std::vector<uint64_t> aggregate) const {
  RoundResult r;
  r.round = Round::r4;
  r.in = std::move(rec.responders);
  r.aggregate = std::move(aggregate);
  for (const auto& c : rec.culprits)
    r.bad_shares.push_back({c.responder, c.owner, c.self_mask ? ShareKind::self_mask : ShareKind::mask_key, false});
  for (const auto& [id, a] : responses_) {
    r.bad_shares.insert(r.bad_shares.end(), a.bad.begin(), a.bad.end());
    for (uint32_t owner : a.shares.missing) r.missing.emplace_back(id, owner);
  }
  return r;
}

Digest32 round4_inputs_digest(const SessionId& sid, std::span<const Incoming> answers) {
  std::vector<const Envelope*> in;
  for (const Incoming& m : answers) in.push_back(&m.env);
  std::sort(in.begin(), in.end(), [](const Envelope* a, const Envelope* b) { return a->sender < b->sender; });
  static constexpr std::string_view kLabel = "secagg/v1 unmask-part inputs";
  Bytes b(kLabel.begin(), kLabel.end());
  b.insert(b.end(), sid.begin(), sid.end());
  for (const Envelope* e : in) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(e->sender >> (8 * i)));
    b.insert(b.end(), e->checksum.begin(), e->checksum.end());
  }
  return blake2b_256(b);
}

void ServerSession::record(const RoundResult& r, const SessionDir::Writer& w) const {
  for (const auto& [id, msg] : r.messages) w.transcript(r.round, id, msg);
  if (r.round == Round::r1)
    for (const auto& [v, inbox] : r.inboxes) w.inbox(v, inbox);
  if (r.personal)
    for (uint32_t v : r.in) w.personal(r.round, v, r.personal(v));
  if (r.round == Round::r2) w.masked_sum(vector_message(sum_, p_.ring(), sid_));
  w.finish(r.marker);
}

std::vector<std::string> round_warnings(const RoundResult& r) {
  std::vector<std::string> out;
  for (const BadShare& b : r.bad_shares)
    out.push_back(fmt::format("round 4: client {}'s share of client {}'s {} {}: left out", b.responder, b.owner,
                              b.kind == ShareKind::self_mask ? "self-mask seed" : "mask key",
                              b.committed ? fmt::format("does not match what client {} committed to in round 1", b.owner)
                                          : std::string("does not agree with the other responders' shares")));
  for (const auto& [responder, owner] : r.missing)
    out.push_back(fmt::format("round 4: client {} holds no share of client {} (client {}'s round-1 bundle did not "
                              "open for it)",
                              responder, owner, owner));
  return out;
}

// ---- Whole rounds at once -----------------------------------------------------------------------

Roster collect_keys(const Params& p, const SessionId& sid, std::span<const Incoming> adverts) {
  ServerSession e(p, sid);
  e.accept_all(adverts, default_threads());
  e.close(default_threads());
  return e.roster();
}

ShareRound collect_shares(const Params& p, const SessionId& sid, const Roster& roster,
                          std::span<const Incoming> shares) {
  ServerSession e(p, sid, Round::r1, roster);
  e.accept_all(shares, default_threads());
  RoundResult r = e.close(default_threads());
  ShareRound out;
  out.u2 = r.in;
  for (const auto& [v, msg] : r.inboxes) {
    const std::string origin = SessionDir::inbox_name(v);
    out.inboxes.emplace(v, decode_body<SealedShares>(open_envelope(msg, origin), origin));
  }
  return out;
}

MaskedRound collect_masked(const Params& p, const SessionId& sid, const Roster& roster, std::span<const uint32_t> u2,
                           std::span<const Incoming> masked) {
  ServerSession e(p, sid, Round::r2, roster, std::vector<uint32_t>(u2.begin(), u2.end()));
  // In batches of a few per thread, as file mode feeds them (tools/secagg-collect.cpp).
  const unsigned threads = default_threads();
  const size_t batch = 2 * size_t{threads};
  for (size_t i = 0; i < masked.size(); i += batch)
    e.accept_all(masked.subspan(i, std::min(batch, masked.size() - i)), threads);
  RoundResult r = e.close(threads);
  return {std::move(r.in), e.masked_sum()};
}

Recovered recover_secrets(const Params& p, const SessionId& sid, const Roster& roster, std::span<const uint32_t> u2,
                          std::span<const uint32_t> u3, std::span<const Incoming> responses) {
  ServerSession e(p, sid, Round::r4, roster, std::vector<uint32_t>(u2.begin(), u2.end()),
                  std::vector<uint32_t>(u3.begin(), u3.end()));
  e.accept_all(responses, default_threads());
  return e.recover();
}

}  // namespace secagg
