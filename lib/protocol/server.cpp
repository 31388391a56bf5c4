#include "server.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "crypto.hpp"
#include "graph.hpp"
#include "error.hpp"
#include "pack.hpp"
#include "protocol.hpp"
#include "random.hpp"
#include "shamir.hpp"
#include "signature.hpp"

namespace secagg {
namespace {

// One client message of a round: its type, session, recipient (the server), a sender in the
// set the round expects answers from and, after round 0, the sender's signature by the key it
// advertised in round 0 (`keys`, the roster): the one check that stops a client, or anyone
// else, from speaking for another id. Round 0's self-signature is checked by collect_keys,
// which has the key from the body.
void expect_client_message(const Incoming& m, MsgType type, const SessionId& sid, std::span<const uint32_t> allowed,
                           const char* set_name, const Roster* keys) {
  expect_message(m.env, m.origin, type, sid);
  expect_recipient(m.env, m.origin, kServerId);
  const uint32_t u = m.env.sender;
  if (!contains(allowed, u))
    throw Error(Exit::data, fmt::format("{}: {} message is from client {}, which is not in {}", m.origin,
                                        round_label(type), u, set_name));
  if (type == MsgType::advertise_keys) return;
  if (!keys) throw Error(Exit::software, "a round message was checked without the roster's signing keys");
  const RosterEntry* e = keys->find(u);
  if (!e)
    throw Error(Exit::data, fmt::format("{}: {} message from client {}: the roster U1 has no round-0 key of client {} "
                                        "to check its signature against",
                                        m.origin, round_label(type), u, u));
  if (!signed_by(m.env, e->sig_pk))
    throw Error(Exit::data, fmt::format("{}: {} message from client {}: bad signature: not signed by client {}'s "
                                        "round-0 key",
                                        m.origin, round_label(type), u, u));
}

// Runs check(i) for every i in [0, n) on all threads (signature checks and decoding of one
// client's message need nothing from another's) and rethrows the failure of the lowest i. The
// callers look for duplicate senders only once every message has passed, so when a batch has
// both a bad message and a duplicate, the bad message is the one reported.
template <class F>
void check_each(size_t n, F&& check) {
  std::vector<std::exception_ptr> failed(n);
  parallel_for(n, default_threads(), [&](size_t i) {
    try {
      check(i);
    } catch (...) {
      failed[i] = std::current_exception();
    }
  });
  for (const auto& e : failed)
    if (e) std::rethrow_exception(e);
}

// Messages of one round, sorted by sender; refuses duplicates and senders outside `allowed`.
std::vector<const Incoming*> by_sender(std::span<const Incoming> in, MsgType type, const SessionId& sid,
                                       std::span<const uint32_t> allowed, const char* set_name, const Roster* keys) {
  check_each(in.size(), [&](size_t i) { expect_client_message(in[i], type, sid, allowed, set_name, keys); });
  std::map<uint32_t, const Incoming*> seen;
  for (const auto& m : in) {
    auto [it, fresh] = seen.emplace(m.env.sender, &m);
    if (!fresh)
      throw Error(Exit::data, fmt::format("{}: duplicate {} message from client {} (also in {})", m.origin,
                                          round_label(type), m.env.sender, it->second->origin));
  }
  std::vector<const Incoming*> out;
  for (auto& [id, m] : seen) out.push_back(m);
  return out;
}

void require_threshold(const Params& p, size_t got, size_t of, const char* round, const char* set) {
  if (got < p.threshold)
    throw Error(Exit::aborted, fmt::format("{}: only {} of {} clients answered, fewer than the threshold {} ({} too "
                                           "small): session aborted",
                                           round, got, of, p.threshold, set));
}

std::vector<uint32_t> all_ids(const Params& p) {
  std::vector<uint32_t> ids(p.clients);
  for (uint32_t i = 0; i < p.clients; ++i) ids[i] = i + 1;
  return ids;
}

}  // namespace

SessionId new_session_id() {
  SessionId sid;
  random_bytes(sid.data(), sid.size());
  return sid;
}

Roster collect_keys(const Params& p, const SessionId& sid, std::span<const Incoming> adverts) {
  auto msgs = by_sender(adverts, MsgType::advertise_keys, sid, all_ids(p), "the session's ids [1, n]", nullptr);
  Roster roster;
  roster.clients.resize(msgs.size());
  check_each(msgs.size(), [&](size_t i) {
    const Incoming* m = msgs[i];
    auto body = decode_body<AdvertiseKeys>(m->env, m->origin);
    if (!usable_public_key(body.c_pk) || !usable_public_key(body.s_pk))
      throw Error(Exit::data, fmt::format("{}: round 0 (advertise-keys) from client {} has a low-order public key",
                                          m->origin, m->env.sender));
    // Proof of possession: a client cannot advertise a signing key whose secret it lacks (someone
    // else's, to have its messages pass as its own). Also refuses keys libsodium cannot use.
    if (!signed_by(m->env, body.sig_pk))
      throw Error(Exit::data, fmt::format("{}: round 0 (advertise-keys) message from client {}: bad signature: not "
                                          "signed by the signing key it advertises",
                                          m->origin, m->env.sender));
    roster.clients[i] = {m->env.sender, body.c_pk, body.s_pk, body.sig_pk};
  });
  std::map<Key32, uint32_t> owner;
  for (const auto& e : roster.clients)
    for (const Key32* k : {&e.c_pk, &e.s_pk, &e.sig_pk})
      if (auto [it, fresh] = owner.emplace(*k, e.id); !fresh)
        throw Error(Exit::data, fmt::format("round 0 (advertise-keys): client {} advertises a public key that client {} "
                                            "also advertises",
                                            e.id, it->second));
  require_threshold(p, roster.clients.size(), p.clients, "round 0 (advertise-keys)", "U1");
  return roster;
}

ShareRound collect_shares(const Params& p, const SessionId& sid, const Roster& roster,
                          std::span<const Incoming> shares, const NeighbourGraph* known) {
  std::vector<uint32_t> u1 = roster.ids();
  auto msgs = by_sender(shares, MsgType::share_keys, sid, u1, "the roster U1", &roster);
  std::optional<NeighbourGraph> own;
  const NeighbourGraph& graph = known ? *known : own.emplace(sid, roster, p.neighbours);
  std::vector<std::pair<uint32_t, SealedShares>> bodies;
  const size_t ct_len = kSharePlaintextBytes + kAeadTagBytes;
  for (const Incoming* m : msgs) {
    auto body = decode_body<SealedShares>(m->env, m->origin);
    std::vector<uint32_t> to;
    for (auto& s : body.shares) {
      to.push_back(s.peer);
      if (s.ciphertext.size() != ct_len)
        throw Error(Exit::data, fmt::format("{}: round 1 (share-keys) from client {}: share for client {} is {} bytes, "
                                            "expected {}",
                                            m->origin, m->env.sender, s.peer, s.ciphertext.size(), ct_len));
    }
    auto holders = graph.closed(m->env.sender);
    if (!std::equal(to.begin(), to.end(), holders.begin(), holders.end()))
      throw Error(Exit::data, fmt::format("{}: round 1 (share-keys) from client {} does not carry exactly one share for "
                                          "each client of its neighbourhood in U1",
                                          m->origin, m->env.sender));
    bodies.emplace_back(m->env.sender, std::move(body));
  }
  ShareRound out;
  for (auto& [u, b] : bodies) out.u2.push_back(u);
  require_threshold(p, out.u2.size(), u1.size(), "round 1 (share-keys)", "U2");
  for (uint32_t v : out.u2) out.inboxes.emplace(v, SealedShares{});
  for (auto& [u, b] : bodies)  // ascending u, so every inbox comes out sorted by sender
    for (auto& s : b.shares) {
      auto it = out.inboxes.find(s.peer);
      if (it == out.inboxes.end()) continue;  // addressed to a client that dropped in round 1
      SealedShare fwd = std::move(s);
      fwd.peer = u;
      it->second.shares.push_back(std::move(fwd));
    }
  return out;
}

MaskedCollector::MaskedCollector(const Params& p, const SessionId& sid, const Roster& roster, std::vector<uint32_t> u2)
    : p_(p), sid_(sid), u2_(std::move(u2)), sum_(p.length, 0) {
  for (const auto& e : roster.clients)
    if (contains(u2_, e.id)) keys_.clients.push_back(e);
}

std::vector<uint64_t> MaskedCollector::check(const Incoming& m) const {
  expect_client_message(m, MsgType::masked_input, sid_, u2_, "U2 (the clients whose shares were delivered)", &keys_);
  const uint32_t u = m.env.sender;
  const Modulus ring = p_.ring();
  auto body = decode_body<RingVector>(m.env, m.origin);
  if (body.modulus != ring.R || body.length != p_.length)
    throw Error(Exit::data, fmt::format("{}: round 2 (masked-input) from client {} has modulus {} and length {}, the "
                                        "session has {} and {}",
                                        m.origin, u, body.modulus, body.length, ring.R, p_.length));
  std::vector<uint64_t> y;
  try {
    y = unpack(body.packed, body.length, ring.bits());
  } catch (const Error& e) {
    throw Error(Exit::data, fmt::format("{}: round 2 (masked-input) from client {}: {}", m.origin, u, e.what()));
  }
  for (size_t i = 0; i < y.size(); ++i)
    if (y[i] >= ring.R)
      throw Error(Exit::data, fmt::format("{}: round 2 (masked-input) from client {}: element {} is outside [0, {})",
                                          m.origin, u, i, ring.R));
  return y;
}

namespace {
// Refuses m if its sender is already in `seen` (sender -> origin).
void refuse_duplicate(const Incoming& m, const std::map<uint32_t, std::string>& seen) {
  if (auto it = seen.find(m.env.sender); it != seen.end())
    throw Error(Exit::data, fmt::format("{}: duplicate round 2 (masked-input) message from client {} (also in {})",
                                        m.origin, m.env.sender, it->second));
}
}  // namespace

void MaskedCollector::add(const Incoming& m) {
  std::vector<uint64_t> y = check(m);
  refuse_duplicate(m, seen_);
  const Modulus ring = p_.ring();
  for (size_t i = 0; i < y.size(); ++i) sum_[i] = ring.add(sum_[i], y[i]);
  seen_.emplace(m.env.sender, m.origin);
}

void MaskedCollector::add_all(std::span<const Incoming> ms, unsigned threads) {
  // Checking a message (its signature, decoding, unpacking) needs no other, so each thread takes
  // every threads-th message and adds it into its own partial sum while the unpacked vector is
  // still in cache. Nothing reaches the sum unless every message passes.
  const Modulus ring = p_.ring();
  const size_t L = sum_.size();
  // A worker holds a partial sum and one unpacked vector: 16 bytes per element. At most 1 GiB of
  // them, whatever the core count, so file mode's memory stays a few vectors.
  const size_t by_memory = std::max<size_t>(1, (size_t{1} << 30) / (16 * std::max<size_t>(L, 1)));
  const size_t workers = std::max<size_t>(1, std::min({size_t{threads}, ms.size(), by_memory}));
  std::vector<std::vector<uint64_t>> partial(workers);
  std::vector<std::exception_ptr> failed(ms.size());
  parallel_for(workers, static_cast<unsigned>(workers), [&](size_t w) {
    partial[w].assign(L, 0);
    uint64_t* acc = partial[w].data();
    for (size_t i = w; i < ms.size(); i += workers) {
      try {
        const std::vector<uint64_t> y = check(ms[i]);
        for (size_t e = 0; e < L; ++e) acc[e] = ring.add(acc[e], y[e]);
      } catch (...) {
        failed[i] = std::current_exception();
      }
    }
  });
  for (const auto& e : failed)
    if (e) std::rethrow_exception(e);
  std::map<uint32_t, std::string> batch;
  for (const auto& m : ms) {
    refuse_duplicate(m, seen_);
    refuse_duplicate(m, batch);
    batch.emplace(m.env.sender, m.origin);
  }
  for (const auto& part : partial)
    for (size_t e = 0; e < L; ++e) sum_[e] = ring.add(sum_[e], part[e]);
  seen_.merge(batch);
}

std::vector<uint32_t> MaskedCollector::finish() const {
  std::vector<uint32_t> u3;
  for (auto& [id, origin] : seen_) u3.push_back(id);
  require_threshold(p_, u3.size(), u2_.size(), "round 2 (masked-input)", "U3");
  return u3;
}

MaskedRound collect_masked(const Params& p, const SessionId& sid, const Roster& roster, std::span<const uint32_t> u2,
                           std::span<const Incoming> masked) {
  MaskedCollector c(p, sid, roster, std::vector<uint32_t>(u2.begin(), u2.end()));
  // In batches of a few per thread: each message is unpacked to a whole vector while it is added,
  // so memory stays a small multiple of one vector however many clients there are.
  const unsigned threads = default_threads();
  const size_t batch = 2 * size_t{threads};
  for (size_t i = 0; i < masked.size(); i += batch)
    c.add_all(masked.subspan(i, std::min(batch, masked.size() - i)), threads);
  return {c.finish(), std::move(c.sum())};
}

namespace {

// The body of a round-4 response whose envelope has passed expect_client_message.
UnmaskShares check_unmask_body(std::span<const uint32_t> u2, std::span<const uint32_t> u3, const Incoming& m,
                               const NeighbourGraph& g) {
  const uint32_t v = m.env.sender;
  auto body = decode_body<UnmaskShares>(m.env, m.origin);
  // A responder answers for exactly its neighbours: b shares for N[v] ∩ U3, mask-key shares
  // for N[v] ∩ (U2 \ U3).
  std::vector<uint32_t> want_b, want_key;
  for (uint32_t u : g.closed(v)) {
    if (contains(u3, u))
      want_b.push_back(u);
    else if (contains(u2, u))
      want_key.push_back(u);
  }
  auto check = [&](const std::vector<OwnedShare>& shares, const std::vector<uint32_t>& owners, const char* kind) {
    bool ok = shares.size() == owners.size();
    for (size_t i = 0; ok && i < shares.size(); ++i) ok = shares[i].owner == owners[i] && shares[i].share.x == v;
    if (!ok)
      throw Error(Exit::data, fmt::format("{}: round 4 (unmask-shares) from client {} does not carry exactly one {} "
                                          "share per client it should",
                                          m.origin, v, kind));
  };
  check(body.self_mask, want_b, "self-mask");
  check(body.mask_key, want_key, "mask-key");
  return body;
}

}  // namespace

UnmaskShares check_unmask_shares(const Params& p, const SessionId& sid, const Roster& roster,
                                 std::span<const uint32_t> u2, std::span<const uint32_t> u3, const Incoming& m,
                                 const NeighbourGraph* graph) {
  expect_client_message(m, MsgType::unmask_shares, sid, u3, "U3 (the survivors)", &roster);
  std::optional<NeighbourGraph> own;
  if (!graph) graph = &own.emplace(sid, roster, p.neighbours);
  return check_unmask_body(u2, u3, m, *graph);
}

CheckedResponses check_unmask_responses(const Params& p, const SessionId& sid, const Roster& roster,
                                        std::span<const uint32_t> u2, std::span<const uint32_t> u3,
                                        std::span<const Incoming> responses) {
  // The envelopes (type, sender, signature) and duplicates as for every round, then each body
  // (decoding, exactly the owners it must answer for), on all threads.
  const auto msgs = by_sender(responses, MsgType::unmask_shares, sid, u3, "U3 (the survivors)", &roster);
  const NeighbourGraph graph(sid, roster, p.neighbours);
  CheckedResponses out;
  for (const Incoming* m : msgs) out.senders.push_back(m->env.sender);
  out.bodies.resize(msgs.size());
  check_each(msgs.size(), [&](size_t k) { out.bodies[k] = check_unmask_body(u2, u3, *msgs[k], graph); });
  return out;
}

Recovered recover_secrets(const Params& p, const SessionId& sid, const Roster& roster, std::span<const uint32_t> u2,
                          std::span<const uint32_t> u3, std::span<const Incoming> responses) {
  return reconstruct_secrets(p, roster, u2, u3, check_unmask_responses(p, sid, roster, u2, u3, responses));
}

Recovered reconstruct_secrets(const Params& p, const Roster& roster, std::span<const uint32_t> u2,
                              std::span<const uint32_t> u3, const CheckedResponses& responses) {
  std::vector<uint32_t> dropped;
  std::set_difference(u2.begin(), u2.end(), u3.begin(), u3.end(), std::back_inserter(dropped));
  const unsigned threads = default_threads();
  Recovered rec;
  rec.responders = responses.senders;
  require_threshold(p, rec.responders.size(), u3.size(), "round 4 (unmask-shares)", "U4");

  // Each secret is rebuilt from the first t responders of its owner's neighbourhood (by id). The
  // shares are dealt out by one pass over the responses in id order: each list is sorted by owner,
  // as are U3 and U2 \ U3, so a merge walk finds each owner's slot without a search.
  const size_t t = p.threshold;
  std::vector<std::vector<shamir::Share>> self_shares(u3.size()), key_shares(dropped.size());
  auto deal = [&](const std::vector<OwnedShare>& list, std::span<const uint32_t> owners,
                  std::vector<std::vector<shamir::Share>>& slots) {
    size_t j = 0;
    for (const auto& o : list) {
      while (j < owners.size() && owners[j] < o.owner) ++j;
      if (j == owners.size()) break;  // check_unmask_shares allows no other owner
      if (slots[j].size() < t) slots[j].push_back(o.share);
    }
  };
  for (const auto& b : responses.bodies) {
    deal(b.self_mask, u3, self_shares);
    deal(b.mask_key, dropped, key_shares);
  }
  auto short_of = [&](uint32_t owner, size_t got, bool self_mask) {
    return Error(Exit::aborted, fmt::format("round 4 (unmask-shares): only {} of client {}'s neighbours answered, fewer "
                                            "than the threshold {}: its {} cannot be recovered: session aborted",
                                            got, owner, t, self_mask ? "self mask" : "mask key"));
  };
  // Reconstruction, and the check of each mask key against its advertised public key, on all
  // threads: each worker takes every threads-th secret with its own Lagrange cache (in full
  // SecAgg one set of coefficients serves every secret). Each secret's failure (too few shares,
  // or inconsistent ones) is kept, and the first in owner order is reported, as a serial loop
  // over U3 then U2 \ U3 would.
  const size_t total = u3.size() + dropped.size();
  std::vector<Secret32> secrets(total);
  std::vector<std::exception_ptr> failed(total);
  const unsigned workers = static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(threads, total)));
  parallel_for(workers, workers, [&](size_t w) {
    shamir::LagrangeCache cache;
    for (size_t s = w; s < total; s += workers) {
      const bool self_mask = s < u3.size();
      const uint32_t owner = self_mask ? u3[s] : dropped[s - u3.size()];
      try {
        const auto& shares = self_mask ? self_shares[s] : key_shares[s - u3.size()];
        if (shares.size() < t) throw short_of(owner, shares.size(), self_mask);
        try {
          secrets[s] = shamir::reconstruct(shares, &cache);
        } catch (const Error&) {
          throw Error(Exit::data, fmt::format("round 4 (unmask-shares): the shares of client {}'s {} are inconsistent "
                                              "(a responder sent a bad share)",
                                              owner, self_mask ? "self-mask seed" : "mask key"));
        }
        const RosterEntry* e = self_mask ? nullptr : roster.find(owner);
        if (!self_mask && (!e || x25519_public(secrets[s]) != e->s_pk))
          throw Error(Exit::data, fmt::format("round 4 (unmask-shares): the reconstructed mask key of client {} does not "
                                              "match the key it advertised (a responder sent a bad share)",
                                              owner));
      } catch (...) {
        failed[s] = std::current_exception();
      }
    }
  });
  for (const auto& e : failed)
    if (e) std::rethrow_exception(e);
  for (size_t j = 0; j < u3.size(); ++j) rec.self_seeds.emplace_back(u3[j], secrets[j]);
  for (size_t j = 0; j < dropped.size(); ++j) rec.mask_keys.emplace_back(dropped[j], secrets[u3.size() + j]);
  return rec;
}

