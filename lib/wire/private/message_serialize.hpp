// The serialization of every message body (messages.hpp), field by field: the byte format of
// man/secagg-formats.5 and secagg-inspect's JSON. Private to the wire layer: only its .cpp
// files include it (and tests that forge bodies), so cereal stays out of every public header.
// Free functions in the namespace of each struct, found by cereal through argument-dependent
// lookup. The order of the fields is the format: never reorder them.
#pragma once
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>
#include <string>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <fmt/format.h>

#include "messages.hpp"
#include "serialize.hpp"

namespace secagg::shamir {

template <class A>
void serialize(A& ar, Share& s) {
  ar(cereal::make_nvp("x", s.x), cereal::make_nvp("y", ser::SecretWords<kChunks>{s.y}));
}

}  // namespace secagg::shamir

namespace secagg {

template <class A>
void serialize_active(A& ar, Params& p);
template <class A>
void serialize_dp(A& ar, Params& p);

// A binary64 field; in JSON, which has no NaN or infinity, a forged one is shown as a string.
template <class A>
void serialize_double(A& ar, const char* name, double& v) {
  if constexpr (ser::is_text<A>) {
    if (!std::isfinite(v)) {
      std::string w = std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
      ar(cereal::make_nvp(name, w));
      return;
    }
  }
  ar(cereal::make_nvp(name, v));
}

// The u8 that opens a group of optional fields (sparse, active, DP) and says which kind they
// are: in JSON by its name (a forged number shows as a number); read, 0 is refused, since the
// flag bit that announced the group says there is one.
template <class A, class E>
void serialize_kind(A& ar, const char* field, E& v, const char* (*name)(E), const char* zero_error) {
  if constexpr (ser::is_text<A>) {
    const std::string n = name(v);
    if (n == "unknown")
      ar(cereal::make_nvp(field, static_cast<uint8_t>(v)));
    else
      ar(cereal::make_nvp(field, n));
  } else {
    auto k = static_cast<uint8_t>(v);
    ar(cereal::make_nvp(field, k));
    if constexpr (ser::is_input<A>) {
      if (k == 0) throw Error(Exit::data, zero_error);
      v = static_cast<E>(k);
    }
  }
}

template <class A>
void serialize(A& ar, Params& p) {
  ar(cereal::make_nvp("clients", p.clients), cereal::make_nvp("threshold", p.threshold),
     cereal::make_nvp("neighbours", p.neighbours), cereal::make_nvp("modulus", p.modulus),
     cereal::make_nvp("length", p.length));
  if constexpr (ser::is_text<A>) {
    // By name, as the summary line and setup's --prg say it (a forged number shows as a number).
    std::string name(prg_name(p.prg_kind()));
    if (name == "unknown")
      ar(cereal::make_nvp("prg", p.prg));
    else
      ar(cereal::make_nvp("prg", name));
  } else {
    ar(cereal::make_nvp("prg", p.prg));
  }
  // The top bit of the insecure-threshold byte says that the sparse fields follow max_weight; a
  // reader from before sparse sessions refuses the byte (it must be 0 or 1) rather than misread.
  // The next bit says the same of the active-mode fields, which follow the sparse ones, and the
  // third of the federation fields (a shard's parent, a hierarchical top's shard bound), and the
  // fourth of the distributed-DP fields, last.
  constexpr uint8_t kSparseFollows = 0x80, kActiveFollows = 0x40, kFederationFollows = 0x20, kDpFollows = 0x10;
  if constexpr (ser::is_text<A>) {
    ar(cereal::make_nvp("insecure_threshold", p.insecure_threshold));
  } else if constexpr (ser::is_input<A>) {
    ar(cereal::make_nvp("insecure_threshold", p.insecure_threshold));
  } else {
    uint8_t b = p.insecure_threshold | (p.sparse != SparseKind::none ? kSparseFollows : 0) |
                (p.threat != ThreatModel::honest_but_curious ? kActiveFollows : 0) |
                (p.is_shard() || p.shard_clients != 0 ? kFederationFollows : 0) | (p.private_dp() ? kDpFollows : 0);
    ar(cereal::make_nvp("insecure_threshold", b));
  }
  bool sparse_follows = p.sparse != SparseKind::none;
  bool active_follows = p.threat != ThreatModel::honest_but_curious;
  bool federation_follows = p.is_shard() || p.shard_clients != 0;
  bool dp_follows = p.private_dp();
  if constexpr (ser::is_input<A>) {
    sparse_follows = (p.insecure_threshold & kSparseFollows) != 0;
    active_follows = (p.insecure_threshold & kActiveFollows) != 0;
    federation_follows = (p.insecure_threshold & kFederationFollows) != 0;
    dp_follows = (p.insecure_threshold & kDpFollows) != 0;
    p.insecure_threshold &= static_cast<uint8_t>(~(kSparseFollows | kActiveFollows | kFederationFollows | kDpFollows));
  }
  ar(cereal::make_nvp("quant_bits", p.quant_bits));
  serialize_double(ar, "clip", p.clip);  // a forged body may carry NaN, and inspect must still print JSON
  ar(cereal::make_nvp("max_weight", p.max_weight));
  if (sparse_follows) {
    serialize_kind(ar, "sparse", p.sparse, sparse_name, "its sparse fields follow but name no sparse kind");
    ar(cereal::make_nvp("model_length", p.model_length), cereal::make_nvp("per_client", p.per_client),
       cereal::make_nvp("union_cells", p.union_cells), cereal::make_nvp("selection", ser::fixed(p.selection)));
  }
  if (active_follows) serialize_active(ar, p);
  if (federation_follows) {
    ar(cereal::make_nvp("parent", ser::fixed(p.parent)), cereal::make_nvp("shard_clients", p.shard_clients));
    if constexpr (ser::is_input<A>) {
      if (!p.is_shard() && p.shard_clients == 0)
        throw Error(Exit::data, "its federation fields follow but are all zero");
    }
  }
  if (dp_follows) serialize_dp(ar, p);
}

// The active-mode fields of Params (docs/security.md, "Active mode").
template <class A>
void serialize_active(A& ar, Params& p) {
  serialize_kind(ar, "threat_model", p.threat, threat_model_name,
                 "its active-mode fields follow but name no threat model");
  ar(cereal::make_nvp("corrupt", p.corrupt), cereal::make_nvp("ca_pk", ser::fixed(p.ca_pk)));
}

// The distributed-DP fields of Params (docs/privacy.md).
template <class A>
void serialize_dp(A& ar, Params& p) {
  serialize_kind(ar, "dp", p.dp, dp_name, "its distributed-DP fields follow but name no mechanism");
  serialize_double(ar, "l2_clip", p.dp_l2_clip);
  serialize_double(ar, "noise_multiplier", p.dp_noise_multiplier);
  serialize_double(ar, "beta", p.dp_beta);
  serialize_double(ar, "scale", p.dp_scale);
  serialize_double(ar, "delta", p.dp_delta);
  ar(cereal::make_nvp("contributors", p.dp_contributors), cereal::make_nvp("input_length", p.dp_input_length));
}

template <class A>
void serialize(A& ar, Certificate& c) {
  ar(cereal::make_nvp("id", c.id), cereal::make_nvp("identity_pk", ser::fixed(c.identity_pk)),
     cereal::make_nvp("ca_pk", ser::fixed(c.ca_pk)), cereal::make_nvp("expires", c.expires),
     cereal::make_nvp("signature", ser::fixed(c.signature)));
}

template <class A>
void serialize(A& ar, Attestation& a) {
  ar(cereal::make_nvp("certificate", a.cert), cereal::make_nvp("binding", ser::fixed(a.binding)));
}

// An optional attestation at the end of a body: written when present, read when bytes remain.
template <class A>
void trailing_attestation(A& ar, std::optional<Attestation>& a) {
  if constexpr (ser::is_input<A>) {
    if (!ser::more_input()) return;
    a.emplace();
  }
  if (a) ar(cereal::make_nvp("attestation", *a));
}

template <class A>
void serialize(A& ar, AdvertiseKeys& k) {
  ar(cereal::make_nvp("c_pk", ser::fixed(k.c_pk)), cereal::make_nvp("s_pk", ser::fixed(k.s_pk)),
     cereal::make_nvp("sig_pk", ser::fixed(k.sig_pk)));
  trailing_attestation(ar, k.attestation);
}

// An entry's attestation travels in the roster's second list (binary), or inside the entry (JSON).
template <class A>
void serialize(A& ar, RosterEntry& e) {
  ar(cereal::make_nvp("id", e.id), cereal::make_nvp("c_pk", ser::fixed(e.c_pk)),
     cereal::make_nvp("s_pk", ser::fixed(e.s_pk)), cereal::make_nvp("sig_pk", ser::fixed(e.sig_pk)));
  if constexpr (ser::is_text<A>)
    if (e.attestation) ar(cereal::make_nvp("attestation", *e.attestation));
}

// A roster: its entries, then, in an active session, one attestation per entry in entry order.
// `attested` says whether the list is there; unset, it is there if bytes remain (a roster message
// ends with it; a client state knows from its params).
template <class A>
void roster_fields(A& ar, Roster& r, std::optional<bool> attested) {
  ar(cereal::make_nvp("clients", ser::list(r.clients)));
  if constexpr (ser::is_text<A>) {
    return;
  } else if constexpr (ser::is_input<A>) {
    if (!(attested ? *attested : ser::more_input())) return;
    std::vector<Attestation> a;
    ar(cereal::make_nvp("attestations", ser::list(a)));
    if (a.size() != r.clients.size())
      throw Error(Exit::data, "its attestations do not match its entries one for one");
    for (size_t i = 0; i < a.size(); ++i) r.clients[i].attestation = a[i];
  } else {
    const bool any = std::any_of(r.clients.begin(), r.clients.end(), [](const RosterEntry& e) { return e.attestation; });
    if (!(attested ? *attested : any)) return;
    std::vector<Attestation> a;
    for (const auto& e : r.clients) {
      if (!e.attestation) throw Error(Exit::software, "an attested roster has an entry without an attestation");
      a.push_back(*e.attestation);
    }
    ar(cereal::make_nvp("attestations", ser::list(a)));
  }
}

template <class A>
void serialize(A& ar, Roster& r) { roster_fields(ar, r, std::nullopt); }

// A window slot: id, a flags byte (bit 0: the id is in U1 and its entry's keys follow; bit 1: an
// attestation follows them), then the proof.
template <class A>
void serialize(A& ar, WindowSlot& s) {
  ar(cereal::make_nvp("id", s.id));
  if constexpr (ser::is_text<A>) {
    if (s.entry) {
      ar(cereal::make_nvp("c_pk", ser::fixed(s.entry->c_pk)), cereal::make_nvp("s_pk", ser::fixed(s.entry->s_pk)),
         cereal::make_nvp("sig_pk", ser::fixed(s.entry->sig_pk)));
      if (s.entry->attestation) ar(cereal::make_nvp("attestation", *s.entry->attestation));
    } else {
      ar(cereal::make_nvp("in_u1", false));
    }
  } else {
    constexpr uint8_t kPresent = 1, kAttested = 2;
    uint8_t flags = 0;
    if constexpr (!ser::is_input<A>) flags = s.entry ? (kPresent | (s.entry->attestation ? kAttested : 0)) : 0;
    ar(cereal::make_nvp("flags", flags));
    if (flags & ~(kPresent | kAttested) || flags == kAttested)
      throw Error(Exit::data, fmt::format("window slot of client {} has unknown flags {:#x}", s.id, flags));
    if (flags & kPresent) {
      if constexpr (ser::is_input<A>) s.entry.emplace();
      s.entry->id = s.id;
      ar(cereal::make_nvp("c_pk", ser::fixed(s.entry->c_pk)), cereal::make_nvp("s_pk", ser::fixed(s.entry->s_pk)),
         cereal::make_nvp("sig_pk", ser::fixed(s.entry->sig_pk)));
      if (flags & kAttested) {
        if constexpr (ser::is_input<A>) s.entry->attestation.emplace();
        ar(cereal::make_nvp("attestation", *s.entry->attestation));
      }
    }
  }
  std::vector<ser::DigestField> path;
  if constexpr (!ser::is_input<A>)
    for (const Digest32& d : s.path) path.push_back({d});
  ar(cereal::make_nvp("path", ser::list(path)));
  if constexpr (ser::is_input<A>) {
    s.path.clear();
    for (const auto& f : path) s.path.push_back(f.d);
  }
}

template <class A>
void serialize(A& ar, Neighbourhood& n) {
  ar(cereal::make_nvp("u1", n.u1), cereal::make_nvp("slots", ser::list(n.slots)));
}

}  // namespace secagg

