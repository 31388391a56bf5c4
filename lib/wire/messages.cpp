#include "messages.hpp"

#include <algorithm>
#include <sstream>

#include <cereal/archives/json.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "error.hpp"
#include "le.hpp"
#include "message_serialize.hpp"
#include "pack.hpp"
#include "signature.hpp"

namespace secagg {

const char* sparse_name(SparseKind k) {
  switch (k) {
    case SparseKind::none: return "none";
    case SparseKind::union_plain: return "union-plain";
    case SparseKind::union_private: return "union-private";
    case SparseKind::values: return "values";
  }
  return "unknown";
}

const char* dp_name(DpKind k) {
  switch (k) {
    case DpKind::none: return "none";
    case DpKind::ddg: return "ddg";
  }
  return "unknown";
}

const char* threat_model_name(ThreatModel m) {
  switch (m) {
    case ThreatModel::honest_but_curious: return "honest-but-curious";
    case ThreatModel::active: return "active";
  }
  return "unknown";
}

std::vector<uint32_t> Consistency::signer_ids() const {
  std::vector<uint32_t> ids;
  ids.reserve(signatures.size());
  for (const SignedBy& s : signatures) ids.push_back(s.id);
  return ids;
}

const RosterEntry* Roster::find(uint32_t id) const {
  auto it = std::lower_bound(clients.begin(), clients.end(), id,
                             [](const RosterEntry& e, uint32_t v) { return e.id < v; });
  return it != clients.end() && it->id == id ? &*it : nullptr;
}

std::vector<uint32_t> Roster::ids() const {
  std::vector<uint32_t> out;
  out.reserve(clients.size());
  for (auto& e : clients) out.push_back(e.id);
  return out;
}

namespace {

// An output streambuf appending to a byte vector: cereal writes the body straight into the
// buffer that becomes the envelope's, with no string in between.
template <class Vec>
struct AppendBuf : std::streambuf {
  Vec& out;
  explicit AppendBuf(Vec& v) : out(v) {}
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const auto* p = reinterpret_cast<const uint8_t*>(s);
    out.insert(out.end(), p, p + n);
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) out.push_back(static_cast<uint8_t>(c));
    return traits_type::not_eof(c);
  }
};

template <class T, class Vec>
void archive_into(Vec& out, const T& body) {
  AppendBuf<Vec> buf(out);
  std::ostream os(&buf);
  cereal::PortableBinaryOutputArchive ar(os);
  ar(const_cast<T&>(body));
}

Envelope header_only(MsgType type, const SessionId& session, uint32_t sender, uint32_t recipient) {
  Envelope env;
  env.type = type;
  env.round = round_of(type);
  env.session = session;
  env.sender = sender;
  env.recipient = recipient;
  return env;
}

// A streambuf that counts what it is given and keeps none of it.
struct CountBuf : std::streambuf {
  uint64_t n = 0;
  std::streamsize xsputn(const char*, std::streamsize k) override {
    n += static_cast<uint64_t>(k);
    return k;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) ++n;
    return traits_type::not_eof(c);
  }
};

// The body of a secret type (a client state, an identity) is measured first, then archived into
// a buffer reserved for the whole message, which never reallocates (a reallocation would leave a
// copy of its secrets in freed memory) and becomes the message: one buffer, one copy of the body.
// A client state after round 2 holds the masked input it sent, megabytes.
template <class T>
Bytes encode_state(MsgType type, const SessionId& session, uint32_t sender, uint32_t recipient, const T& body) {
  CountBuf count;
  {
    std::ostream os(&count);
    cereal::PortableBinaryOutputArchive ar(os);
    ar(const_cast<T&>(body));
  }
  const size_t total = kHeaderBytes + static_cast<size_t>(count.n) + trailer_bytes(static_cast<uint8_t>(type));
  Bytes framed;
  framed.reserve(total);
  framed.resize(kHeaderBytes);
  try {
    archive_into(framed, body);
    if (framed.size() != kHeaderBytes + count.n)
      throw Error(Exit::software, "a secret body archived to another size than it measured");
    Bytes out = seal_framed(header_only(type, session, sender, recipient), std::move(framed));
    if (out.size() != total) {
      sodium_memzero(out.data(), out.size());
      throw Error(Exit::software, "a secret message sealed to another size than it measured");
    }
    return out;
  } catch (...) {
    sodium_memzero(framed.data(), framed.size());  // still here unless sealed
    throw;
  }
}

