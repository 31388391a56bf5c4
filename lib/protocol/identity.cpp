#include "identity.hpp"

#include <ctime>

#include <fmt/format.h>

#include "error.hpp"
#include "le.hpp"
#include "random.hpp"

namespace secagg {

namespace {
const SessionId kNoSession{};

void check_header(const Envelope& env, MsgType type, uint32_t recipient, const std::string& origin) {
  if (env.type != type)
    throw Error(Exit::data, fmt::format("{}: is a message of type {}, not {}", origin, type_name(env.type),
                                        type_name(type)));
  if (env.session != kNoSession)
    throw Error(Exit::data, fmt::format("{}: malformed {}: its session id is not zero", origin, type_name(type)));
  if (env.sender != kServerId || env.recipient != recipient)
    throw Error(Exit::data, fmt::format("{}: malformed {}: sender {} and recipient {}, expected 0 and {}", origin,
                                        type_name(type), env.sender, env.recipient, recipient));
}
}  // namespace

Identity make_identity() {
  Identity id;
  random_bytes(id.seed.b.data(), id.seed.b.size());
  id.pk = ed25519_public(id.seed);
  return id;
}

Bytes certificate_signed_bytes(uint32_t id, const Key32& identity_pk, uint64_t expires) {
  Bytes out(kCertificateLabel.begin(), kCertificateLabel.end());
  uint8_t n[8];
  le::store32(n, id);
  out.insert(out.end(), n, n + 4);
  out.insert(out.end(), identity_pk.begin(), identity_pk.end());
  le::store64(n, expires);
  out.insert(out.end(), n, n + 8);
  return out;
}

Certificate certify(const Identity& ca, uint32_t id, const Key32& identity_pk, uint64_t expires) {
  if (id == 0) throw Error(Exit::usage, "a certificate is for a client id, 1 or more (0 is the server)");
  Certificate c;
  c.id = id;
  c.identity_pk = identity_pk;
  c.ca_pk = ca.pk;
  c.expires = expires;
  c.signature = ed25519_sign(ca.seed, certificate_signed_bytes(id, identity_pk, expires));
  return c;
}

Bytes encode_identity(const Identity& id) { return encode(MsgType::identity, kNoSession, kServerId, 0, id); }
Bytes encode_identity_public(const Key32& pk) {
  return encode(MsgType::identity_public, kNoSession, kServerId, 0, IdentityPublic{pk});
}
Bytes encode_certificate(const Certificate& cert) {
  return encode(MsgType::certificate, kNoSession, kServerId, cert.id, cert);
}

Identity decode_identity(const Envelope& env, const std::string& origin) {
  check_header(env, MsgType::identity, 0, origin);
  Identity id = decode_body<Identity>(env, origin);
  if (ed25519_public(id.seed) != id.pk)
    throw Error(Exit::data, origin + ": malformed identity: its public key is not its seed's");
  return id;
}

Key32 decode_identity_public(const Envelope& env, const std::string& origin) {
  check_header(env, MsgType::identity_public, 0, origin);
  return decode_body<IdentityPublic>(env, origin).pk;
}

Certificate decode_certificate(const Envelope& env, const std::string& origin) {
  if (env.type != MsgType::certificate) check_header(env, MsgType::certificate, 0, origin);
  // The recipient is the certified id, checked against the body once it is read.
  Certificate c = decode_body<Certificate>(env, origin);
  if (c.id == 0) throw Error(Exit::data, origin + ": malformed certificate: it certifies id 0 (the server)");
  check_header(env, MsgType::certificate, c.id, origin);
  return c;
}

void verify_certificate(const Certificate& cert, const Key32& ca_pk, uint32_t id, uint64_t now,
                        const std::string& origin) {
  if (cert.ca_pk != ca_pk)
    throw Error(Exit::data, fmt::format("{}: issued by another CA (ca_pk {}, expected {})", origin,
                                        to_hex(cert.ca_pk), to_hex(ca_pk)));
  if (cert.id != id) throw Error(Exit::data, fmt::format("{}: certifies client {}, not {}", origin, cert.id, id));
  if (!ed25519_verify(ca_pk, cert.signature, certificate_signed_bytes(cert.id, cert.identity_pk, cert.expires)))
    throw Error(Exit::data, fmt::format("{}: bad signature: the CA did not sign this certificate", origin));
  if (cert.expires != 0 && cert.expires <= now)
    throw Error(Exit::data, fmt::format("{}: expired at {} (Unix seconds; now {})", origin, cert.expires, now));
}

uint64_t unix_now() { return static_cast<uint64_t>(std::time(nullptr)); }

namespace {
void append32(Bytes& out, uint32_t v) {
  uint8_t b[4];
  le::store32(b, v);
  out.insert(out.end(), b, b + 4);
}
}  // namespace

Bytes advert_signed_bytes(const SessionId& sid, uint32_t id, const AdvertiseKeys& keys) {
  Bytes out(kAdvertLabel.begin(), kAdvertLabel.end());
  out.insert(out.end(), sid.begin(), sid.end());
  append32(out, id);
  for (const Key32* k : {&keys.c_pk, &keys.s_pk, &keys.sig_pk}) out.insert(out.end(), k->begin(), k->end());
  return out;
}

Attestation attest(const Identity& identity, const Certificate& cert, const Key32& ca_pk, const SessionId& sid,
                   uint32_t id, const AdvertiseKeys& keys, uint64_t now, const std::string& cert_origin) {
  try {
    verify_certificate(cert, ca_pk, id, now, cert_origin);
  } catch (const Error& e) {
    throw Error(Exit::usage, e.what());
  }
  if (cert.identity_pk != identity.pk)
    throw Error(Exit::usage, fmt::format("{}: certifies another identity than the one given (identity_pk {}, the "
                                         "identity's {})",
                                         cert_origin, to_hex(cert.identity_pk), to_hex(identity.pk)));
  return {cert, ed25519_sign(identity.seed, advert_signed_bytes(sid, id, keys))};
}

void verify_attestation(const Attestation& a, const Key32& ca_pk, const SessionId& sid, uint32_t id,
                        const AdvertiseKeys& keys, uint64_t now, const std::string& origin) {
  verify_certificate(a.cert, ca_pk, id, now, origin + ": certificate");
  if (!ed25519_verify(a.cert.identity_pk, a.binding, advert_signed_bytes(sid, id, keys)))
    throw Error(Exit::data, fmt::format("{}: bad identity signature over client {}'s round-0 keys (not signed by the "
                                        "identity its certificate names)",
                                        origin, id));
}

Digest32 survivor_digest(std::span<const uint32_t> ids) {
  Bytes list;
  list.reserve(4 * (ids.size() + 1));
  append32(list, static_cast<uint32_t>(ids.size()));
  for (uint32_t v : ids) append32(list, v);
  return blake2b_256(list);
}

Bytes consistency_signed_bytes(const SessionId& sid, uint32_t id, const Digest32& view) {
  Bytes out(kConsistencyLabel.begin(), kConsistencyLabel.end());
  out.insert(out.end(), sid.begin(), sid.end());
  append32(out, id);
  out.insert(out.end(), view.begin(), view.end());
  return out;
}

Bytes consistency_signed_bytes(const SessionId& sid, uint32_t id, std::span<const uint32_t> view) {
  return consistency_signed_bytes(sid, id, survivor_digest(view));
}

}  // namespace secagg