namespace secagg::ser {
// A roster inside a client state, whose params say whether its attestations are there.
struct RosterOf {
  Roster& r;
  bool attested;
};
template <class A>
void serialize(A& ar, RosterOf& r) { roster_fields(ar, r.r, r.attested); }
}  // namespace secagg::ser

namespace secagg {

template <class A>
void serialize(A& ar, SealedShare& s) {
  ar(cereal::make_nvp("peer", s.peer), cereal::make_nvp("nonce", ser::fixed(s.nonce)),
     cereal::make_nvp("ciphertext", ser::blob(s.ciphertext)));
}

template <class A>
void serialize(A& ar, ShareCommitment& c) {
  ar(cereal::make_nvp("key", ser::fixed(c.key)), cereal::make_nvp("mask", ser::fixed(c.mask)));
}

// A list at the end of a body that is written only when it is not empty (an active session's
// commitments, a responder's missing owners) and read when bytes remain.
template <class A, class T>
void trailing_list(A& ar, const char* name, std::vector<T>& v) {
  if constexpr (ser::is_input<A>) {
    if (!ser::more_input()) return;
  } else {
    if (v.empty()) return;
  }
  ar(cereal::make_nvp(name, ser::list(v)));
}

template <class A>
void serialize(A& ar, SealedShares& s) {
  ar(cereal::make_nvp("shares", ser::list(s.shares)));
  trailing_list(ar, "commitments", s.commitments);
  if constexpr (ser::is_input<A>)
    if (!s.commitments.empty() && s.commitments.size() != s.shares.size())
      throw Error(Exit::data, "its commitments do not match its shares one for one");
}

template <class A>
void serialize(A& ar, RingVector& v) {
  ar(cereal::make_nvp("modulus", v.modulus), cereal::make_nvp("length", v.length),
     cereal::make_nvp("packed", ser::blob(v.packed)));
}

template <class A>
void serialize(A& ar, UnmaskPart& u) {
  ar(cereal::make_nvp("modulus", u.modulus), cereal::make_nvp("total", u.total), cereal::make_nvp("offset", u.offset),
     cereal::make_nvp("count", u.count), cereal::make_nvp("inputs", ser::fixed(u.inputs)),
     cereal::make_nvp("responders", ser::list(u.responders)), cereal::make_nvp("packed", ser::blob(u.packed)));
}

template <class A>
void serialize(A& ar, IdList& l) { ar(cereal::make_nvp("ids", ser::list(l.ids))); }

template <class A>
void serialize(A& ar, OwnedShare& s) { ar(cereal::make_nvp("owner", s.owner), cereal::make_nvp("share", s.share)); }

template <class A>
void serialize(A& ar, UnmaskShares& u) {
  ar(cereal::make_nvp("self_mask", ser::list(u.self_mask)), cereal::make_nvp("mask_key", ser::list(u.mask_key)));
  trailing_list(ar, "missing", u.missing);
}

template <class A>
void serialize(A& ar, Notice& n) {
  ar(cereal::make_nvp("kind", n.kind), cereal::make_nvp("retry_after_ms", n.retry_after_ms));
  if constexpr (ser::is_text<A>) {
    ar(cereal::make_nvp("reason", n.reason));
  } else {
    // Read as a byte field, whose announced size is checked against the body before allocating.
    Bytes b(n.reason.begin(), n.reason.end());
    ar(cereal::make_nvp("reason", ser::blob(b)));
    n.reason.assign(b.begin(), b.end());
  }
}

template <class A>
void serialize(A& ar, Selection& s) {
  if constexpr (ser::is_text<A>) {
    ar(cereal::make_nvp("mode", std::string(sparse_name(s.mode))));
  } else {
    auto mode = static_cast<uint8_t>(s.mode);
    ar(cereal::make_nvp("mode", mode));
    s.mode = static_cast<SparseKind>(mode);
  }
  ar(cereal::make_nvp("model_length", s.model_length), cereal::make_nvp("indices", ser::list(s.indices)));
  if constexpr (ser::is_text<A>) {
    // JSON has no NaN or infinity; a forged body may carry them.
    if (!std::isfinite(s.r_max))
      ar(cereal::make_nvp("r_max", std::string(std::isnan(s.r_max) ? "nan" : "inf")));
    else
      ar(cereal::make_nvp("r_max", s.r_max));
  } else {
    ar(cereal::make_nvp("r_max", s.r_max));
  }
}

template <class A>
void serialize(A& ar, Identity& i) {
  ar(cereal::make_nvp("seed", ser::secret(i.seed)), cereal::make_nvp("pk", ser::fixed(i.pk)));
}

template <class A>
void serialize(A& ar, IdentityPublic& i) { ar(cereal::make_nvp("pk", ser::fixed(i.pk))); }

template <class A>
void serialize(A& ar, SurvivorSignature& s) { ar(cereal::make_nvp("signature", ser::fixed(s.signature))); }

template <class A>
void serialize(A& ar, SignedBy& s) {
  ar(cereal::make_nvp("id", s.id), cereal::make_nvp("signature", ser::fixed(s.signature)));
}

template <class A>
void serialize(A& ar, Consistency& c) {
  ar(cereal::make_nvp("u3", ser::list(c.u3)), cereal::make_nvp("signatures", ser::list(c.signatures)));
}

template <class A>
void serialize(A& ar, HeldShares& h) {
  ar(cereal::make_nvp("from", h.from), cereal::make_nvp("key_share", h.key_share),
     cereal::make_nvp("mask_share", h.mask_share));
}

template <class A>
void serialize(A& ar, PeerKey& k) {
  ar(cereal::make_nvp("peer", k.peer), cereal::make_nvp("key", ser::secret(k.key)));
}

template <class A>
void serialize(A& ar, ClientState& s) {
  ar(cereal::make_nvp("params", s.params), cereal::make_nvp("session", ser::fixed(s.session)),
     cereal::make_nvp("id", s.id), cereal::make_nvp("stage", s.stage), cereal::make_nvp("c_sk", ser::secret(s.c_sk)),
     cereal::make_nvp("s_sk", ser::secret(s.s_sk)), cereal::make_nvp("b_seed", ser::secret(s.b_seed)),
     cereal::make_nvp("sig_seed", ser::secret(s.sig_seed)), cereal::make_nvp("c_pk", ser::fixed(s.c_pk)),
     cereal::make_nvp("s_pk", ser::fixed(s.s_pk)), cereal::make_nvp("sig_pk", ser::fixed(s.sig_pk)));
  // A call of its own: whether the roster is attested depends on the params just read.
  ar(cereal::make_nvp("roster", ser::RosterOf{s.roster, s.params.active()}));
  ar(cereal::make_nvp("share_keys", ser::list(s.share_keys)),
     cereal::make_nvp("mask_seeds", ser::list(s.mask_seeds)), cereal::make_nvp("u2", ser::list(s.u2)),
     cereal::make_nvp("held", ser::list(s.held)), cereal::make_nvp("u3", ser::list(s.u3)),
     cereal::make_nvp("answered", ser::fixed(s.answered)), cereal::make_nvp("input", ser::Fixed<32>{s.input, true}),
     cereal::make_nvp("sent", ser::blob(s.sent)));
  if (s.params.active()) {
    if constexpr (ser::is_input<A>) s.attestation.emplace();
    if (!s.attestation) throw Error(Exit::software, "an active session's client state has no attestation");
    ar(cereal::make_nvp("attestation", *s.attestation));
  }
  if (s.params.clients >= 2 && s.params.neighbours < s.params.clients - 1) {  // SecAgg+
    uint8_t whole = s.ring_whole;
    ar(cereal::make_nvp("ring", ser::list(s.ring)), cereal::make_nvp("ring_whole", whole));
    if (whole > 1) throw Error(Exit::data, "its ring_whole flag is neither 0 nor 1");
    s.ring_whole = whole != 0;
  }
}

}  // namespace secagg