// Any other body is archived straight into the buffer that becomes the message.
template <class T>
Bytes encode_with(MsgType type, const SessionId& session, uint32_t sender, uint32_t recipient, const T& body,
                  const ChecksumSigner* sign) {
  if (secret_type(type)) return encode_state(type, session, sender, recipient, body);
  Bytes framed(kHeaderBytes);
  archive_into(framed, body);
  return seal_framed(header_only(type, session, sender, recipient), std::move(framed), sign);
}

}  // namespace

Bytes encode_ring_vector_with(MsgType type, const SessionId& session, uint32_t sender, uint32_t recipient, Modulus m,
                              uint64_t length, const std::function<void(uint8_t* packed)>& fill,
                              const Secret32* signing_seed) {
  // The body as cereal writes RingVector{R, n, packed}: the fields and the blob's size tag
  // through the archive, then the packed words written in place by `fill`.
  const size_t packed = packed_size(static_cast<size_t>(length), m.bits());
  Bytes framed(kHeaderBytes);
  framed.reserve(kHeaderBytes + 64 + packed + kChecksumBytes + kSignatureBytes);
  {
    uint64_t modulus = m.R;
    AppendBuf<Bytes> buf(framed);
    std::ostream os(&buf);
    cereal::PortableBinaryOutputArchive ar(os);
    ar(modulus, length, cereal::make_size_tag(static_cast<cereal::size_type>(packed)));
  }
  const size_t at = framed.size();
  framed.resize(at + packed);
  fill(framed.data() + at);
  const Envelope header = header_only(type, session, sender, recipient);
  if (!signing_seed) return seal_framed(header, std::move(framed));
  const ChecksumSigner sign = [&](const Digest32& checksum) { return sign_checksum(*signing_seed, checksum); };
  return seal_framed(header, std::move(framed), &sign);
}

Bytes encode_ring_vector(MsgType type, const SessionId& session, uint32_t sender, uint32_t recipient, Modulus m,
                         std::span<const uint64_t> v, const Secret32* signing_seed) {
  return encode_ring_vector_with(
      type, session, sender, recipient, m, v.size(), [&](uint8_t* packed) { pack_into(v, m.bits(), packed); },
      signing_seed);
}

template <class T>
Bytes encode(MsgType type, const SessionId& session, uint32_t sender, uint32_t recipient, const T& body) {
  return encode_with(type, session, sender, recipient, body, nullptr);
}

template <class T>
Bytes encode_signed(MsgType type, const SessionId& session, uint32_t sender, uint32_t recipient, const T& body,
                    const Secret32& signing_seed) {
  const ChecksumSigner sign = [&](const Digest32& checksum) { return sign_checksum(signing_seed, checksum); };
  return encode_with(type, session, sender, recipient, body, &sign);
}

namespace {
// A streambuf over a byte span that never copies it (the body may hold secrets).
struct SpanBuf : std::streambuf {
  explicit SpanBuf(const Bytes& b) {
    char* p = reinterpret_cast<char*>(const_cast<uint8_t*>(b.data()));
    setg(p, p, p + b.size());
  }
  std::streamsize remaining() const { return egptr() - gptr(); }
};
}  // namespace

template <class T>
T decode_body(const Envelope& env, const std::string& origin) {
  // cereal's portable archive starts with an endianness byte and would byte-swap a body
  // marked big-endian; secagg writes little-endian only, so one encoding per message.
  if (env.body.empty() || env.body[0] != 1)
    throw Error(Exit::data, fmt::format("{}: malformed {} body: it does not start with the little-endian marker 0x01",
                                        origin, type_name(env.type)));
  SpanBuf buf(env.body);
  std::istream is(&buf);
  T body{};
  ser::count_limit = env.body.size();
  ser::input = &buf;
  try {
    cereal::PortableBinaryInputArchive ar(is);
    ar(body);
  } catch (const Error& e) {
    ser::count_limit = UINT64_MAX;
    ser::input = nullptr;
    throw Error(Exit::data, fmt::format("{}: malformed {} body: {}", origin, type_name(env.type), e.what()));
  } catch (const std::exception& e) {
    ser::count_limit = UINT64_MAX;
    ser::input = nullptr;
    throw Error(Exit::data, fmt::format("{}: malformed {} body (truncated or corrupted)", origin, type_name(env.type)));
  }
  ser::count_limit = UINT64_MAX;
  ser::input = nullptr;
  if (buf.remaining() != 0)
    throw Error(Exit::data, fmt::format("{}: {} body has {} unexpected trailing bytes", origin, type_name(env.type),
                                        buf.remaining()));
  return body;
}

