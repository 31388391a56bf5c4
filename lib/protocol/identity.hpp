// Long-term identities and the certificates that bind them to client ids: the first piece of the
// active mode (docs/security.md, "A lying server beats t > n/2"; Bonawitz et al., "Practical
// Secure Aggregation for Privacy-Preserving Machine Learning", the malicious-server setting,
// where a PKI lets clients know each other's signing keys). An identity is an Ed25519 key; a
// certificate is a CA identity's signature binding a client id to an identity public key.
// The files are secagg messages of types identity, identity-public and certificate
// (man/secagg-formats.5), all with session id zero: they are valid across sessions.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "bytes.hpp"
#include "crypto.hpp"
#include "envelope.hpp"
#include "messages.hpp"

namespace secagg {

// The domain-separation labels that start the bytes each signature covers.
inline constexpr std::string_view kCertificateLabel = "secagg/v1 certificate";
inline constexpr std::string_view kAdvertLabel = "secagg/v1 advert";
inline constexpr std::string_view kConsistencyLabel = "secagg/v1 consistency";

// A new identity from random_bytes (random.hpp): seed and its Ed25519 public key.
Identity make_identity();
// The bytes a CA signs: kCertificateLabel || le32 id || identity_pk || le64 expires.
Bytes certificate_signed_bytes(uint32_t id, const Key32& identity_pk, uint64_t expires);
// The certificate by `ca` that client `id` owns identity_pk, until `expires` (Unix seconds,
// 0 = never). Error(Exit::usage) for id 0 (the server's).
Certificate certify(const Identity& ca, uint32_t id, const Key32& identity_pk, uint64_t expires);

// The three messages; their envelopes carry session id zero, sender 0, and recipient 0 except a
// certificate's, which is the client it certifies.
Bytes encode_identity(const Identity& id);
Bytes encode_identity_public(const Key32& pk);
Bytes encode_certificate(const Certificate& cert);
// Decode an envelope already opened (open_envelope) as each type, checking its header (type,
// zero session, sender, recipient) and its body (an identity's pk is its seed's; a certificate's
// id is not 0). Error(Exit::data) starting with origin ("malformed" for a bad body).
Identity decode_identity(const Envelope& env, const std::string& origin);
Key32 decode_identity_public(const Envelope& env, const std::string& origin);
Certificate decode_certificate(const Envelope& env, const std::string& origin);

// Checks that cert is ca_pk's, for client id, unexpired at `now` (Unix seconds) and correctly
// signed. Error(Exit::data), one line starting with origin, naming what is wrong: "issued by
// another CA", "certifies client X, not Y", "bad signature", "expired".
void verify_certificate(const Certificate& cert, const Key32& ca_pk, uint32_t id, uint64_t now,
                        const std::string& origin = "certificate");

// The current time in Unix seconds, which certificates' expiry is checked against.
uint64_t unix_now();

// ---- Active sessions (docs/security.md, "Active mode") ---------------------------------------

// The bytes a client's identity signs in round 0: kAdvertLabel || session id || le32 id || c_pk ||
// s_pk || sig_pk. It binds the session's keys, the signing key above all, to the certified id.
Bytes advert_signed_bytes(const SessionId& sid, uint32_t id, const AdvertiseKeys& keys);
// What a client of an active session attaches to its advert. Checks first that cert is ca_pk's,
// for this id, unexpired at now, and certifies identity's own key: Error(Exit::usage) naming
// cert_origin otherwise (the client's own files do not fit the session).
Attestation attest(const Identity& identity, const Certificate& cert, const Key32& ca_pk, const SessionId& sid,
                   uint32_t id, const AdvertiseKeys& keys, uint64_t now, const std::string& cert_origin);
// Checks a's certificate (verify_certificate against ca_pk, for id, at now) and its binding of
// keys by the certified identity. Error(Exit::data) starting with origin: "certificate issued by
// another CA", ..., "bad identity signature over its round-0 keys".
void verify_attestation(const Attestation& a, const Key32& ca_pk, const SessionId& sid, uint32_t id,
                        const AdvertiseKeys& keys, uint64_t now, const std::string& origin);

// The bytes a client signs in round 3: kConsistencyLabel || session id || le32 id ||
// BLAKE2b-256(le32 count || le32 ids of its view of U3). Hashing the view first keeps each
// signature's input at 100 bytes, and lets a checker hash one view once for all its signers (in
// full SecAgg every view is U3 itself).
Digest32 survivor_digest(std::span<const uint32_t> ids);
Bytes consistency_signed_bytes(const SessionId& sid, uint32_t id, const Digest32& view);
Bytes consistency_signed_bytes(const SessionId& sid, uint32_t id, std::span<const uint32_t> view);

}  // namespace secagg
