#include "identity.hpp"

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

}  // namespace secagg