RingVectorView view_ring_vector(const Envelope& env, const std::string& origin) {
  // As cereal writes it (encode_ring_vector_with): the little-endian marker, the modulus, the
  // length and the blob's size tag, 8 bytes each, then exactly that many packed bytes.
  constexpr size_t kFields = 1 + 3 * 8;
  const Bytes& b = env.body;
  if (b.size() >= kFields && b[0] == 1 && le::get64(b.data() + 17) == b.size() - kFields)
    return {le::get64(b.data() + 1), le::get64(b.data() + 9), std::span(b).subspan(kFields)};
  // Anything else is malformed: decode_body says how, as it always has.
  decode_body<RingVector>(env, origin);
  throw Error(Exit::software, origin + ": a RingVector body decoded that view_ring_vector could not read");
}

#define SECAGG_BODY(T)                                                                                     \
  template Bytes encode<T>(MsgType, const SessionId&, uint32_t, uint32_t, const T&);                     \
  template Bytes encode_signed<T>(MsgType, const SessionId&, uint32_t, uint32_t, const T&, const Secret32&); \
  template T decode_body<T>(const Envelope&, const std::string&);
SECAGG_BODY(Params)
SECAGG_BODY(AdvertiseKeys)
SECAGG_BODY(Roster)
SECAGG_BODY(SealedShares)
SECAGG_BODY(RingVector)
SECAGG_BODY(IdList)
SECAGG_BODY(Selection)
SECAGG_BODY(UnmaskShares)
SECAGG_BODY(ClientState)
SECAGG_BODY(Notice)
SECAGG_BODY(Identity)
SECAGG_BODY(IdentityPublic)
SECAGG_BODY(Certificate)
SECAGG_BODY(SurvivorSignature)
SECAGG_BODY(Consistency)
SECAGG_BODY(Neighbourhood)
SECAGG_BODY(UnmaskPart)
#undef SECAGG_BODY

namespace {

// f(std::type_identity<B>{}) for the body struct B of a valid type, from the table.
template <class F>
void with_body_type(MsgType type, F&& f) {
  switch (type) {
#define SECAGG_X(wire, id, ...) \
  case MsgType::id: f(std::type_identity<Body<MsgType::id>>{}); return;
    SECAGG_MESSAGE_TYPES(SECAGG_X)
#undef SECAGG_X
  }
  throw Error(Exit::software, fmt::format("message type {} has no row in the table", static_cast<unsigned>(type)));
}

}  // namespace

std::string to_json(const Envelope& env, bool show_secrets, const std::string& origin) {
  std::ostringstream os;
  ser::show_secrets = show_secrets;
  {
    cereal::JSONOutputArchive ar(os, cereal::JSONOutputArchive::Options::Default());
    std::string type(type_name(env.type));
    std::string session = session_hex(env.session);
    uint32_t round = round_number(env.round), version = kFormatVersion;
    ar(cereal::make_nvp("type", type), cereal::make_nvp("version", version), cereal::make_nvp("round", round),
       cereal::make_nvp("session", session), cereal::make_nvp("sender", env.sender),
       cereal::make_nvp("recipient", env.recipient));
    // Not secret; shown whole so that an auditor can check it against the roster's sig_pk.
    if (env.signature) {
      std::string sig = to_hex(*env.signature);
      ar(cereal::make_nvp("signature", sig));
    }
    with_body_type(env.type, [&]<class B>(std::type_identity<B>) {
      B body = decode_body<B>(env, origin);
      ar(cereal::make_nvp("body", body));
    });
  }
  ser::show_secrets = false;
  os << "\n";
  return os.str();
}

std::string id_list_text(const std::vector<uint32_t>& ids) {
  if (ids.empty()) return "-";
  const size_t shown = std::min(ids.size(), kSummaryIds);
  std::string out = fmt::format("{}", fmt::join(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(shown), ","));
  if (ids.size() > shown) out += fmt::format(",...(+{})", ids.size() - shown);
  return out;
}