void remove_masks(const Params& p, const SessionId& sid, const Roster& roster, std::span<const uint32_t> u3,
                  const Recovered& rec, uint64_t* sum, uint64_t begin, uint64_t end, unsigned threads) {
  std::vector<SignedSeed> seeds;
  for (auto& [u, b] : rec.self_seeds) seeds.push_back({b, Sign::minus});
  // y_v carries sign(v, d) PRG(s_vd) for each dropped neighbour d: take it back out. One X25519
  // agreement per (d, v) pair, so they run on all threads.
  NeighbourGraph graph(sid, roster, p.neighbours);
  struct Pair {
    const Secret32* sk;
    uint32_t d, v;
  };
  std::vector<Pair> pairs;
  for (auto& [d, sk] : rec.mask_keys)
    for (uint32_t v : graph.closed(d))
      if (v != d && contains(u3, v)) pairs.push_back({&sk, d, v});
  const size_t first = seeds.size();
  seeds.resize(first + pairs.size());
  parallel_for(pairs.size(), threads, [&](size_t i) {
    const Pair& q = pairs[i];
    seeds[first + i] = {pairwise_seed(*q.sk, roster.find(q.v)->s_pk, sid, q.d, q.v), q.v < q.d ? Sign::minus : Sign::plus};
  });
  apply_masks(p.prg_kind(), p.ring(), seeds, sum, begin, end, threads);
}

}  // namespace secagg