namespace {

// The body part of a summary line, one overload per body struct.
std::string describe(const Params& p, MsgType) {
  std::string what = fmt::format("clients={} threshold={} neighbours={} modulus={} length={} prg={}", p.clients,
                                 p.threshold, p.neighbours, p.modulus, p.length, prg_name(p.prg_kind()));
  if (p.quantized()) what += fmt::format(" bits={} clip={} max_weight={}", p.quant_bits, p.clip, p.max_weight);
  if (p.sparse != SparseKind::none)
    what += fmt::format(" sparse={} model_length={}", sparse_name(p.sparse), p.model_length);
  if (p.insecure_threshold) what += " insecure_low_threshold=yes";
  if (p.threat != ThreatModel::honest_but_curious)
    what += fmt::format(" threat_model={} corrupt={}", threat_model_name(p.threat), p.corrupt);
  if (p.is_shard()) what += " shard_of=" + session_hex(p.parent);
  if (p.shard_clients) what += fmt::format(" shard_clients={}", p.shard_clients);
  if (p.private_dp())
    what += fmt::format(" dp={} l2_clip={} noise_multiplier={} contributors={} input_length={}", dp_name(p.dp),
                        p.dp_l2_clip, p.dp_noise_multiplier, p.dp_contributors, p.dp_input_length);
  return what;
}
std::string describe(const Roster& r, MsgType) {
  const bool certified = !r.clients.empty() && r.clients.front().attestation;
  return fmt::format("u1={}{}", r.clients.size(), certified ? " certified=yes" : "");
}
std::string describe(const Neighbourhood& n, MsgType) {
  const auto in_u1 = std::count_if(n.slots.begin(), n.slots.end(), [](const WindowSlot& s) { return s.entry.has_value(); });
  return fmt::format("u1={} slots={} in_u1={}", n.u1, n.slots.size(), in_u1);
}
std::string describe(const SealedShares& s, MsgType) {
  return fmt::format("shares={}{}", s.shares.size(), s.commitments.empty() ? "" : " committed=yes");
}
std::string describe(const RingVector& v, MsgType) { return fmt::format("modulus={} length={}", v.modulus, v.length); }
std::string describe(const IdList& l, MsgType type) {
  return (type == MsgType::survivors ? "u3=" : type == MsgType::server_round1 ? "u2=" : "ids=") + id_list_text(l.ids);
}
std::string describe(const UnmaskShares& u, MsgType) {
  std::string what = fmt::format("self_mask_shares={} mask_key_shares={}", u.self_mask.size(), u.mask_key.size());
  if (!u.missing.empty()) what += " missing=" + id_list_text(u.missing);
  return what;
}
std::string describe(const ClientState& s, MsgType) {
  return fmt::format("client={} stage={} u1={} u2={}", s.id, s.stage, s.roster.clients.size(), s.u2.size());
}
std::string describe(const Selection& s, MsgType) {
  return fmt::format("mode={} model_length={} selected={} r_max={}", sparse_name(s.mode), s.model_length,
                     s.indices.size(), s.r_max);
}
std::string describe(const Notice& n, MsgType) {
  return fmt::format("kind={} retry_after_ms={} reason_bytes={}", n.kind, n.retry_after_ms, n.reason.size());
}
// An identity's summary names its public key only: the seed is in --json --show-secrets.
std::string describe(const Identity& i, MsgType) { return "pk=" + to_hex(i.pk); }
std::string describe(const IdentityPublic& i, MsgType) { return "pk=" + to_hex(i.pk); }
std::string describe(const Certificate& c, MsgType) {
  return fmt::format("id={} identity_pk={} ca_pk={} expires={}", c.id, to_hex(c.identity_pk), to_hex(c.ca_pk),
                     c.expires == 0 ? std::string("never") : std::to_string(c.expires));
}
// The signature's presence is in the summary's envelope part already.
std::string describe(const SurvivorSignature&, MsgType) { return {}; }
std::string describe(const Consistency& c, MsgType) {
  return fmt::format("u3={} u4={}", id_list_text(c.u3), id_list_text(c.signer_ids()));
}

std::string describe(const UnmaskPart& u, MsgType) {
  return fmt::format("modulus={} length={} range={}:{} elements={} inputs={} responders={}", u.modulus, u.total,
                     u.offset, u.offset + u.count, u.count, to_hex(u.inputs).substr(0, 16), id_list_text(u.responders));
}

template <class B>
std::string describe_body(const Envelope& env, const std::string& origin) {
  return describe(decode_body<B>(env, origin), env.type);
}
// An advert's summary is its header: its keys are in --json (its body is not read here).
template <>
std::string describe_body<AdvertiseKeys>(const Envelope&, const std::string&) {
  return {};
}

}  // namespace

std::string summary(const Envelope& env, const std::string& origin) {
  std::string head = fmt::format("{} round={} session={} sender={} recipient={}", type_name(env.type),
                                 env.round == Round::none ? std::string("-") : std::to_string(round_number(env.round)),
                                 session_hex(env.session), env.sender, env.recipient);
  // Present, not verified: the key to check it against is in the roster (or, for an advert, the body).
  if (env.signature) head += " signature=present";
  std::string what;
  with_body_type(env.type, [&]<class B>(std::type_identity<B>) { what = describe_body<B>(env, origin); });
  return what.empty() ? head : head + " " + what;
}

}  // namespace secagg
